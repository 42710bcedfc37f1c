//! Plans, usage and invoices: what each tenant consumed per plugin and month,
//! its quotas, and the month's invoice priced by its plan.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use pa_store::{Plan, PluginUsage};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{check_name, parse_json};
use crate::error::ApiError;
use crate::metering::current_period;
use crate::platform::Platform;

/// A plan as `PUT /api/v1/plans/{plan}` takes it. Quotas left out are unlimited.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// ISO 4217 currency code of every price.
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
    /// Flat price per month, in cents.
    #[schema(minimum = 0)]
    monthly_price_cents: i64,
    /// Invocations allowed per month.
    #[schema(minimum = 0)]
    invocations_quota: Option<i64>,
    /// Bytes of components and key-value data a tenant may keep.
    #[schema(minimum = 0)]
    storage_quota_bytes: Option<i64>,
    /// Price of one million invocations, in cents.
    #[serde(default)]
    #[schema(minimum = 0)]
    price_per_million_invocations_cents: i64,
    /// Price of one hour of call time, in cents.
    #[serde(default)]
    #[schema(minimum = 0)]
    price_per_compute_hour_cents: i64,
    /// Price of one GiB of egress, in cents.
    #[serde(default)]
    #[schema(minimum = 0)]
    price_per_gib_egress_cents: i64,
}

/// `PUT /api/v1/tenants/{tenant}/plan`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPlanRequest {
    #[schema(pattern = "^[a-z][a-z0-9-]{0,62}$")]
    plan: String,
}

/// `?period=YYYY-MM` of the usage endpoint.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    period: Option<String>,
}

/// `GET /api/v1/plans`.
pub async fn list_plans(State(platform): State<Platform>) -> Result<Response, ApiError> {
    Ok(Json(json!({ "plans": platform.store.plans().await? })).into_response())
}

/// `PUT /api/v1/plans/{plan}` (platform admin): creates or replaces a plan.
pub async fn put_plan(
    State(platform): State<Platform>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_name("plan", &name)?;
    let request: PlanRequest = parse_json(&body)?;
    let valid_currency = request.currency.len() == 3 && request.currency.chars().all(|c| c.is_ascii_uppercase());
    if !valid_currency {
        return Err(ApiError::bad_request(format!(
            "invalid currency `{}`: use an ISO 4217 code such as USD",
            request.currency
        )));
    }
    let amounts = [
        ("monthly_price_cents", Some(request.monthly_price_cents)),
        ("invocations_quota", request.invocations_quota),
        ("storage_quota_bytes", request.storage_quota_bytes),
        (
            "price_per_million_invocations_cents",
            Some(request.price_per_million_invocations_cents),
        ),
        (
            "price_per_compute_hour_cents",
            Some(request.price_per_compute_hour_cents),
        ),
        ("price_per_gib_egress_cents", Some(request.price_per_gib_egress_cents)),
    ];
    if let Some((field, _)) = amounts.iter().find(|(_, v)| v.is_some_and(|v| v < 0)) {
        return Err(ApiError::bad_request(format!("`{field}` must not be negative")));
    }
    let plan = Plan {
        name,
        currency: request.currency,
        monthly_price_cents: request.monthly_price_cents,
        invocations_quota: request.invocations_quota,
        storage_quota_bytes: request.storage_quota_bytes,
        price_per_million_invocations_cents: request.price_per_million_invocations_cents,
        price_per_compute_hour_cents: request.price_per_compute_hour_cents,
        price_per_gib_egress_cents: request.price_per_gib_egress_cents,
    };
    platform.store.put_plan(&plan).await?;
    platform.metering.forget_all();
    Ok(Json(plan).into_response())
}

/// `PUT /api/v1/tenants/{tenant}/plan` (platform admin): moves the tenant to a plan.
pub async fn set_tenant_plan(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: TenantPlanRequest = parse_json(&body)?;
    platform.store.set_tenant_plan(&tenant, &request.plan).await?;
    platform.metering.forget(&tenant);
    Ok(Json(json!({ "tenant": tenant, "plan": request.plan })).into_response())
}

