//! Rate limits per client IP, per credential and per tenant: a GCRA token
//! bucket, kept in Redis when the platform has one (shared by every node) and
//! in process otherwise. Answers `429` with `Retry-After`; every limited
//! response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};
use sha2::Digest;

use crate::error::ApiError;
use crate::platform::Platform;

/// A rate: `count` requests per `period`, as burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (also the burst).
    pub count: u32,
    /// The period.
    pub period: Duration,
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `N/s`, `N/min` or `N/h`.
    fn from_str(text: &str) -> Result<Rate, String> {
        let bad = || format!("invalid rate `{text}`: use N/s, N/min or N/h (e.g. 100/s)");
        let (count, unit) = text.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(bad());
        }
        Ok(Rate { count, period })
    }
}

/// The configured limits; `None` means unlimited.
#[derive(Debug, Clone, Copy, Default)]
pub struct RateLimits {
    /// Per client IP address.
    pub ip: Option<Rate>,
    /// Per API key or access token.
    pub key: Option<Rate>,
    /// Per tenant (API, functions and MCP endpoint together).
    pub tenant: Option<Rate>,
}

/// What one check found.
#[derive(Debug, Clone, Copy)]
struct Verdict {
    allowed: bool,
    limit: u32,
    remaining: u32,
    /// Until the bucket is full again (allowed) or the next request may pass (refused).
    wait: Duration,
}

type Local = RateLimiter<
    String,
    governor::state::keyed::DefaultKeyedStateStore<String>,
    governor::clock::DefaultClock,
    StateInformationMiddleware,
>;

enum Backend {
    Local(Vec<(Rate, Local)>),
    Redis {
        connection: redis::aio::ConnectionManager,
        gcra: redis::Script,
        prefix: String,
    },
}

/// The platform's rate limiter.
pub struct Limiter {
    limits: RateLimits,
    backend: Backend,
}

/// GCRA in Redis: KEYS[1] holds the theoretical arrival time in ms; ARGV are
/// the emission interval and the burst tolerance in ms. Uses the server's
/// clock so every node agrees. Returns {allowed, remaining, wait_ms}.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return {0, 0, allow_at - now}
end
local new_tat = tat + emission
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1000)
local remaining = math.floor((tolerance - (new_tat - now) + emission) / emission)
if remaining < 0 then remaining = 0 end
return {1, remaining, new_tat - now}
";

impl Limiter {
    /// A limiter with `limits`, in Redis at `redis_url` (keys under `prefix`) or in process.
    pub async fn new(limits: RateLimits, redis_url: Option<&str>, prefix: &str) -> anyhow::Result<Limiter> {
        let backend = match redis_url {
            Some(url) => {
                let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid Redis URL `{url}`: {e}"))?;
                let connection = redis::aio::ConnectionManager::new(client)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot connect to Redis at {url}: {e}"))?;
                Backend::Redis {
                    connection,
                    gcra: redis::Script::new(GCRA),
                    prefix: prefix.to_string(),
                }
            }
            None => {
                let mut local = Vec::new();
                for rate in [limits.ip, limits.key, limits.tenant].into_iter().flatten() {
                    local.push((rate, local_limiter(rate)));
                }
                Backend::Local(local)
            }
        };
        Ok(Limiter { limits, backend })
    }

    /// Whether any limit is configured.
    pub fn is_active(&self) -> bool {
        self.limits.ip.is_some() || self.limits.key.is_some() || self.limits.tenant.is_some()
    }

    async fn check(&self, scope: &str, id: &str, rate: Rate) -> Result<Verdict, ApiError> {
        match &self.backend {
            Backend::Local(limiters) => {
                let (_, limiter) = limiters
                    .iter()
                    .find(|(r, _)| *r == rate)
                    .expect("a limiter per configured rate");
                let key = format!("{scope}:{id}");
                Ok(match limiter.check_key(&key) {
                    Ok(state) => Verdict {
                        allowed: true,
                        limit: rate.count,
                        remaining: state.remaining_burst_capacity(),
                        wait: rate.period,
                    },
                    Err(not_until) => Verdict {
                        allowed: false,
                        limit: rate.count,
                        remaining: 0,
                        wait: not_until
                            .wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default())),
                    },
                })
            }
            Backend::Redis {
                connection,
                gcra,
                prefix,
            } => {
                let emission = (rate.period.as_millis() as u64 / rate.count as u64).max(1);
                let tolerance = emission * (rate.count as u64 - 1);
                let (allowed, remaining, wait_ms): (i64, i64, i64) = gcra
                    .key(format!("{prefix}rl:{scope}:{id}"))
                    .arg(emission)
                    .arg(tolerance)
                    .invoke_async(&mut connection.clone())
                    .await
                    .map_err(|e| {
                        crate::metrics::redis_error("rate_limit");
                        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "rate_limiter", format!("Redis: {e}"))
                    })?;
                Ok(Verdict {
                    allowed: allowed == 1,
                    limit: rate.count,
                    remaining: remaining.max(0) as u32,
                    wait: Duration::from_millis(wait_ms.max(0) as u64),
                })
            }
        }
    }
}

