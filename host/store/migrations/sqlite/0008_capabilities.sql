-- Host capabilities: each tenant's chat-model provider (its API key sealed with the platform
-- secret) and the static sites plugins publish, every publication a version of its files (counted
-- in the publishing plugin's storage).
CREATE TABLE model_providers (
    tenant TEXT PRIMARY KEY REFERENCES tenants(id),
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    api_key_sealed TEXT,
    updated_at TEXT NOT NULL
);

CREATE TABLE sites (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    live_version BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE site_versions (
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    files TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    plugin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name, version),
    FOREIGN KEY (tenant, name) REFERENCES sites(tenant, name)
);
