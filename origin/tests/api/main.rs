//! Integration tests of the origin over real HTTP, each run on SQLite and PostgreSQL.
// A test binary: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used)]

mod helpers;

mod admin_auth;
mod apis;
mod audit;
mod binary;
mod cache;
mod certificates;
mod console;
mod consumers;
mod demo_upstream;
mod devportal;
mod edge;
mod gitops;
mod invoices;
mod jwt_policy;
mod key_lifecycle;
mod keys;
mod limits;
mod oauth;
mod payments;
mod plan_terms;
mod plans;
mod policies;
mod portal;
mod portal_accounts;
mod service;
mod subscriptions;
mod teams;
mod tenancy;
mod updates;
mod upstream_auth;
mod usage;
mod usage_crash;
mod usage_ingest;
mod usage_meter;
mod usage_slo;
mod validation;
mod versions;
mod versions_hostile;
mod webhooks;
