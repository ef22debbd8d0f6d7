//! What the set-up says around the role chain: the token version the API asks for, the form
//! of the token's audience, "assignment required" without an assignment, roles defined on the
//! client's registration, the tenant's word on secret and certificate expiry, the profile's
//! certificate thumbprint, and the federated credential against the profile's federated
//! token (compared exactly, as Entra does, with the differing characters marked).
//!
//! Owns the wording of the findings; reads the facts through [`Seen`].

use chrono::{DateTime, Utc};

use super::compare::mark_difference;
use super::{FederatedClaims, Finding, Seen};
use crate::diagnose::Severity;
use crate::diagnose::lint::{self, Validity};
use crate::graph::model::FederatedCred;

/// Every finding, in a fixed order.
pub(super) fn all(seen: &Seen) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(token_version(seen));
    out.extend(audience(seen));
    out.extend(assignment_required(seen));
    out.extend(role_on_client(seen));
    out.extend(secret(seen));
    out.extend(certificate(seen));
    out.extend(thumbprint(seen));
    out.extend(federated(seen));
    out
}

/// `api.requestedAccessTokenVersion` against the token's `ver`.
fn token_version(seen: &Seen) -> Option<Finding> {
    let app = seen.facts.api_app.as_ref()?;
    let asked = app.requested_token_version;
    let ver = seen.input.claims.and_then(|c| c.ver.as_deref());
    let v2 = asked == Some(2);
    let shown = asked.map_or("null".to_string(), |v| v.to_string());
    let fix = format!(
        "if the API validates v2 tokens, set it to 2: App registrations → {} → Manifest → \
         \"requestedAccessTokenVersion\": 2 (\"accessTokenAcceptedVersion\" in the older \
         manifest), or `az ad app update --id {} --set api.requestedAccessTokenVersion=2`; \
         then get a new token",
        seen.api,
        seen.api_app_id_or()
    );
    let token = ver
        .map(|v| format!("; this token is v{v}"))
        .unwrap_or_default();
    let refresh = "get a new token (r, --no-cache, or `tokenscope cache clear`)";
    let finding = match (v2, ver) {
        (true, None | Some("2.0")) => Finding::new(
            "token_version",
            Severity::Ok,
            format!("the API asks for v2 tokens (requestedAccessTokenVersion 2){token}"),
        ),
        (true, Some(v)) => Finding::new(
            "token_version",
            Severity::Warning,
            format!(
                "the API asks for v2 tokens (requestedAccessTokenVersion 2), but this token is \
                 v{v}: it was issued before the change, or is not for this API"
            ),
        )
        .fix(refresh),
        (false, _) if !matches!(asked, None | Some(1)) => Finding::new(
            "token_version",
            Severity::Warning,
            format!("the API's requestedAccessTokenVersion is {shown}, which Entra does not know"),
        )
        .fix(fix),
        (false, Some("2.0")) => Finding::new(
            "token_version",
            Severity::Warning,
            format!(
                "the API's requestedAccessTokenVersion is {shown} (v1 tokens), but this token is \
                 v2.0: it was issued before the change"
            ),
        )
        .fix(format!("{refresh}; {fix}")),
        (false, _) => Finding::new(
            "token_version",
            Severity::Warning,
            format!(
                "the API's requestedAccessTokenVersion is {shown}: Entra issues v1 tokens (iss \
                 https://sts.windows.net/<tenant>/, aud the App ID URI){token}"
            ),
        )
        .fix(fix),
    };
    Some(finding)
}

