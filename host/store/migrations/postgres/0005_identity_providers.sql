-- (The PostgreSQL twin of SQLite 0006.) External identity providers (LDAP, OIDC; SAML later) configured per tenant, the users they sign in, and OIDC
-- sign-ins waiting for the provider's answer (state, nonce and PKCE verifier, used once).
CREATE TABLE identity_providers (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE external_identities (
    tenant TEXT NOT NULL,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (tenant, provider, subject)
);

CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT,
    expires_at TEXT NOT NULL
);
