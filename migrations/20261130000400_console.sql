-- The operator console: which users are platform operators (they act for the whole
-- platform; organisation members act through their `memberships` role instead), and the
-- console's browser sessions, stored by the SHA-256 of their cookie value, each with the
-- organisation it acts for (NULL: the platform). Portable SQL (SQLite and PostgreSQL).
CREATE TABLE platform_operators (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NULL REFERENCES users (id),
    org_id TEXT NULL,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at);