/// The token's `aud`: the API's application id (v2), its App ID URI (v1), or neither.
fn audience(seen: &Seen) -> Option<Finding> {
    let claims = seen.input.claims?;
    if claims.aud.is_empty() || (seen.api_app_id.is_none() && seen.facts.api_app.is_none()) {
        return None;
    }
    let mut uris: Vec<&str> = Vec::new();
    if let Some(app) = &seen.facts.api_app {
        uris.extend(app.identifier_uris.iter().map(String::as_str));
    }
    if let Some(sp) = &seen.facts.api_sp {
        uris.extend(
            sp.service_principal_names
                .iter()
                .map(String::as_str)
                .filter(|n| !seen.is_api_app_id(n)),
        );
    }
    uris.dedup();
    let same_uri = |a: &str, u: &str| a.trim_end_matches('/') == u.trim_end_matches('/');
    let aud = claims.aud.to_string();
    let guid = seen.api_app_id_or();
    let ids = if uris.is_empty() {
        guid.to_string()
    } else {
        format!("{guid}, {}", uris.join(", "))
    };
    if claims.aud.0.iter().any(|a| seen.is_api_app_id(a)) {
        return Some(Finding::new(
            "audience",
            Severity::Ok,
            format!("aud is the API's application id {aud} (the v2 form)"),
        ));
    }
    if let Some(uri) = claims
        .aud
        .0
        .iter()
        .find(|a| uris.iter().any(|u| same_uri(a, u)))
    {
        return Some(
            Finding::new(
                "audience",
                Severity::Warning,
                format!(
                    "aud is the App ID URI {uri} (the v1 form), not the API's application id \
                     {guid}: an API that checks the audience against its client id refuses it"
                ),
            )
            .fix(format!(
                "let the API accept both ({guid} and {uri}, e.g. ValidAudiences), or set the \
                 API's requestedAccessTokenVersion to 2 so tokens carry {guid}"
            )),
        );
    }
    Some(
        Finding::new(
            "audience",
            Severity::Error,
            format!("the token's aud {aud} is none of the API's identifiers ({ids})"),
        )
        .fix(format!(
            "set the profile's scope to one of the API's identifiers + /.default (App \
             registrations → {} → Expose an API)",
            seen.api
        )),
    )
}

/// `appRoleAssignmentRequired` on the API's service principal.
fn assignment_required(seen: &Seen) -> Option<Finding> {
    let sp = seen.facts.api_sp.as_ref()?;
    if !sp.assignment_required {
        return None;
    }
    if seen.grants_on_api().next().is_some() {
        return Some(Finding::new(
            "assignment_required",
            Severity::Ok,
            "the API requires an assignment (appRoleAssignmentRequired), and the client holds one",
        ));
    }
    Some(
        Finding::new(
            "assignment_required",
            Severity::Error,
            format!(
                "{} requires an assignment (appRoleAssignmentRequired) and {} has none: Entra \
                 refuses its tokens (AADSTS501051)",
                seen.api, seen.client
            ),
        )
        .fix(format!(
            "grant the client one of the API's app roles (admin consent), or turn it off: \
             Enterprise applications → {} → Properties → Assignment required? No (`az ad sp \
             update --id {} --set appRoleAssignmentRequired=false`)",
            seen.api,
            seen.api_app_id_or()
        )),
    )
}

/// Roles on the client's own registration that its API permissions point at the API for.
fn role_on_client(seen: &Seen) -> Vec<Finding> {
    let Some(app) = &seen.facts.client_app else {
        return Vec::new();
    };
    let pointed: Vec<&str> = app
        .required_resource_access
        .iter()
        .filter(|r| seen.is_api_app_id(&r.resource_app_id))
        .flat_map(|r| r.access.iter().map(|a| a.id.as_str()))
        .collect();
    app.app_roles
        .iter()
        .filter(|r| pointed.iter().any(|id| id.eq_ignore_ascii_case(&r.id)))
        .map(|r| {
            Finding::new(
                "role_on_client",
                Severity::Error,
                format!(
                    "{} is defined on the client's registration ({}), and its API permissions \
                     point at {} for it: Entra can never grant it",
                    r.value, seen.client, seen.api
                ),
            )
            .fix(format!(
                "define {} under App registrations → {} → App roles, remove it from {}'s App \
                 roles and API permissions, then add the API's {} and grant admin consent",
                r.value, seen.api, seen.client, r.value
            ))
        })
        .collect()
}

/// The best of several credentials by its validity window: (severity, end, how many others
/// have expired). `None` when none has an end date.
fn best_window<I>(windows: I, now: DateTime<Utc>) -> Option<(Validity, DateTime<Utc>, usize)>
where
    I: Iterator<Item = (Option<DateTime<Utc>>, Option<DateTime<Utc>>)>,
{
    let dated: Vec<(Option<DateTime<Utc>>, DateTime<Utc>)> =
        windows.filter_map(|(s, e)| e.map(|e| (s, e))).collect();
    let (start, end) = dated.iter().max_by_key(|(_, e)| *e).copied()?;
    let expired = dated.iter().filter(|(_, e)| *e <= now).count();
    let validity = lint::validity(start, end, now);
    let others_expired = if validity == Validity::Expired {
        expired.saturating_sub(1)
    } else {
        expired
    };
    Some((validity, end, others_expired))
}

