-- Organisations, users and roles (RBAC). Resources belong to one organisation; NULL
-- means the platform's own (visible only to the platform operator's admin token).
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    org_id TEXT NOT NULL REFERENCES organisations (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'billing', 'viewer')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE TABLE user_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
);

ALTER TABLE apis ADD COLUMN org_id TEXT NULL;
ALTER TABLE consumers ADD COLUMN org_id TEXT NULL;
ALTER TABLE plans ADD COLUMN org_id TEXT NULL;
ALTER TABLE keys ADD COLUMN org_id TEXT NULL;
ALTER TABLE audit_log ADD COLUMN org_id TEXT NULL;
CREATE INDEX apis_org_id ON apis (org_id);
CREATE INDEX consumers_org_id ON consumers (org_id);
CREATE INDEX plans_org_id ON plans (org_id);
CREATE INDEX keys_org_id ON keys (org_id);
CREATE INDEX audit_log_org_id ON audit_log (org_id);
