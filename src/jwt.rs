//! JSON Web Tokens: decoding without trust ([`decode`], [`inspect`]), the claims model, and
//! verification the way a resource server does it ([`Verifier`]: discovery, JWKS, signature,
//! issuer, audience, tenant, lifetime).
//!
//! Decoding never panics on any input; every failure names the part that was wrong.
//!
//! Layer: above the base modules and `http` (verification fetches discovery documents and
//! key sets). It must not import `config`, `credential`, `auth` or `diagnose`: what a token
//! is checked against comes in as plain [`Expectations`].

mod claims;
mod decode;
pub mod verify;

pub use claims::{Audience, Claims};
pub use decode::{DecodeError, DecodedJwt, MAX_TOKEN_LEN, TokenFormat, b64url, decode, inspect};
pub use verify::{Check, Expectations, Verifier};
