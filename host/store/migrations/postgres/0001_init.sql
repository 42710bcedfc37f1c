-- Tenants, API keys, plugin versions, enabled deployments and key-value data
-- (the PostgreSQL twin of the SQLite migrations 0001 and 0002).
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    mcp_access TEXT NOT NULL DEFAULT 'api-key',
    created_at TEXT NOT NULL
);

-- `tenant` is NULL for platform-wide (admin) keys. Only the SHA-256 of a key is kept.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant TEXT REFERENCES tenants(id),
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE plugin_versions (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    world TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name, version)
);

-- The enabled version of a plugin and its grants and limits (JSON).
CREATE TABLE deployments (
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    config TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name),
    FOREIGN KEY (tenant, name, version) REFERENCES plugin_versions(tenant, name, version)
);

CREATE TABLE kv (
    tenant TEXT NOT NULL,
    plugin TEXT NOT NULL,
    store TEXT NOT NULL,
    key TEXT NOT NULL,
    value BYTEA NOT NULL,
    PRIMARY KEY (tenant, plugin, store, key)
);
