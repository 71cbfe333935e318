-- Quota alerts: one row per (consumer, key, limit, period, threshold) the ledger's billable
-- usage has reached, so each alert fires exactly once however often ingestion re-checks.
-- `limit_id` is the policy id the edge enforces (`<plan id>.quota`). Portable SQL.
CREATE TABLE usage_alerts (
    id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    limit_id TEXT NOT NULL,
    period_start BIGINT NOT NULL,
    period_end BIGINT NOT NULL,
    threshold BIGINT NOT NULL,
    used BIGINT NOT NULL,
    quota BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    org_id TEXT NULL,
    UNIQUE (consumer_id, key_id, limit_id, period_start, threshold)
);
CREATE INDEX usage_alerts_consumer ON usage_alerts (consumer_id, created_at);
CREATE INDEX usage_alerts_org ON usage_alerts (org_id, created_at);

-- Quota use is counted per key: whole hours from the hourly roll-ups, partial hours of
-- anchored periods from the ledger.
CREATE INDEX usage_events_key_time ON usage_events (key_id, time_ms);
CREATE INDEX usage_rollups_key ON usage_rollups (key_id, granularity, bucket_start);
