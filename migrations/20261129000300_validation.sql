-- OpenAPI request validation settings, one row per API (modes and body limit as JSON).
-- Portable SQL only (SQLite and PostgreSQL).

CREATE TABLE api_validation (
    api_id TEXT PRIMARY KEY REFERENCES apis (id),
    settings_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
