//! Usage metering at the origin: the edge's batches of usage events go into an idempotent
//! ledger (`usage_events`, one row per event id) and, for newly inserted events, a pending
//! queue (`usage_pending`) in the same transaction; a fold moves them into minute/hour/day
//! aggregates (`usage_rollups`, `usage_meter_rollups`) that the admin API and rating read
//! after catching up.

pub mod aggregates;
pub mod fold;
pub mod ingest;
pub mod store;
