//! Typed view of the claims Entra puts in app-only access tokens.

use serde_json::{Map, Value};

/// `aud` may be a string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audience(pub Vec<String>);

impl Audience {
    pub fn contains(&self, value: &str) -> bool {
        self.0.iter().any(|a| a == value)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

/// The well-known claims. A claim with an unexpected type is `None` here but still present,
/// untouched, in [`super::DecodedJwt::payload`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims {
    pub aud: Audience,
    pub iss: Option<String>,
    /// App roles granted to the client (app-only tokens).
    pub roles: Vec<String>,
    /// Delegated scopes, space separated (present only in user tokens).
    pub scp: Option<String>,
    /// v1: the client's application id.
    pub appid: Option<String>,
    /// v2: the client's application id.
    pub azp: Option<String>,
    /// v1: how the client authenticated ("0" public, "1" secret, "2" certificate).
    pub appidacr: Option<String>,
    /// v2: as `appidacr`.
    pub azpacr: Option<String>,
    pub tid: Option<String>,
    pub oid: Option<String>,
    pub sub: Option<String>,
    /// "app" for app-only tokens.
    pub idtyp: Option<String>,
    /// "1.0" or "2.0".
    pub ver: Option<String>,
    pub iat: Option<i64>,
    pub nbf: Option<i64>,
    pub exp: Option<i64>,
}

impl Claims {
    pub fn from_payload(p: &Map<String, Value>) -> Self {
        let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        let t = |k: &str| p.get(k).and_then(numeric_date);
        let aud = match p.get("aud") {
            Some(Value::String(a)) => Audience(vec![a.clone()]),
            Some(Value::Array(items)) => Audience(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => Audience::default(),
        };
        let roles = match p.get("roles") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        Claims {
            aud,
            iss: s("iss"),
            roles,
            scp: s("scp"),
            appid: s("appid"),
            azp: s("azp"),
            appidacr: s("appidacr"),
            azpacr: s("azpacr"),
            tid: s("tid"),
            oid: s("oid"),
            sub: s("sub"),
            idtyp: s("idtyp"),
            ver: s("ver"),
            iat: t("iat"),
            nbf: t("nbf"),
            exp: t("exp"),
        }
    }

    /// The client application id, whichever token version carried it.
    pub fn client_id(&self) -> Option<&str> {
        self.azp.as_deref().or(self.appid.as_deref())
    }

    /// True when the token looks app-only (no delegated scopes, `idtyp=app` when present).
    pub fn is_app_only(&self) -> bool {
        self.scp.is_none() && self.idtyp.as_deref().is_none_or(|t| t == "app")
    }

    /// Case-insensitive role check, as ASP.NET Core and most resource servers do.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.eq_ignore_ascii_case(role))
    }
}

/// A NumericDate: integer seconds, or a float (some issuers), clamped to the dates chrono
/// can hold (years −262143…262142), so `exp + skew` and friends never overflow.
fn numeric_date(v: &Value) -> Option<i64> {
    let lo = chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp();
    let hi = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    if let Some(i) = v.as_i64() {
        return Some(i.clamp(lo, hi));
    }
    if v.as_u64().is_some() {
        return Some(hi);
    }
    let f = v.as_f64()?;
    f.is_finite().then(|| f.clamp(lo as f64, hi as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Claims {
        Claims::from_payload(v.as_object().unwrap())
    }

    #[test]
    fn audience_string_or_array() {
        assert_eq!(claims(json!({"aud": "a"})).aud.0, ["a"]);
        assert_eq!(claims(json!({"aud": ["a", "b", 3]})).aud.0, ["a", "b"]);
        assert!(claims(json!({"aud": 5})).aud.is_empty());
    }

    #[test]
    fn v1_and_v2_client_ids() {
        let v1 = claims(json!({"appid": "c1", "appidacr": "1", "ver": "1.0"}));
        assert_eq!(v1.client_id(), Some("c1"));
        let v2 = claims(json!({"azp": "c2", "azpacr": "2", "ver": "2.0"}));
        assert_eq!(v2.client_id(), Some("c2"));
    }

    #[test]
    fn times_and_wrong_types() {
        let c =
            claims(json!({"exp": 1700000000, "iat": 1699990000.5, "nbf": "soon", "roles": "One"}));
        assert_eq!(c.exp, Some(1_700_000_000));
        assert_eq!(c.iat, Some(1_699_990_000));
        assert_eq!(c.nbf, None);
        assert_eq!(c.roles, ["One"]);
        assert!(c.has_role("one"));
    }

    #[test]
    fn app_only_detection() {
        assert!(claims(json!({"idtyp": "app", "roles": []})).is_app_only());
        assert!(!claims(json!({"scp": "User.Read"})).is_app_only());
        assert!(!claims(json!({"idtyp": "user"})).is_app_only());
    }
}
