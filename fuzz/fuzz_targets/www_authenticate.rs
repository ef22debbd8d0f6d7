//! `WWW-Authenticate` parsing never panics; every challenge has a scheme.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    for c in tokenscope::api::parse_www_authenticate(&s) {
        assert!(!c.scheme.is_empty());
        let _ = (c.error(), c.error_description(), c.scope());
    }
});
