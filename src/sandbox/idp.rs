//! The identity-provider half, on Entra's paths: OpenID discovery (v1 and v2), JWKS, the
//! token endpoints (client credentials) and the `error_uri` page, answering with Entra's
//! documents, headers and AADSTS errors.
//!
//! - `tenant`: which tenant a `{tenant}` path segment names;
//! - `metadata`: discovery, instance discovery and JWKS;
//! - `token`: whether a token request is granted;
//! - `mint`: the token's claims and the token response;
//! - `error_page`: `GET /error?code=N`.
//!
//! Owns those routes' answers. Must not change the tenant (only admin operations do) and
//! must not validate access tokens (the weather API does).

mod error_page;
mod metadata;
mod mint;
mod tenant;
mod token;

pub(crate) use error_page::error_page;
pub(crate) use metadata::{discovery_v1, discovery_v2, instance_discovery, keys_v1, keys_v2};
pub(crate) use token::{token_v1, token_v2};
