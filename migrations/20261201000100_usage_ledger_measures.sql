-- The ledger keeps the measures the aggregates sum (they were only inside `body`), so the
-- pending queue of a transaction's new events is a copy of ledger columns made inside the
-- database instead of a second set of values bound row by row. Rows recorded before keep
-- zeros and no meters here; their measures are in `body`.
ALTER TABLE usage_events ADD COLUMN bytes_in BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN bytes_out BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN latency_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE usage_events ADD COLUMN meters TEXT NOT NULL DEFAULT '';