/// Words for a credential's validity: (severity, "expired 3 days ago" / "valid until …").
fn window_words(v: Validity, end: DateTime<Utc>, now: DateTime<Utc>) -> (Severity, String) {
    let countdown = crate::time::countdown(end, now);
    let date = end.format("%Y-%m-%d");
    let words = match v {
        Validity::Expired => format!("expired on {date} ({countdown})"),
        Validity::NotYetValid => format!("is not valid yet (ends {date})"),
        Validity::RenewSoon { .. } => format!("expires on {date} ({countdown}): renew it"),
        Validity::Valid => format!("is valid until {date} ({countdown})"),
    };
    let severity = match v {
        Validity::NotYetValid => Severity::Warning,
        other => other.severity(),
    };
    (severity, words)
}

fn older(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "; 1 other has expired".into(),
        n => format!("; {n} others have expired"),
    }
}

/// Client secret expiry by the tenant (`passwordCredentials`), the source of truth.
fn secret(seen: &Seen) -> Option<Finding> {
    let app = seen.facts.client_app.as_ref()?;
    let now = seen.input.now;
    let creds = &app.password_credentials;
    let (v, end, expired) = best_window(creds.iter().map(|c| (c.start, c.end)), now)?;
    let (severity, words) = window_words(v, end, now);
    let summary = if v == Validity::Expired {
        let n = creds.len();
        let all = if n == 1 {
            "the client's only secret".to_string()
        } else {
            format!("all {n} client secrets")
        };
        format!("{all} of {}: the newest {words}", seen.client)
    } else {
        format!(
            "the newest client secret of {} {words}{}",
            seen.client,
            older(expired)
        )
    };
    let mut f = Finding::new("secret", severity, summary);
    if severity != Severity::Ok {
        f = f.fix(format!(
            "App registrations → {} → Certificates & secrets → Client secrets → New client \
             secret, then give it to the profile (client_secret_env); or `az ad app credential \
             reset --id {} --append` (prints the new secret once)",
            seen.client, seen.input.client_id
        ));
    }
    Some(f)
}

/// Certificate expiry by the tenant (`keyCredentials`): the profile's certificate when it
/// is registered, else the newest.
fn certificate(seen: &Seen) -> Option<Finding> {
    let app = seen.facts.client_app.as_ref()?;
    let now = seen.input.now;
    let presented = seen.input.presented_thumbprint.map(normal_thumbprint);
    let mine = app.key_credentials.iter().find(|k| {
        presented.is_some() && k.thumbprint_sha1_hex.as_deref().map(normal_thumbprint) == presented
    });
    let (v, end, expired, which) = match mine {
        Some(k) => {
            let end = k.end?;
            (
                lint::validity(None, end, now),
                end,
                0,
                "the profile's certificate",
            )
        }
        None => {
            let (v, end, n) = best_window(app.key_credentials.iter().map(|k| (None, k.end)), now)?;
            (v, end, n, "the newest certificate")
        }
    };
    let (severity, words) = window_words(v, end, now);
    let mut f = Finding::new(
        "certificate",
        severity,
        format!(
            "{which} registered on {} {words}{}",
            seen.client,
            older(expired)
        ),
    );
    if severity != Severity::Ok {
        f = f.fix(format!(
            "make a new certificate and upload its public part: App registrations → {} → \
             Certificates & secrets → Certificates → Upload certificate; or `az ad app \
             credential reset --id {} --cert @new-cert.pem --append`",
            seen.client, seen.input.client_id
        ));
    }
    Some(f)
}

