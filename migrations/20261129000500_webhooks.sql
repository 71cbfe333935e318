-- Outgoing webhooks: an endpoint receives the audit events of its organisation (all of
-- them for a platform endpoint, org_id NULL) whose action matches its patterns, in order,
-- at least once. `cursor_seq` is the last audit entry it has been given (or skipped);
-- failures back off through `next_attempt_at`. The signing secret lives sealed in
-- `secrets` (owner_type 'webhook'); during a rotation the previous one keeps signing too,
-- until `previous_secret_until`.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    org_id TEXT NULL,
    url TEXT NOT NULL,
    events_json TEXT NOT NULL,
    cursor_seq BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status BIGINT NULL,
    last_error TEXT NULL,
    last_delivered_at BIGINT NULL,
    delivered BIGINT NOT NULL,
    previous_secret_until BIGINT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_org_id ON webhook_endpoints (org_id);
