-- Rate limits and quotas beyond plans: limits set on one API (or all) for a subject,
-- and per-API load shedding. Portable SQL (SQLite and PostgreSQL); policies as JSON the
-- origin validates and turns into the snapshot's policies.

CREATE TABLE limits (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    api_id TEXT NULL REFERENCES apis (id),
    subject TEXT NOT NULL CHECK (subject IN ('key', 'consumer', 'ip', 'api')),
    policy_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE shedding (
    api_id TEXT PRIMARY KEY REFERENCES apis (id),
    policy_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