/// Upper-case hex without separators (`ab:cd` → `ABCD`).
fn normal_thumbprint(t: &str) -> String {
    t.chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The profile's certificate among those registered on the client.
fn thumbprint(seen: &Seen) -> Option<Finding> {
    let presented = seen.input.presented_thumbprint?;
    let app = seen.facts.client_app.as_ref()?;
    let want = normal_thumbprint(presented);
    let registered: Vec<String> = app
        .key_credentials
        .iter()
        .filter_map(|k| k.thumbprint_sha1_hex.as_deref().map(normal_thumbprint))
        .collect();
    if registered.contains(&want) {
        return Some(Finding::new(
            "thumbprint",
            Severity::Ok,
            format!(
                "the profile's certificate (thumbprint {want}) is registered on {}",
                seen.client
            ),
        ));
    }
    let list = if registered.is_empty() {
        "none".to_string()
    } else {
        registered.join(", ")
    };
    Some(
        Finding::new(
            "thumbprint",
            Severity::Error,
            format!(
                "the profile's certificate (thumbprint {want}) is not registered on {} \
                 (registered: {list}): Entra refuses its assertions (AADSTS700027)",
                seen.client
            ),
        )
        .fix(format!(
            "upload the certificate's public part: App registrations → {} → Certificates & \
             secrets → Certificates → Upload certificate; or `az ad app credential reset --id \
             {} --cert @cert.pem --append`",
            seen.client, seen.input.client_id
        )),
    )
}

/// The profile's federated token against the client's federated credentials.
fn federated(seen: &Seen) -> Option<Finding> {
    let token = seen.input.federated?;
    let app = seen.facts.client_app.as_ref()?;
    let fix_where = format!(
        "App registrations → {} → Certificates & secrets → Federated credentials",
        seen.client
    );
    let matches_exactly = |c: &FederatedCred| {
        c.issuer == token.issuer
            && c.subject == token.subject
            && c.audiences.iter().any(|a| token.audiences.contains(a))
    };
    if let Some(c) = app.federated.iter().find(|c| matches_exactly(c)) {
        return Some(Finding::new(
            "federated",
            Severity::Ok,
            format!(
                "the federated token matches credential '{}' (issuer, subject and audience)",
                c.name
            ),
        ));
    }
    let Some(best) = app.federated.iter().max_by_key(|c| closeness(c, token)) else {
        return Some(
            Finding::new(
                "federated",
                Severity::Error,
                format!(
                    "the profile presents a federated token, but {} has no federated \
                     credentials: Entra refuses it (AADSTS70021)",
                    seen.client
                ),
            )
            .fix(format!(
                "{fix_where} → Add credential with issuer {}, subject {} and audience {}",
                token.issuer,
                token.subject,
                token
                    .audiences
                    .first()
                    .map_or("api://AzureADTokenExchange", |a| a)
            )),
        );
    };
    let diffs = differences(best, token);
    Some(
        Finding::new(
            "federated",
            Severity::Error,
            format!(
                "no federated credential matches the token; the closest, '{}': {}; Entra \
                 compares them exactly (AADSTS70021)",
                best.name,
                diffs.join("; ")
            ),
        )
        .fix(format!(
            "make them equal character for character: {fix_where} → '{}' (or `az ad app \
             federated-credential update --id {} --federated-credential-id {} --parameters \
             @credential.json`), or fix what issues the token",
            best.name, seen.input.client_id, best.name
        )),
    )
}

/// How close a credential is to the token: exact fields first, then fields equal but for case.
fn closeness(c: &FederatedCred, t: FederatedClaims) -> (usize, usize) {
    let aud_exact = c.audiences.iter().any(|a| t.audiences.contains(a));
    let aud_case = c
        .audiences
        .iter()
        .any(|a| t.audiences.iter().any(|b| a.eq_ignore_ascii_case(b)));
    let exact = [c.issuer == t.issuer, c.subject == t.subject, aud_exact];
    let case = [
        c.issuer.eq_ignore_ascii_case(t.issuer),
        c.subject.eq_ignore_ascii_case(t.subject),
        aud_case,
    ];
    (
        exact.iter().filter(|b| **b).count(),
        case.iter().filter(|b| **b).count(),
    )
}

/// Each field that differs, the differing characters marked «…».
fn differences(c: &FederatedCred, t: FederatedClaims) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, token: &str, cred: &str| {
        if token == cred {
            return;
        }
        let (a, b) = mark_difference(token, cred);
        let how = if token.eq_ignore_ascii_case(cred) {
            " only in case"
        } else {
            ""
        };
        out.push(format!("the token's {name} {a} differs{how} from {b}"));
    };
    field("issuer", t.issuer, &c.issuer);
    field("subject", t.subject, &c.subject);
    if !c.audiences.iter().any(|a| t.audiences.contains(a)) {
        let token_aud = t.audiences.first().map_or("", String::as_str);
        match c.audiences.first() {
            Some(cred_aud) => field("audience", token_aud, cred_aud),
            None => out.push("the credential lists no audience".into()),
        }
    }
    out
}
