-- Rating and invoices. Plans gain a usage model, tiers and a minimum commitment (one JSON
-- column); plan changes keep their history so a period is prorated between plans;
-- invoices per consumer per period with their lines and credit notes. Money is BIGINT
-- minor units, times unix milliseconds. Portable SQL (SQLite and PostgreSQL).
ALTER TABLE plans ADD COLUMN price_extra_json TEXT NULL;

CREATE TABLE subscription_plan_changes (
    subscription_id TEXT NOT NULL REFERENCES subscriptions (id),
    from_plan_id TEXT NOT NULL,
    to_plan_id TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX subscription_plan_changes_sub ON subscription_plan_changes (subscription_id, changed_at);

CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers (id),
    org_id TEXT NULL,
    period_start BIGINT NOT NULL,
    period_end BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    subtotal_minor BIGINT NOT NULL,
    credited_minor BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finalized_at BIGINT NULL,
    paid_at BIGINT NULL,
    voided_at BIGINT NULL,
    UNIQUE (consumer_id, period_start)
);
CREATE INDEX invoices_org_id ON invoices (org_id);

CREATE TABLE invoice_lines (
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    position BIGINT NOT NULL,
    subscription_id TEXT NULL,
    api_id TEXT NULL,
    plan_id TEXT NULL,
    kind TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    unit_per BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (invoice_id, position)
);

CREATE TABLE credit_notes (
    id TEXT PRIMARY KEY,
    invoice_id TEXT NOT NULL REFERENCES invoices (id),
    amount_minor BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX credit_notes_invoice ON credit_notes (invoice_id);
