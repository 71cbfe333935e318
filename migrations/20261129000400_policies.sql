-- Per-API transforms and protections (tollgate_core::policy::ApiPolicies as JSON text,
-- validated by the origin before it is stored). One row per API; portable SQL.

CREATE TABLE api_policies (
    api_id TEXT PRIMARY KEY REFERENCES apis (id),
    policy_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
