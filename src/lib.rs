//! tokenscope: see what Entra ID hands a daemon app, and why a protected API lets it in or
//! shuts it out.
//!
//! The library is the core plus the local sandbox tenant and two front ends; `main.rs` only
//! calls [`cli::main`]. Nothing in the core touches a terminal.
//!
//! Layers, lowest first; a module imports only from layers below it (checked by
//! `tests/architecture.rs`, which also rejects any import cycle between sibling modules):
//!
//! 1. base, importing nothing of the crate: [`text`] (sanitising), [`time`] (the clock),
//!    [`secret`] (redacted secrets), [`severity`], [`problem`] (errors as summary/hint data);
//! 2. [`files`] (bounded, non-blocking reads of local files);
//! 3. [`http`] (the client and transport rules), then [`jwt`] (decode, claims,
//!    verification);
//! 4. [`credential`] (secret / certificate / federated credentials, thumbprints);
//! 5. [`config`] (model, loading, precedence: a resolved `Profile`);
//! 6. [`auth`] (token endpoint, cache, token manager) and [`api`] (the protected API);
//! 7. [`graph`] (the app-role set-up read from Microsoft Graph or exported files; its token
//!    comes through `auth`);
//! 8. [`diagnose`] (lint, AADSTS knowledge, role checks, refusal explanations, the doctor
//!    run — its one module that does I/O);
//! 9. front ends: [`tui`], then [`cli`], the only modules that may use a terminal crate.
//!
//! [`sandbox`] stands apart: a local identity provider and API that may use the base
//! modules, `jwt` and `credential` (thumbprints), never the client side (`auth`, `api`,
//! `config`, `diagnose`) or a front end.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod credential;
pub mod diagnose;
pub mod files;
pub mod graph;
pub mod http;
pub mod jwt;
pub mod problem;
pub mod sandbox;
pub mod secret;
pub mod severity;
pub mod text;
pub mod time;
pub mod tui;
