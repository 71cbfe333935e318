//! Usage metering at the origin: the edge's batches of usage events go into an idempotent
//! ledger (`usage_events`, one row per event id) and, in the same transaction and only for
//! newly inserted events, into minute/hour/day aggregates (`usage_rollups`,
//! `usage_meter_rollups`) that the admin API and rating read.

pub mod aggregates;
pub mod ingest;
pub mod store;