/// A month, `YYYY-MM`.
fn check_period(period: &str) -> Result<(), ApiError> {
    let bytes = period.as_bytes();
    let valid = bytes.len() == 7
        && bytes[4] == b'-'
        && period[..4].bytes().all(|b| b.is_ascii_digit())
        && matches!(period[5..].parse::<u8>(), Ok(1..=12))
        && period[5..].bytes().all(|b| b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid period `{period}`: use a month as YYYY-MM"
        )))
    }
}

/// One plugin's usage and storage.
#[derive(Serialize)]
struct PluginLine {
    #[serde(flatten)]
    usage: PluginUsage,
    storage_bytes: i64,
}

/// The tenant's plan, and its usage in `period` per plugin with the current
/// storage (usage of the running month includes every call up to now).
async fn tenant_usage(platform: &Platform, tenant: &str, period: &str) -> Result<(Plan, Vec<PluginLine>), ApiError> {
    let plan = platform
        .store
        .tenant_plan(tenant)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("tenant `{tenant}` not found")))?;
    if period == current_period() {
        platform.metering.flush().await;
    }
    let mut lines: Vec<PluginLine> = platform
        .store
        .usage(tenant, period)
        .await?
        .into_iter()
        .map(|usage| PluginLine {
            usage,
            storage_bytes: 0,
        })
        .collect();
    for (plugin, bytes) in platform.store.storage(tenant).await? {
        match lines.iter_mut().find(|l| l.usage.plugin == plugin) {
            Some(line) => line.storage_bytes = bytes,
            None => lines.push(PluginLine {
                usage: PluginUsage {
                    plugin,
                    ..PluginUsage::default()
                },
                storage_bytes: bytes,
            }),
        }
    }
    lines.sort_by(|a, b| a.usage.plugin.cmp(&b.usage.plugin));
    Ok((plan, lines))
}

/// `GET /api/v1/tenants/{tenant}/usage[?period=YYYY-MM]` (this month by default).
pub async fn usage(
    State(platform): State<Platform>,
    Path(tenant): Path<String>,
    params: Result<Query<UsageParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let period = params.period.unwrap_or_else(current_period);
    check_period(&period)?;
    let (plan, plugins) = tenant_usage(&platform, &tenant, &period).await?;
    let sum = |f: fn(&PluginLine) -> i64| plugins.iter().map(f).sum::<i64>();
    let invocations = sum(|l| l.usage.invocations);
    let storage = sum(|l| l.storage_bytes);
    Ok(Json(json!({
        "tenant": tenant,
        "period": period,
        "plan": plan.name,
        "totals": {
            "invocations": invocations,
            "wall_micros": sum(|l| l.usage.wall_micros),
            "fuel": sum(|l| l.usage.fuel),
            "peak_memory_bytes": plugins.iter().map(|l| l.usage.peak_memory_bytes).max().unwrap_or(0),
            "egress_bytes": sum(|l| l.usage.egress_bytes),
            "storage_bytes": storage,
        },
        "quotas": {
            "invocations": { "limit": plan.invocations_quota, "used": invocations },
            "storage_bytes": { "limit": plan.storage_quota_bytes, "used": storage },
        },
        "plugins": plugins,
    }))
    .into_response())
}

/// One priced line of an invoice.
#[derive(Serialize, Debug, PartialEq)]
struct InvoiceLine {
    item: &'static str,
    description: String,
    /// How much was used, in `unit`s.
    quantity: i64,
    unit: &'static str,
    /// The price of `price_per` units, in cents.
    unit_price_cents: i64,
    price_per: i64,
    amount_cents: i64,
}

/// `quantity × price / per`, rounded half up to a whole cent.
fn amount(quantity: i64, price: i64, per: i64) -> i64 {
    let exact = i128::from(quantity.max(0)) * i128::from(price.max(0));
    let per = i128::from(per.max(1));
    i64::try_from((exact + per / 2) / per).unwrap_or(i64::MAX)
}

fn line(
    item: &'static str,
    description: String,
    quantity: i64,
    unit: &'static str,
    price: i64,
    per: i64,
) -> InvoiceLine {
    InvoiceLine {
        item,
        description,
        quantity,
        unit,
        unit_price_cents: price,
        price_per: per,
        amount_cents: amount(quantity, price, per),
    }
}