fn local_limiter(rate: Rate) -> Local {
    let count = NonZeroU32::new(rate.count).expect("rates are positive");
    let quota = Quota::with_period(rate.period / rate.count)
        .expect("a positive period")
        .allow_burst(count);
    RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>()
}

/// The tenant a request is for, from `/t/{tenant}/…` or `/api/v1/tenants/{tenant}/…`.
fn tenant_of(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/t/")
        .or_else(|| path.strip_prefix("/api/v1/tenants/"))?;
    let tenant = rest.split('/').next()?;
    (!tenant.is_empty()).then_some(tenant)
}

fn credential_of(headers: &HeaderMap) -> Option<String> {
    let token = crate::auth::bearer(headers)?;
    Some(hex::encode(&sha2::Sha256::digest(token.as_bytes())[..12]))
}

fn set_headers(headers: &mut HeaderMap, v: &Verdict) {
    let seconds = v.wait.as_secs_f64().ceil() as u64;
    headers.insert("ratelimit-limit", HeaderValue::from(v.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(v.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(seconds));
}

/// Middleware: checks the IP, credential and tenant limits before the request runs.
pub async fn limit(State(platform): State<Platform>, request: Request, next: Next) -> Response {
    let limiter: &Arc<Limiter> = &platform.limiter;
    if !limiter.is_active() {
        return next.run(request).await;
    }
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let checks = [
        ("ip", limiter.limits.ip, ip),
        ("key", limiter.limits.key, credential_of(request.headers())),
        (
            "tenant",
            limiter.limits.tenant,
            tenant_of(request.uri().path()).map(str::to_string),
        ),
    ];
    let mut tightest: Option<Verdict> = None;
    for (scope, rate, id) in checks {
        let (Some(rate), Some(id)) = (rate, id) else { continue };
        let verdict = match limiter.check(scope, &id, rate).await {
            Ok(v) => v,
            Err(e) => return e.into_response(),
        };
        if !verdict.allowed {
            let seconds = verdict.wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = ApiError {
                retry_after: Some(seconds),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "the {scope} rate limit of {} requests per {:?} is used up; retry in {seconds} s",
                        rate.count, rate.period
                    ),
                )
            }
            .into_response();
            set_headers(response.headers_mut(), &verdict);
            return response;
        }
        if tightest.is_none_or(|t| verdict.remaining < t.remaining) {
            tightest = Some(verdict);
        }
    }
    let mut response = next.run(request).await;
    if let Some(verdict) = tightest {
        set_headers(response.headers_mut(), &verdict);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(
            "100/s".parse::<Rate>().unwrap(),
            Rate {
                count: 100,
                period: Duration::from_secs(1)
            }
        );
        assert_eq!("5/min".parse::<Rate>().unwrap().period, Duration::from_secs(60));
        for bad in ["0/s", "x/s", "5/day", "5"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn tenants_are_found_in_both_path_forms() {
        assert_eq!(tenant_of("/t/acme/mcp"), Some("acme"));
        assert_eq!(tenant_of("/api/v1/tenants/acme/plugins"), Some("acme"));
        assert_eq!(tenant_of("/api/v1/tenants"), None);
        assert_eq!(tenant_of("/healthz"), None);
    }

    #[tokio::test]
    async fn the_local_bucket_refuses_past_its_burst_per_key() {
        let rate = Rate {
            count: 3,
            period: Duration::from_secs(60),
        };
        let limits = RateLimits {
            key: Some(rate),
            ..Default::default()
        };
        let limiter = Limiter::new(limits, None, "").await.unwrap();
        let mut remaining = Vec::new();
        for _ in 0..3 {
            let v = limiter.check("key", "a", rate).await.unwrap();
            assert!(v.allowed);
            remaining.push(v.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.check("key", "a", rate).await.unwrap();
        assert!(!refused.allowed);
        assert!(refused.wait > Duration::from_secs(10), "{:?}", refused.wait);
        assert!(
            limiter.check("key", "b", rate).await.unwrap().allowed,
            "another key has its own bucket"
        );
    }
}
