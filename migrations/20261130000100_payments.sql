-- Payments through a provider (Stripe first): the provider customer of each consumer, how
-- far pushing each finalized invoice got (so a retry resumes instead of repeating), and the
-- provider events already processed (a redelivered event changes nothing twice).
-- Portable SQL (SQLite and PostgreSQL); times are unix milliseconds.
CREATE TABLE payment_customers (
    consumer_id TEXT NOT NULL REFERENCES consumers (id),
    provider TEXT NOT NULL,
    provider_customer_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (consumer_id, provider)
);

CREATE TABLE invoice_payments (
    invoice_id TEXT PRIMARY KEY REFERENCES invoices (id),
    provider TEXT NOT NULL,
    provider_customer_id TEXT NULL,
    provider_invoice_id TEXT NULL,
    lines_pushed BIGINT NOT NULL,
    sync_state TEXT NOT NULL,
    last_error TEXT NULL,
    attempts BIGINT NOT NULL,
    synced_at BIGINT NULL,
    payment_error TEXT NULL,
    payment_failed_at BIGINT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX invoice_payments_provider_invoice ON invoice_payments (provider, provider_invoice_id);

CREATE TABLE payment_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    invoice_id TEXT NULL,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
