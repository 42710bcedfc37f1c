//! Metering and quotas: each plugin's consumption, added up in memory and
//! written to the store every second per tenant, plugin and month; the
//! invocation and storage quotas of the tenant's plan, checked before work
//! is admitted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use pa_runtime::Usage;
use pa_store::Store;
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::telemetry;

/// How often usage is written and quota state reloaded.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// The usage counters and quota state of every tenant on this node.
pub struct Metering {
    store: Store,
    counters: Mutex<HashMap<(String, String), Arc<Usage>>>,
    quotas: Mutex<HashMap<String, Arc<Quota>>>,
}

/// A tenant's invocation quota in one month and its storage quota, as this
/// node knows them.
struct Quota {
    period: String,
    /// When `period` ends (the next month starts).
    ends: OffsetDateTime,
    plan: String,
    limit: Option<u64>,
    /// Invocations the store held at the last reload.
    stored: u64,
    /// Invocations admitted here since.
    admitted: AtomicU64,
    /// Bytes the tenant may keep.
    storage_limit: Option<u64>,
    /// Bytes it kept at the last reload (counted only under a storage quota).
    storage_kept: u64,
    /// Key-value bytes written here since.
    storage_added: AtomicU64,
}

/// The month `at` falls in, as `YYYY-MM` (UTC).
pub fn period_of(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}

/// The current month, as `YYYY-MM` (UTC).
pub fn current_period() -> String {
    period_of(OffsetDateTime::now_utc())
}

/// When the month after the one `at` falls in starts (UTC).
fn next_period_start(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let (year, month) = match at.month() {
        time::Month::December => (at.year() + 1, time::Month::January),
        m => (at.year(), m.next()),
    };
    time::Date::from_calendar_date(year, month, 1)
        .expect("the first of a month exists")
        .midnight()
        .assume_utc()
}

/// Seconds from now until the next month starts (UTC).
fn seconds_to_next_period() -> u64 {
    let now = OffsetDateTime::now_utc();
    (next_period_start(now) - now).whole_seconds().max(1) as u64
}

impl Metering {
    /// Metering backed by `store`.
    pub fn new(store: Store) -> Metering {
        Metering {
            store,
            counters: Mutex::default(),
            quotas: Mutex::default(),
        }
    }

    /// The counters of `plugin` in `tenant`, shared by all its versions.
    pub fn usage(&self, tenant: &str, plugin: &str) -> Arc<Usage> {
        self.counters
            .lock()
            .unwrap()
            .entry((tenant.to_string(), plugin.to_string()))
            .or_default()
            .clone()
    }

    /// Every plugin's counters on this node, by tenant and plugin.
    pub fn counters(&self) -> Vec<((String, String), Arc<Usage>)> {
        self.counters
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Admits one invocation of `tenant`, or refuses it with 429 when the
    /// month's quota is used up.
    pub async fn admit(&self, tenant: &str) -> Result<(), ApiError> {
        let quota = self.quota(tenant).await?;
        let Some(limit) = quota.limit else {
            return Ok(());
        };
        let admitted = quota.admitted.fetch_add(1, Ordering::Relaxed);
        if quota.stored + admitted < limit {
            return Ok(());
        }
        quota.admitted.fetch_sub(1, Ordering::Relaxed);
        Err(ApiError {
            retry_after: Some(seconds_to_next_period()),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "quota_exceeded",
                format!(
                    "tenant `{tenant}` has used its {limit} invocations of {} (plan `{}`)",
                    quota.period, quota.plan
                ),
            )
        })
    }

