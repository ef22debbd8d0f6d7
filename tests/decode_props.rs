//! Property tests: decoding and parsing arbitrary input never panics.

use proptest::prelude::*;
use tokenscope::jwt::{b64url, decode};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = decode(&s);
    }

    #[test]
    fn decode_dotted_garbage_never_panics(parts in proptest::collection::vec("[A-Za-z0-9_=+/-]{0,40}", 0..6)) {
        let _ = decode(&parts.join("."));
    }

    #[test]
    fn any_json_objects_round_trip(keys in proptest::collection::vec("[a-z]{1,8}", 1..8), n in any::<i64>()) {
        let mut payload = serde_json::Map::new();
        for k in &keys {
            payload.insert(k.clone(), serde_json::json!(n));
        }
        let t = format!("{}.{}.{}", b64url(b"{\"alg\":\"RS256\"}"), b64url(serde_json::Value::Object(payload.clone()).to_string().as_bytes()), b64url(b"s"));
        let jwt = decode(&t).unwrap();
        prop_assert_eq!(jwt.payload, payload);
    }

    #[test]
    fn www_authenticate_never_panics(s in ".{0,200}") {
        let _ = tokenscope::api::parse_www_authenticate(&s);
    }

    #[test]
    fn config_parse_never_panics(s in ".{0,300}") {
        let _ = tokenscope::config::ConfigFile::parse(&s, std::path::Path::new("x.toml"));
    }
}
