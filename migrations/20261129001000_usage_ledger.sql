-- Usage metering: the idempotent ledger of usage events (one row per event id, so a
-- redelivered event is never counted twice) and the aggregates filled from it in the same
-- transaction. Identifiers are plain text without foreign keys: JWT and mTLS callers have
-- synthetic key ids, and history outlives the keys, consumers and APIs it is about.
CREATE TABLE usage_events (
    id TEXT PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    api_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    status INTEGER NOT NULL,
    billable INTEGER NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX usage_events_consumer_time ON usage_events (consumer_id, time_ms);

-- Totals per bucket ('minute', 'hour', 'day'), consumer, key, API and plan ('' when the
-- event had none). `billable` is the billable request count rating reads.
CREATE TABLE usage_rollups (
    granularity TEXT NOT NULL,
    bucket_start BIGINT NOT NULL,
    consumer_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    api_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    requests BIGINT NOT NULL,
    billable BIGINT NOT NULL,
    bytes_in BIGINT NOT NULL,
    bytes_out BIGINT NOT NULL,
    latency_ms_sum BIGINT NOT NULL,
    latency_ms_max BIGINT NOT NULL,
    PRIMARY KEY (granularity, bucket_start, consumer_id, key_id, api_id, plan_id)
);

CREATE INDEX usage_rollups_consumer ON usage_rollups (consumer_id, granularity, bucket_start);

-- Custom meters (`tollgate-meter` header) of billable events: sum and max per bucket.
CREATE TABLE usage_meter_rollups (
    granularity TEXT NOT NULL,
    bucket_start BIGINT NOT NULL,
    consumer_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    api_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    meter TEXT NOT NULL,
    total BIGINT NOT NULL,
    max_value BIGINT NOT NULL,
    PRIMARY KEY (granularity, bucket_start, consumer_id, key_id, api_id, plan_id, meter)
);
