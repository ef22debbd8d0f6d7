//! tokenscope: see what Entra ID hands a daemon app, and why a protected API lets it in or
//! shuts it out.
//!
//! The library is the core (config, auth, jwt, api) plus the local sandbox tenant; `cli` is
//! the headless front end and `main.rs` only calls it. Nothing in the core touches a
//! terminal.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod diagnose;
pub mod http;
pub mod jwt;
pub mod sandbox;
pub mod secret;
pub mod text;
pub mod time;
pub mod tui;
