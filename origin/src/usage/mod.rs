//! Usage metering at the origin: the edge's batches of usage events go into an idempotent
//! ledger (`usage_events`, one row per event id) and, in the same transaction and only for
//! newly inserted events, into minute/hour/day aggregates (`usage_rollups`,
//! `usage_meter_rollups`) that the admin API and rating read; after each batch, quota
//! alerts are re-checked from the same ledger, and reconciliation compares edge, ledger and
//! invoices.

pub mod aggregates;
pub mod alerts;
pub mod alerts_api;
pub mod ingest;
pub mod reconcile;
pub mod store;
pub mod unique;
