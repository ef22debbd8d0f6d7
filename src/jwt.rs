//! JSON Web Tokens: decoding without trust (this module) and, later, verification.
//!
//! Decoding never panics on any input; every failure names the part that was wrong.

mod claims;
mod decode;
mod thumbprint;
pub mod verify;

pub use claims::{Audience, Claims};
pub use decode::{DecodeError, DecodedJwt, MAX_TOKEN_LEN, TokenFormat, b64url, decode, inspect};
pub use thumbprint::{Thumbprints, sha1};
pub use verify::{Check, Expectations, Verifier};
