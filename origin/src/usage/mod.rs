//! Usage metering at the origin: the edge's batches of usage events go into an idempotent
//! ledger (`usage_events`, one row per event id) and, for newly inserted events, a pending
//! queue (`usage_pending`) in the same transaction (on SQLite through one writer
//! connection that commits concurrent batches together: `ledger`, `group_commit`); a fold moves them into minute/hour/day
//! aggregates (`usage_rollups`, `usage_meter_rollups`) that the admin API and rating read
//! after catching up. After each fold, quota alerts are re-checked from the same ledger, and
//! reconciliation compares edge, ledger and invoices.

pub mod aggregates;
pub mod alerts;
pub mod alerts_api;
pub mod fold;
pub mod fold_sqlite;
pub mod group_commit;
pub mod ingest;
pub mod ledger;
pub mod reconcile;
pub mod store;
pub mod unique;
