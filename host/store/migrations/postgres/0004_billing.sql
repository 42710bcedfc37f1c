-- (The PostgreSQL twin of SQLite 0005.) Plans (a monthly price, quotas where NULL is unlimited, metered prices), the plan of each tenant, and usage per
-- tenant, plugin and month ('YYYY-MM', UTC).
CREATE TABLE plans (
    name TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    monthly_price_cents BIGINT NOT NULL,
    invocations_quota BIGINT,
    storage_quota_bytes BIGINT,
    price_per_million_invocations_cents BIGINT NOT NULL,
    price_per_compute_hour_cents BIGINT NOT NULL,
    price_per_gib_egress_cents BIGINT NOT NULL,
    created_at TEXT NOT NULL
);

INSERT INTO plans VALUES ('default', 'USD', 0, NULL, NULL, 0, 0, 0, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));

ALTER TABLE tenants ADD COLUMN plan TEXT NOT NULL DEFAULT 'default' REFERENCES plans(name);

CREATE TABLE usage (
    tenant TEXT NOT NULL,
    plugin TEXT NOT NULL,
    period TEXT NOT NULL,
    invocations BIGINT NOT NULL,
    wall_micros BIGINT NOT NULL,
    fuel BIGINT NOT NULL,
    peak_memory_bytes BIGINT NOT NULL,
    egress_bytes BIGINT NOT NULL,
    PRIMARY KEY (tenant, period, plugin)
);
