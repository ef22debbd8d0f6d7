//! Config file parsing never panics, and its errors render.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Err(e) = tokenscope::config::ConfigFile::parse(&s, std::path::Path::new("fuzz.toml")) {
        let _ = e.to_string();
    }
});
