//! `tokenscope decode [TOKEN | -]`.
//!
//! Reads the token from the argument or standard input (size-capped) and prints what
//! `jwt::decode` found; it verifies nothing.

use std::io::{IsTerminal, Read};

use serde_json::json;

use super::out::outln;
use super::{EXIT_USAGE, Failure, render};
use crate::jwt::{self, MAX_TOKEN_LEN};

pub fn decode(arg: Option<&str>, json_out: bool, explain: bool) -> Result<(), Failure> {
    let input = match arg {
        Some(t) if t != "-" => t.to_string(),
        _ => read_stdin()?,
    };
    let jwt =
        jwt::decode(&input).map_err(|e| Failure::problem(EXIT_USAGE, "decode", "decode", &e))?;
    if json_out {
        let mut out = json!({"header": jwt.header, "claims": jwt.payload});
        if explain {
            let docs: serde_json::Map<String, serde_json::Value> = jwt
                .payload
                .keys()
                .filter_map(|k| Some((k.clone(), json!(crate::diagnose::claim_doc(k)?))))
                .collect();
            out["explanations"] = serde_json::Value::Object(docs);
        }
        outln!("{}", crate::text::inert_json(&out));
    } else {
        outln!("(decoded only: the signature is not checked)");
        for line in render::jwt_lines(&jwt, &[]) {
            outln!("{line}");
        }
        if explain {
            outln!("\nwhat the claims mean:");
            for k in jwt.payload.keys() {
                if let Some(doc) = crate::diagnose::claim_doc(k) {
                    outln!("  {:<10} {doc}", crate::text::sanitize(k, false));
                }
            }
        }
    }
    Ok(())
}

fn read_stdin() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(
            Failure::new(EXIT_USAGE, "decode", "usage", "no token given").with_hint(
                "pass it as an argument, or pipe it: `echo $TOKEN | tokenscope decode -`",
            ),
        );
    }
    let mut buf = Vec::new();
    // Read one byte past the limit so an oversized input is reported, not silently cut.
    stdin
        .lock()
        .take(MAX_TOKEN_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| {
            Failure::new(
                EXIT_USAGE,
                "decode",
                "io",
                format!("cannot read standard input: {e}"),
            )
        })?;
    String::from_utf8(buf).map_err(|_| {
        Failure::new(
            EXIT_USAGE,
            "decode",
            "decode",
            "standard input is not UTF-8 text, so it is not a JWT",
        )
    })
}
