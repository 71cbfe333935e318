-- Consumer teams: an organisation is a provider (NULL or 'provider': it publishes APIs)
-- or a consumer team ('team': its members share subscriptions and keys). A provider's
-- consumer may stand for a team, so a subscription held by that consumer is held by the
-- team: every member with the right role sees its keys and issues or revokes them.
ALTER TABLE organisations ADD COLUMN kind TEXT NULL;
ALTER TABLE consumers ADD COLUMN team_org_id TEXT NULL REFERENCES organisations (id);
CREATE INDEX consumers_team_org_id ON consumers (team_org_id);
