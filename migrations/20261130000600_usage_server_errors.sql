-- SLO status (issue 7): requests answered with a 5xx status, per roll-up bucket, so the
-- portal can show each API's availability over 30 days from the day roll-ups. Portable SQL.
-- No index on usage_events: ingest speed matters more than ad-hoc queries of the ledger.
ALTER TABLE usage_rollups ADD COLUMN server_errors BIGINT NOT NULL DEFAULT 0;
