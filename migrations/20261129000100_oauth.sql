-- OAuth2 client credentials: clients of consumers (the secret stored only as its SHA-256
-- hash) and the origin's ES256 signing keys (the private half sealed in `secrets`, owner
-- `oauth_signing_key`/<kid>/`private_key`, so `tollgate secrets rotate` re-seals them).
-- Portable SQL (SQLite and PostgreSQL); times as unix milliseconds.
CREATE TABLE oauth_clients (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    consumer_id TEXT NOT NULL REFERENCES consumers (id),
    subscription_id TEXT NULL REFERENCES subscriptions (id),
    scopes_json TEXT NULL,
    token_ttl_secs BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL,
    org_id TEXT NULL
);
CREATE INDEX oauth_clients_consumer_id ON oauth_clients (consumer_id);
CREATE INDEX oauth_clients_revoked_at ON oauth_clients (revoked_at);
CREATE INDEX oauth_clients_org_id ON oauth_clients (org_id);

CREATE TABLE oauth_signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    activated_at BIGINT NOT NULL,
    retired_at BIGINT NULL
);
