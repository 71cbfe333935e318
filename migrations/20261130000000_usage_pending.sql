-- Events recorded in the ledger but not yet folded into the aggregates. Ingestion appends
-- here in the same transaction as the ledger row (an append to an index-less table is the
-- cheapest write there is); a folder takes rows out in batches and adds them into
-- `usage_rollups`/`usage_meter_rollups` in the same transaction as the delete, so every
-- event is folded exactly once, even across a crash. Readers of the aggregates fold what is
-- pending first, so they never see a total behind the ledger.
CREATE TABLE usage_pending (
    time_ms BIGINT NOT NULL,
    api_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    bytes_in BIGINT NOT NULL,
    bytes_out BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    -- JSON object of custom meters, '' when none.
    meters TEXT NOT NULL
);
