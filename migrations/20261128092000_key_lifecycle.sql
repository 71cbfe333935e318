-- Key lifecycle: rotated keys share an identity (limits and quotas count per identity),
-- and keys carry scopes.
ALTER TABLE keys ADD COLUMN identity_id TEXT NULL;
ALTER TABLE keys ADD COLUMN scopes_json TEXT NULL;
CREATE INDEX keys_identity_id ON keys (identity_id);
