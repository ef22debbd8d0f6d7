//! Which tenant a request's `{tenant}` path segment names: this one (by GUID or verified
//! domain), a multi-tenant alias (`common`, `organizations`, `consumers`), or none, with
//! Entra's errors for the last.
//!
//! Owns that decision for the metadata and token routes. Must not answer requests itself.

use crate::sandbox::model::TenantModel;
use crate::sandbox::oauth::AadError;
use crate::sandbox::state::Shared;

pub(super) enum TenantRef {
    Ours,
    /// `common`, `organizations` or `consumers`.
    Multi,
    NotFound,
    Invalid,
}

pub(super) fn resolve_tenant(model: &TenantModel, segment: &str) -> TenantRef {
    let lower = segment.to_ascii_lowercase();
    if lower == model.tenant.id || model.tenant.domain.as_deref() == Some(lower.as_str()) {
        return TenantRef::Ours;
    }
    if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
        return TenantRef::Multi;
    }
    if uuid::Uuid::parse_str(&lower).is_ok() {
        return TenantRef::NotFound;
    }
    let dns_like = lower.contains('.')
        && lower
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if dns_like {
        TenantRef::NotFound
    } else {
        TenantRef::Invalid
    }
}

pub(super) fn tenant_error(segment: &str, not_found_error: &'static str) -> AadError {
    match uuid::Uuid::parse_str(segment) {
        Err(_) if !segment.contains('.') => AadError::new(
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{segment}' is neither a valid DNS name, nor a valid external domain."
            ),
        ),
        _ => AadError::new(
            not_found_error,
            90002,
            format!(
                "Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ),
    }
}

/// For metadata routes: the tenant path segment to put in URLs and issuers, or an error.
pub(super) fn metadata_tenant(shared: &Shared, segment: &str) -> Result<(String, bool), AadError> {
    let state = shared.read();
    match resolve_tenant(&state.model, segment) {
        TenantRef::Ours => Ok((state.model.tenant.id.clone(), false)),
        TenantRef::Multi => Ok((segment.to_ascii_lowercase(), true)),
        TenantRef::NotFound | TenantRef::Invalid => Err(tenant_error(segment, "invalid_tenant")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_segments_resolve_like_entra() {
        let m = TenantModel::builtin();
        assert!(matches!(
            resolve_tenant(&m, &m.tenant.id.to_uppercase()),
            TenantRef::Ours
        ));
        assert!(matches!(
            resolve_tenant(&m, "TOKENSCOPE-SANDBOX.onmicrosoft.com"),
            TenantRef::Ours
        ));
        assert!(matches!(resolve_tenant(&m, "Common"), TenantRef::Multi));
        assert!(matches!(
            resolve_tenant(&m, "00000000-0000-0000-0000-000000000001"),
            TenantRef::NotFound
        ));
        assert!(matches!(
            resolve_tenant(&m, "contoso.com"),
            TenantRef::NotFound
        ));
        assert!(matches!(resolve_tenant(&m, "nonsense"), TenantRef::Invalid));
        assert_eq!(tenant_error("nonsense", "invalid_request").code, 900023);
        assert_eq!(tenant_error("contoso.com", "invalid_request").code, 90002);
    }
}