/// The priced lines of a month's usage under `plan`.
fn invoice_lines(plan: &Plan, plugins: &[PluginLine]) -> Vec<InvoiceLine> {
    let sum = |f: fn(&PluginUsage) -> i64| plugins.iter().map(|l| f(&l.usage)).sum::<i64>();
    vec![
        line(
            "plan",
            format!("Plan `{}`, monthly fee", plan.name),
            1,
            "month",
            plan.monthly_price_cents,
            1,
        ),
        line(
            "invocations",
            "Invocations".into(),
            sum(|u| u.invocations),
            "invocation",
            plan.price_per_million_invocations_cents,
            1_000_000,
        ),
        line(
            "compute",
            "Call time".into(),
            sum(|u| u.wall_micros),
            "microsecond",
            plan.price_per_compute_hour_cents,
            3_600_000_000,
        ),
        line(
            "egress",
            "Outbound traffic".into(),
            sum(|u| u.egress_bytes),
            "byte",
            plan.price_per_gib_egress_cents,
            1 << 30,
        ),
    ]
}

/// `GET /api/v1/tenants/{tenant}/invoices/{period}`: the month's invoice
/// (`open` while the month runs, `final` after).
pub async fn invoice(
    State(platform): State<Platform>,
    Path((tenant, period)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    check_period(&period)?;
    let now = current_period();
    if period > now {
        return Err(ApiError::not_found(format!(
            "no invoice for {period}: the month has not started"
        )));
    }
    let (plan, plugins) = tenant_usage(&platform, &tenant, &period).await?;
    let lines = invoice_lines(&plan, &plugins);
    let total: i64 = lines.iter().map(|l| l.amount_cents).sum();
    Ok(Json(json!({
        "tenant": tenant,
        "period": period,
        "status": if period == now { "open" } else { "final" },
        "plan": plan.name,
        "currency": plan.currency,
        "lines": lines,
        "total_cents": total,
    }))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_half_up_to_cents() {
        assert_eq!(amount(1, 4_900, 1), 4_900);
        assert_eq!(amount(1_500_000, 20, 1_000_000), 30);
        assert_eq!(amount(250_000, 2, 1_000_000), 1, "0.5 cent rounds up");
        assert_eq!(amount(249_999, 2, 1_000_000), 0);
        assert_eq!(amount(i64::MAX, i64::MAX, 1), i64::MAX, "saturates");
    }

    #[test]
    fn periods_are_months() {
        for good in ["2026-01", "2026-12", "1999-07"] {
            assert!(check_period(good).is_ok(), "{good}");
        }
        for bad in [
            "2026-00",
            "2026-13",
            "2026-1",
            "26-01-01",
            "2026/01",
            "2026-+1",
            "２０２６-01",
        ] {
            assert!(check_period(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn invoices_price_usage_by_plan() {
        let plan = Plan {
            name: "pro".into(),
            currency: "EUR".into(),
            monthly_price_cents: 4_900,
            invocations_quota: None,
            storage_quota_bytes: None,
            price_per_million_invocations_cents: 40,
            price_per_compute_hour_cents: 360,
            price_per_gib_egress_cents: 9,
        };
        let usage = |plugin: &str, invocations, wall_micros, egress_bytes| PluginLine {
            usage: PluginUsage {
                plugin: plugin.into(),
                invocations,
                wall_micros,
                egress_bytes,
                ..PluginUsage::default()
            },
            storage_bytes: 0,
        };
        let lines = invoice_lines(
            &plan,
            &[
                usage("a", 2_000_000, 1_800_000_000, 1 << 30),
                usage("b", 500_000, 0, 1 << 30),
            ],
        );
        let amounts: Vec<_> = lines.iter().map(|l| (l.item, l.quantity, l.amount_cents)).collect();
        assert_eq!(
            amounts,
            [
                ("plan", 1, 4_900),
                ("invocations", 2_500_000, 100),
                ("compute", 1_800_000_000, 180),
                ("egress", 2 << 30, 18),
            ]
        );
    }
}