    /// Takes `more` bytes of `tenant`'s storage quota (an upload, a key-value
    /// write), or refuses with 413 when its plan's quota would be exceeded.
    /// Counted in memory between reloads, so a burst cannot run past the quota.
    pub async fn reserve_storage(&self, tenant: &str, more: u64) -> Result<(), ApiError> {
        let quota = self.quota(tenant).await?;
        let Some(limit) = quota.storage_limit else {
            return Ok(());
        };
        let added = quota.storage_added.fetch_add(more, Ordering::Relaxed);
        let kept = quota.storage_kept + added;
        if kept + more <= limit {
            return Ok(());
        }
        quota.storage_added.fetch_sub(more, Ordering::Relaxed);
        Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "storage_quota_exceeded",
            format!(
                "tenant `{tenant}` keeps {kept} bytes; {more} more would exceed the {limit}-byte storage quota of plan `{}`",
                quota.plan
            ),
        ))
    }

    /// Forgets what is known of `tenant`'s quota (its plan changed).
    pub fn forget(&self, tenant: &str) {
        self.quotas.lock().unwrap().remove(tenant);
    }

    /// Forgets every tenant's quota (a plan changed).
    pub fn forget_all(&self) {
        self.quotas.lock().unwrap().clear();
    }

    async fn quota(&self, tenant: &str) -> Result<Arc<Quota>, ApiError> {
        let known = self.quotas.lock().unwrap().get(tenant).cloned();
        if let Some(quota) = known
            && OffsetDateTime::now_utc() < quota.ends
        {
            return Ok(quota);
        }
        let quota = Arc::new(self.load_quota(tenant, OffsetDateTime::now_utc()).await?);
        self.quotas.lock().unwrap().insert(tenant.to_string(), quota.clone());
        Ok(quota)
    }

    /// `tenant`'s quota state in the month `at` falls in.
    async fn load_quota(&self, tenant: &str, at: OffsetDateTime) -> Result<Quota, ApiError> {
        let (period, ends) = (period_of(at), next_period_start(at));
        let plan = telemetry::store("tenant_plan", self.store.tenant_plan(tenant))
            .await?
            .ok_or_else(|| ApiError::not_found(format!("tenant `{tenant}` not found")))?;
        let stored = telemetry::store("invocations", self.store.invocations(tenant, &period)).await?;
        let storage_limit = plan.storage_quota_bytes.map(|q| q.max(0) as u64);
        let storage_kept = match storage_limit {
            Some(_) => self
                .store
                .storage(tenant)
                .await?
                .iter()
                .map(|(_, b)| b.max(&0))
                .sum::<i64>() as u64,
            None => 0,
        };
        Ok(Quota {
            period,
            ends,
            plan: plan.name,
            limit: plan.invocations_quota.map(|q| q.max(0) as u64),
            stored,
            admitted: AtomicU64::new(0),
            storage_limit,
            storage_kept,
            storage_added: AtomicU64::new(0),
        })
    }

    /// Writes every counter's consumption since the last flush to the store,
    /// then reloads the quota state of the tenants seen (other nodes' usage
    /// and plan changes arrive this way).
    pub async fn flush(&self) {
        let now = OffsetDateTime::now_utc();
        let period = period_of(now);
        for ((tenant, plugin), usage) in self.counters() {
            let sample = usage.take();
            if sample.is_empty() {
                continue;
            }
            if let Err(e) = self.store.add_usage(&tenant, &plugin, &period, &sample).await {
                crate::metrics::store_error("metering");
                tracing::error!(%tenant, %plugin, error = %e, "could not record usage");
            }
        }
        let tenants: Vec<String> = self.quotas.lock().unwrap().keys().cloned().collect();
        for tenant in tenants {
            match self.load_quota(&tenant, now).await {
                Ok(quota) => {
                    self.quotas.lock().unwrap().insert(tenant, Arc::new(quota));
                }
                Err(_) => self.forget(&tenant),
            }
        }
    }

    /// Flushes every [`FLUSH_EVERY`] until the process ends.
    pub fn spawn_flusher(self: &Arc<Self>) {
        let metering = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FLUSH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(metering) = metering.upgrade() else { return };
                metering.flush().await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn periods_are_utc_months() {
        assert_eq!(period_of(datetime!(2026-11-30 23:59:59 UTC)), "2026-11");
        assert_eq!(period_of(datetime!(2026-11-30 23:30:00 -01:00)), "2026-12");
        assert_eq!(
            next_period_start(datetime!(2026-12-31 23:59:59 UTC)),
            datetime!(2027-01-01 00:00:00 UTC)
        );
        assert_eq!(
            next_period_start(datetime!(2026-11-30 23:30:00 -01:00)),
            datetime!(2027-01-01 00:00:00 UTC)
        );
        assert!(seconds_to_next_period() <= 31 * 24 * 3600);
    }
}
