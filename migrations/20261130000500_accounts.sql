-- Portal accounts, part two: the mail outbox (every mail the origin sends, readable by the
-- platform operator; SMTP delivery status beside it), verified emails, single-use tokens
-- for email verification and password reset (stored as their SHA-256), the mail-request
-- log that throttles resends and reset requests, pending OIDC sign-ins and the identities
-- (issuer, subject) linked to users. Portable SQL (SQLite and PostgreSQL).
CREATE TABLE mail_outbox (
    id TEXT PRIMARY KEY,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- NULL once an SMTP server accepted the mail: its links are live secrets
    body TEXT NULL,
    -- 'outbox' (no SMTP configured), 'sending', 'sent' or 'failed'
    status TEXT NOT NULL,
    error TEXT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT NULL
);
CREATE INDEX mail_outbox_created_at ON mail_outbox (created_at);

ALTER TABLE users ADD COLUMN email_verified_at BIGINT NULL;

CREATE TABLE portal_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- 'verify_email' or 'reset_password'
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL
);
CREATE INDEX portal_tokens_user ON portal_tokens (user_id, purpose);

CREATE TABLE portal_mail_requests (
    -- 'verify_email' or 'reset_password'
    kind TEXT NOT NULL,
    -- the email asked about (normalised), or 'ip:<client address>'
    who TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX portal_mail_requests_who ON portal_mail_requests (kind, who, at_ms);

CREATE TABLE portal_oidc_logins (
    state_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    code_verifier TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE user_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
