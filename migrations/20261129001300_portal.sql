-- The developer portal: accounts are `users` rows with an argon2 password hash and the
-- consumer they act as; browser sessions are stored by the SHA-256 of their cookie value;
-- failed log-ins are kept (per email and client address) to throttle guessing.
-- Portable SQL (SQLite and PostgreSQL).
ALTER TABLE users ADD COLUMN password_hash TEXT NULL;
ALTER TABLE users ADD COLUMN consumer_id TEXT NULL REFERENCES consumers (id);

CREATE TABLE portal_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);

CREATE TABLE portal_login_failures (
    email TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX portal_login_failures_who ON portal_login_failures (email, client_ip, at_ms);
