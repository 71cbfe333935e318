-- Secrets at rest, sealed by origin/src/vault (XChaCha20-Poly1305 under a master key kept
-- outside the database). `key_id` says which master key sealed the row, for rotation.
CREATE TABLE secrets (
    owner_type TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed TEXT NOT NULL,
    key_id TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (owner_type, owner_id, name)
);
