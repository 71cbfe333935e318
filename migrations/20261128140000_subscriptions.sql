-- Plans gain a type, a trial length, prices and entitlements; subscriptions tie a consumer
-- to a plan for an API, and keys may belong to one. Portable SQL (SQLite and PostgreSQL):
-- money as BIGINT minor units with an ISO 4217 currency, times as unix milliseconds.
ALTER TABLE plans ADD COLUMN plan_type TEXT NULL;
ALTER TABLE plans ADD COLUMN trial_days BIGINT NULL;
ALTER TABLE plans ADD COLUMN price_currency TEXT NULL;
ALTER TABLE plans ADD COLUMN price_amount_minor BIGINT NULL;
ALTER TABLE plans ADD COLUMN price_interval TEXT NULL;
ALTER TABLE plans ADD COLUMN unit_price_minor BIGINT NULL;
ALTER TABLE plans ADD COLUMN unit_size BIGINT NULL;
ALTER TABLE plans ADD COLUMN included_units BIGINT NULL;
ALTER TABLE plans ADD COLUMN entitlements_json TEXT NULL;

-- Status is derived from the times on every read (see core/src/subscription.rs).
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers (id),
    api_id TEXT NOT NULL REFERENCES apis (id),
    plan_id TEXT NOT NULL REFERENCES plans (id),
    started_at BIGINT NOT NULL,
    trial_ends_at BIGINT NULL,
    ends_at BIGINT NULL,
    canceled_at BIGINT NULL,
    created_at BIGINT NOT NULL,
    -- last plan change or cancellation: the snapshot's subscription feed covers 24 h of these
    changed_at BIGINT NULL,
    org_id TEXT NULL
);
CREATE INDEX subscriptions_consumer_id ON subscriptions (consumer_id);
CREATE INDEX subscriptions_changed_at ON subscriptions (changed_at);
CREATE INDEX subscriptions_org_id ON subscriptions (org_id);

ALTER TABLE keys ADD COLUMN subscription_id TEXT NULL REFERENCES subscriptions (id);
CREATE INDEX keys_subscription_id ON keys (subscription_id);
