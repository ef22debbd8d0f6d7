//! Request counting: which endpoints the sandbox answered how often (`/_sandbox/stats`,
//! [`super::SandboxHandle::request_count`]; tests use it to prove caching and
//! single-flight).
//!
//! A leaf. Owns the endpoint names and the counters; must not know about routes, the
//! tenant or the shared state that holds the counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// The endpoints whose requests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// OpenID discovery documents (v1, v2) and instance discovery.
    Discovery,
    /// JWKS (v1, v2).
    Jwks,
    /// Token endpoints (v1, v2), successful or not.
    Token,
    /// The weather API, authorised or not.
    Api,
    /// Microsoft Graph (`/graph/v1.0/…`), authorised or not.
    Graph,
    /// The `/_sandbox/…` admin routes (including refused ones).
    Admin,
    /// Anything else.
    Other,
}

impl Endpoint {
    pub const ALL: [Endpoint; 7] = [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Api,
        Endpoint::Graph,
        Endpoint::Admin,
        Endpoint::Other,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// The name used in `/_sandbox/stats`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Token => "token",
            Endpoint::Api => "api",
            Endpoint::Graph => "graph",
            Endpoint::Admin => "admin",
            Endpoint::Other => "other",
        }
    }
}

/// One counter per [`Endpoint`], since start.
#[derive(Default)]
pub(crate) struct Counters([AtomicU64; Endpoint::ALL.len()]);

impl Counters {
    pub fn count(&self, endpoint: Endpoint) {
        self.0[endpoint.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, endpoint: Endpoint) -> u64 {
        self.0[endpoint.index()].load(Ordering::Relaxed)
    }
}
