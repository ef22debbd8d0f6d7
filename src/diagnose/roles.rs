//! The role check: which of the roles a profile expects the token carries, which it lacks,
//! what else it carries, and whether it is an app-only token at all.
//!
//! One judgement for every front end (`token`, `call --json`, `doctor`, the Token pane, the
//! compare view); they render a [`RoleCheck`] and never compare role names themselves.
//! Pure: reads claims, returns data, prints nothing.

use crate::jwt::Claims;

/// Role names compare case-insensitively, as [`Claims::has_role`] (and ASP.NET Core) do.
pub fn same_role(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// One expected role and whether the token carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMark {
    /// As the profile spells it (not sanitised).
    pub role: String,
    pub granted: bool,
}

/// A token's roles against the roles a profile expects. Names are as they came (from the
/// token or the config): sanitise them to show them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleCheck {
    /// Every expected role, in the profile's order, marked.
    pub expected: Vec<RoleMark>,
    /// Every role the token carries, in the token's order.
    pub held: Vec<String>,
    /// The expected roles the token lacks, in the profile's order.
    pub missing: Vec<String>,
    /// The roles the token carries that the profile does not expect, in the token's order.
    pub extra: Vec<String>,
    /// The token carries no role at all (no `roles` claim, an empty one, or no claims).
    pub no_roles_claim: bool,
    /// The token carries `scp`: a delegated (user) token, not an app-only one.
    pub delegated: bool,
}

impl RoleCheck {
    /// Whether the token carries `role`.
    pub fn grants(&self, role: &str) -> bool {
        self.held.iter().any(|h| same_role(h, role))
    }
}

/// Check `claims` (`None`: no decodable token, so no roles) against `expected`.
pub fn check(claims: Option<&Claims>, expected: &[String]) -> RoleCheck {
    let held: Vec<String> = claims.map(|c| c.roles.clone()).unwrap_or_default();
    let expected: Vec<RoleMark> = expected
        .iter()
        .map(|r| RoleMark {
            role: r.clone(),
            granted: claims.is_some_and(|c| c.has_role(r)),
        })
        .collect();
    let missing = expected
        .iter()
        .filter(|m| !m.granted)
        .map(|m| m.role.clone())
        .collect();
    let extra = held
        .iter()
        .filter(|h| !expected.iter().any(|m| same_role(&m.role, h)))
        .cloned()
        .collect();
    RoleCheck {
        no_roles_claim: held.is_empty(),
        delegated: claims.is_some_and(|c| c.scp.is_some()),
        expected,
        held,
        missing,
        extra,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        Claims::from_payload(v.as_object().unwrap())
    }

    fn roles(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn granted_missing_and_extra_compare_without_case() {
        let c = claims(json!({"roles": ["weather.read", "Weather.Admin"]}));
        let r = check(Some(&c), &roles(&["Weather.Read", "Weather.Write"]));
        assert_eq!(
            r.expected,
            [
                RoleMark {
                    role: "Weather.Read".into(),
                    granted: true
                },
                RoleMark {
                    role: "Weather.Write".into(),
                    granted: false
                },
            ]
        );
        assert_eq!(r.missing, ["Weather.Write"]);
        assert_eq!(r.extra, ["Weather.Admin"]);
        assert_eq!(r.held, ["weather.read", "Weather.Admin"]);
        assert!(r.grants("WEATHER.ADMIN") && !r.grants("Weather.Write"));
        assert!(!r.no_roles_claim && !r.delegated);
    }

    #[test]
    fn no_token_no_roles_and_delegated_tokens() {
        let none = check(None, &roles(&["Weather.Read"]));
        assert!(none.no_roles_claim);
        assert_eq!(none.missing, ["Weather.Read"]);
        assert!(none.extra.is_empty() && !none.delegated);

        let user = check(Some(&claims(json!({"scp": "User.Read"}))), &[]);
        assert!(user.delegated && user.no_roles_claim);
        assert!(user.missing.is_empty());
    }
}
