-- Edge response caching: each API's policy (JSON the origin validates) with the
-- generation that is part of every cache key, and purges by tag or path prefix, which
-- the snapshot carries for 24 hours. Portable SQL (SQLite and PostgreSQL).

CREATE TABLE api_cache_policies (
    api_id TEXT PRIMARY KEY REFERENCES apis (id),
    policy_json TEXT NOT NULL,
    generation BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE cache_purges (
    id TEXT PRIMARY KEY,
    api_id TEXT NOT NULL REFERENCES apis (id),
    tag TEXT NULL,
    path_prefix TEXT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX cache_purges_by_time ON cache_purges (created_at);
