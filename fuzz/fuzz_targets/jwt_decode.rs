//! JWT decoding (no trust) never panics, and what it decodes is consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = tokenscope::jwt::inspect(&s);
    if let Ok(jwt) = tokenscope::jwt::decode(&s) {
        let _ = jwt.alg();
        let _ = jwt.kid();
        let _ = jwt.claims.is_app_only();
        for role in &jwt.claims.roles {
            let _ = jwt.claims.has_role(role);
        }
    }
});
