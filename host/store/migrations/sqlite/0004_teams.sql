-- Teams nest inside a tenant (company → department → team). A team may carry
-- a role: its members, and the members of the teams below it, hold it too.
CREATE TABLE teams (
    tenant TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    parent TEXT,
    role TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, parent) REFERENCES teams(tenant, id)
);

CREATE TABLE team_members (
    tenant TEXT NOT NULL,
    team TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (tenant, team, user_id),
    FOREIGN KEY (tenant, team) REFERENCES teams(tenant, id)
);
