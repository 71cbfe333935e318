-- tollgate's catalog. Portable SQL only (SQLite and PostgreSQL): TEXT and BIGINT,
-- timestamps as unix milliseconds, booleans as 0/1.

CREATE TABLE apis (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    base_path TEXT NOT NULL UNIQUE,
    upstream_url TEXT NOT NULL,
    auth_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE consumers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    rate_limit_json TEXT NULL,
    quota_json TEXT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers (id),
    api_id TEXT NOT NULL REFERENCES apis (id),
    plan_id TEXT NULL REFERENCES plans (id),
    key_hash TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    expires_at BIGINT NULL,
    last_used_at BIGINT NULL
);

CREATE INDEX keys_consumer_id ON keys (consumer_id);
CREATE INDEX keys_revoked_at ON keys (revoked_at);

-- One row: the version of everything the edge sees, bumped in the same transaction
-- as each change to it, so the snapshot ETag is exact.
CREATE TABLE config_version (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);

INSERT INTO config_version (id, version) VALUES (1, 1);

-- Billable requests per key and hour, filled by metering (a later change).
CREATE TABLE usage_counts (
    key_id TEXT NOT NULL REFERENCES keys (id),
    consumer_id TEXT NOT NULL REFERENCES consumers (id),
    api_id TEXT NOT NULL REFERENCES apis (id),
    window_start BIGINT NOT NULL,
    billable_requests BIGINT NOT NULL,
    PRIMARY KEY (key_id, window_start)
);

CREATE INDEX usage_counts_consumer ON usage_counts (consumer_id, window_start);
