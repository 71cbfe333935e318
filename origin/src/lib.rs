//! tollgate-origin: the control plane. It keeps the catalog (APIs, consumers, plans,
//! keys) in SQLite or PostgreSQL, serves the admin API operators use and the signed
//! edge-facing API the workers refresh their config from.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod config_version;
pub mod console;
pub mod core_schemas;
pub mod db;
pub mod demo_upstream;
pub mod edge_api;
pub mod error;
pub mod extract;
pub mod gitops;
pub mod health;
pub mod ids;
pub mod invoices;
pub mod mail;
pub mod oauth;
pub mod openapi;
pub mod payments;
pub mod portal;
pub mod routes;
pub mod secrets;
pub mod startup;
pub mod tenancy;
pub mod usage;
pub mod vault;
pub mod webhooks;

pub use config::Config;
pub use routes::{app, AppState};
pub use startup::{shutdown_signal, Application};
