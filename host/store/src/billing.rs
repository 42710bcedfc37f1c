//! Plans, the plan of each tenant, and metered usage per tenant, plugin and
//! month.

use pa_runtime::UsageSample;

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// A price list with quotas. Quotas of `None` are unlimited.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Plan {
    /// Name (`default` is every new tenant's).
    pub name: String,
    /// ISO 4217 code of every price.
    pub currency: String,
    /// Flat price per month, in cents.
    pub monthly_price_cents: i64,
    /// Invocations allowed per month.
    pub invocations_quota: Option<i64>,
    /// Bytes of components and key-value data the tenant may keep.
    pub storage_quota_bytes: Option<i64>,
    /// Price of one million invocations, in cents.
    pub price_per_million_invocations_cents: i64,
    /// Price of one hour of wall-clock call time, in cents.
    pub price_per_compute_hour_cents: i64,
    /// Price of one GiB of egress, in cents.
    pub price_per_gib_egress_cents: i64,
}

/// One plugin's usage in one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct PluginUsage {
    /// Plugin name.
    pub plugin: String,
    /// Calls made on behalf of clients.
    pub invocations: i64,
    /// Wall-clock time of those calls, in microseconds.
    pub wall_micros: i64,
    /// Fuel consumed.
    pub fuel: i64,
    /// Largest linear memory of an instance, in bytes.
    pub peak_memory_bytes: i64,
    /// Bytes over outbound connections.
    pub egress_bytes: i64,
}

const PLAN_COLUMNS: &str = "name, currency, monthly_price_cents, invocations_quota, storage_quota_bytes, \
     price_per_million_invocations_cents, price_per_compute_hour_cents, price_per_gib_egress_cents";

/// A counter as stored (the columns are signed 64-bit).
fn stored(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    /// Every plan, by name.
    pub async fn plans(&self) -> Result<Vec<Plan>, StoreError> {
        let sql = format!("SELECT {PLAN_COLUMNS} FROM plans ORDER BY name");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?)
    }

    /// Creates or replaces a plan.
    pub async fn put_plan(&self, plan: &Plan) -> Result<(), StoreError> {
        let at = now();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO plans (name, currency, monthly_price_cents, invocations_quota, storage_quota_bytes, \
             price_per_million_invocations_cents, price_per_compute_hour_cents, price_per_gib_egress_cents, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (name) DO UPDATE SET currency = excluded.currency, \
             monthly_price_cents = excluded.monthly_price_cents, invocations_quota = excluded.invocations_quota, \
             storage_quota_bytes = excluded.storage_quota_bytes, \
             price_per_million_invocations_cents = excluded.price_per_million_invocations_cents, \
             price_per_compute_hour_cents = excluded.price_per_compute_hour_cents, \
             price_per_gib_egress_cents = excluded.price_per_gib_egress_cents"
        )
        .bind(&plan.name)
        .bind(&plan.currency)
        .bind(plan.monthly_price_cents)
        .bind(plan.invocations_quota)
        .bind(plan.storage_quota_bytes)
        .bind(plan.price_per_million_invocations_cents)
        .bind(plan.price_per_compute_hour_cents)
        .bind(plan.price_per_gib_egress_cents)
        .bind(&at)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// The plan `tenant` is on; `None` for an unknown tenant.
    pub async fn tenant_plan(&self, tenant: &str) -> Result<Option<Plan>, StoreError> {
        let sql = format!(
            "SELECT {} FROM plans p JOIN tenants t ON t.plan = p.name WHERE t.id = $1",
            PLAN_COLUMNS
                .split(", ")
                .map(|c| format!("p.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(tenant)
            .fetch_optional(pool)
            .await)?)
    }

    /// Moves `tenant` to `plan`. `NotFound` when either is unknown.
    pub async fn set_tenant_plan(&self, tenant: &str, plan: &str) -> Result<(), StoreError> {
        let known = on_pool!(self, |pool| sqlx::query("SELECT 1 FROM plans WHERE name = $1")
            .bind(plan)
            .fetch_optional(pool)
            .await
            .map(|row| row.is_some()))?;
        if !known {
            return Err(StoreError::NotFound(format!("plan `{plan}`")));
        }
        let changed = on_pool!(self, |pool| sqlx::query("UPDATE tenants SET plan = $1 WHERE id = $2")
            .bind(plan)
            .bind(tenant)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("tenant `{tenant}`")));
        }
        Ok(())
    }

    /// Adds `sample` to `plugin`'s usage in `period` (`YYYY-MM`).
    pub async fn add_usage(
        &self,
        tenant: &str,
        plugin: &str,
        period: &str,
        sample: &UsageSample,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO usage (tenant, plugin, period, invocations, wall_micros, fuel, peak_memory_bytes, egress_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant, period, plugin) DO UPDATE SET \
             invocations = usage.invocations + excluded.invocations, \
             wall_micros = usage.wall_micros + excluded.wall_micros, \
             fuel = usage.fuel + excluded.fuel, \
             peak_memory_bytes = CASE WHEN excluded.peak_memory_bytes > usage.peak_memory_bytes \
                 THEN excluded.peak_memory_bytes ELSE usage.peak_memory_bytes END, \
             egress_bytes = usage.egress_bytes + excluded.egress_bytes"
        )
        .bind(tenant)
        .bind(plugin)
        .bind(period)
        .bind(stored(sample.invocations))
        .bind(stored(sample.wall_micros))
        .bind(stored(sample.fuel))
        .bind(stored(sample.peak_memory))
        .bind(stored(sample.egress_bytes))
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Every plugin's usage of `tenant` in `period`, by plugin.
    pub async fn usage(&self, tenant: &str, period: &str) -> Result<Vec<PluginUsage>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT plugin, invocations, wall_micros, fuel, peak_memory_bytes, egress_bytes FROM usage \
             WHERE tenant = $1 AND period = $2 ORDER BY plugin"
        )
        .bind(tenant)
        .bind(period)
        .fetch_all(pool)
        .await)?)
    }

    /// Invocations of `tenant` in `period`, all plugins together.
    pub async fn invocations(&self, tenant: &str, period: &str) -> Result<u64, StoreError> {
        let (total,): (Option<i64>,) = on_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(SUM(invocations) AS BIGINT) FROM usage WHERE tenant = $1 AND period = $2"
        )
        .bind(tenant)
        .bind(period)
        .fetch_one(pool)
        .await)?;
        Ok(total.unwrap_or(0).max(0) as u64)
    }

    /// Bytes `tenant` keeps per plugin: every stored version's component plus
    /// its key-value keys and values, and the site versions it published.
    pub async fn storage(&self, tenant: &str) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_as(
            "SELECT plugin, CAST(SUM(bytes) AS BIGINT) FROM ( \
               SELECT name AS plugin, size AS bytes FROM plugin_versions WHERE tenant = $1 \
               UNION ALL \
               SELECT plugin, OCTET_LENGTH(key) + LENGTH(value) AS bytes FROM kv WHERE tenant = $1 \
               UNION ALL \
               SELECT plugin, bytes FROM site_versions WHERE tenant = $1 \
             ) AS kept GROUP BY plugin ORDER BY plugin"
        )
        .bind(tenant)
        .fetch_all(pool)
        .await)?)
    }
}
