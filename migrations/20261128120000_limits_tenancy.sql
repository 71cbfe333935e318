-- Limits belong to an organisation like the APIs they are set on (NULL: the platform's).
ALTER TABLE limits ADD COLUMN org_id TEXT NULL;
CREATE INDEX limits_org_id ON limits (org_id);
