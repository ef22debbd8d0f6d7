//! A call to the protected API as the equivalent `curl` command line, for `tokenscope call
//! CITY --curl` and the dashboard's copy-as-curl.
//!
//! Pure: it takes the URL a call goes to (already built and checked by
//! [`super::weather_target`], the city percent-encoded), what stands for the token and the
//! profile's CA file, and returns one line. Every part is shell-quoted
//! ([`crate::text::shell_quote`]) and curl's URL globbing is off, so a hostile city name or
//! URL stays text.

use std::path::Path;

use url::Url;

use crate::secret::AccessToken;
use crate::text::shell_quote;

/// The shell variable the command reads the token from, unless the real token is asked for.
pub const TOKEN_VAR: &str = "TOKEN";

/// What goes where the access token belongs.
#[derive(Debug, Clone, Copy)]
pub enum CurlToken<'a> {
    /// `"$TOKEN"`: the command is safe to paste anywhere; the token is set apart.
    Variable,
    /// The token itself (only when the user asked to see it: it is a credential).
    Real(&'a AccessToken),
}

/// `curl -sS -g -H 'Accept: application/json' -H "Authorization: Bearer $TOKEN" [--cacert
/// FILE] URL`.
pub fn curl_command(url: &Url, token: CurlToken<'_>, ca_file: Option<&Path>) -> String {
    let auth = match token {
        CurlToken::Variable => format!("\"Authorization: Bearer ${TOKEN_VAR}\""),
        CurlToken::Real(t) => shell_quote(&format!("Authorization: Bearer {}", t.expose())),
    };
    let mut words = vec![
        "curl".to_string(),
        "-sS".into(),
        // No globbing: `[]` and `{}` in a URL are characters, not curl patterns.
        "--globoff".into(),
        "-H".into(),
        shell_quote("Accept: application/json"),
        "-H".into(),
        auth,
    ];
    if let Some(ca) = ca_file {
        words.push("--cacert".into());
        words.push(shell_quote(&ca.to_string_lossy()));
    }
    words.push(shell_quote(url.as_str()));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::weather_target;

    const TEMPLATE: &str = "http://127.0.0.1:8080/api/weather/{city}?country=US&units=metric";

    fn curl(city: &str) -> String {
        let url = weather_target(TEMPLATE, city).expect("a city the API accepts");
        curl_command(&url, CurlToken::Variable, None)
    }

    #[test]
    fn the_token_is_a_variable_unless_asked_for() {
        assert_eq!(
            curl("Seattle"),
            "curl -sS --globoff -H 'Accept: application/json' -H \"Authorization: Bearer $TOKEN\" \
             'http://127.0.0.1:8080/api/weather/Seattle?country=US&units=metric'"
        );
        let url = weather_target(TEMPLATE, "Rome").unwrap();
        let t = AccessToken::new("eyJh.eyJi.c2ln");
        let line = curl_command(
            &url,
            CurlToken::Real(&t),
            Some(Path::new("/etc/ca dir/ca.pem")),
        );
        assert!(
            line.contains(
                "-H 'Authorization: Bearer eyJh.eyJi.c2ln' --cacert '/etc/ca dir/ca.pem' 'http"
            ),
            "{line}"
        );
        assert!(!line.contains("$TOKEN"), "{line}");
    }

    #[test]
    fn hostile_city_names_stay_inside_the_url() {
        for city in [
            "New York",
            "O'Hare",
            "$(touch /tmp/pwned)",
            "`id`",
            "a;b|c&d",
            "x' ; rm -rf ~ ; echo '",
            "São Paulo",
            "東京",
            "{a,b}[1-2]",
            "\"quoted\"",
            "back\\slash",
            "-x",
            "\u{202e}evil",
        ] {
            let line = curl(city);
            let url = weather_target(TEMPLATE, city).unwrap();
            // The URL is the last word, exactly as the call sends it.
            assert!(
                line.ends_with(&shell_quote(url.as_str())),
                "{city:?}: {line}"
            );
            let after_header = line
                .split_once("$TOKEN\" ")
                .map(|(_, rest)| rest)
                .unwrap_or_default();
            assert_eq!(after_header, shell_quote(url.as_str()), "{city:?}: {line}");
            // Nothing a shell would run, and nothing a terminal would interpret.
            assert_eq!(crate::text::sanitize(&line, false), line, "{city:?}");
            assert!(!line.contains('\n'), "{city:?}");
            let quoted = shell_quote(url.as_str());
            assert!(
                quoted.starts_with('\'') || quoted.starts_with("$'"),
                "{city:?}: {quoted}"
            );
        }
        // Spaces, quotes, braces and brackets are percent-encoded in the path.
        let line = curl("{a,b}[1-2] \"x\"");
        assert!(line.contains("%7Ba,b%7D%5B1-2%5D%20%22x%22"), "{line}");
    }

    #[test]
    fn a_city_with_a_newline_never_gets_this_far() {
        assert!(weather_target(TEMPLATE, "Seattle\ncurl evil").is_err());
    }
}
