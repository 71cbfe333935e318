-- API versions: a semantic version of an API, its lifecycle and its OpenAPI document.
-- Portable SQL only (SQLite and PostgreSQL): TEXT and BIGINT, times as unix milliseconds.

CREATE TABLE api_versions (
    api_id TEXT NOT NULL REFERENCES apis (id),
    version TEXT NOT NULL,
    major BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'published', 'deprecated', 'retired')),
    upstream_url TEXT NULL,
    -- the `openapi` member (3.0.x / 3.1.x), `info.title`, and how the upload was written
    openapi TEXT NOT NULL,
    title TEXT NOT NULL,
    spec_format TEXT NOT NULL CHECK (spec_format IN ('json', 'yaml')),
    -- the validated document as JSON text
    spec TEXT NOT NULL,
    -- changelog against the previous version (`changelog_from`), and its migration guide draft
    changelog_from TEXT NULL,
    changelog_json TEXT NULL,
    migration_guide TEXT NULL,
    migration_url TEXT NULL,
    migration_note TEXT NULL,
    published_at BIGINT NULL,
    deprecated_at BIGINT NULL,
    sunset_at BIGINT NULL,
    retired_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (api_id, version)
);
