//! Per-plugin health: a circuit breaker that fails calls fast after repeated
//! failures and lets one probe through to close again, and the outcome
//! counts of a canary version that decide its automatic rollback.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// When the breaker opens and for how long.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CircuitPolicy {
    /// Consecutive failed calls (trap, timeout, memory) that open it.
    #[schema(minimum = 1, maximum = 10000)]
    pub failures: u32,
    /// How long it stays open before a probe call may try again, in ms.
    #[schema(minimum = 1, maximum = 3600000)]
    pub open_ms: u64,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        CircuitPolicy {
            failures: 5,
            open_ms: 30_000,
        }
    }
}

impl CircuitPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=10_000).contains(&self.failures) {
            return Err(format!(
                "circuit.failures must be between 1 and 10000, got {}",
                self.failures
            ));
        }
        if !(1..=3_600_000).contains(&self.open_ms) {
            return Err(format!(
                "circuit.open_ms must be between 1 and 3600000, got {}",
                self.open_ms
            ));
        }
        Ok(())
    }
}

#[derive(Debug)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        failures: u32,
    },
    /// One probe call is running.
    HalfOpen,
}

/// A circuit breaker.
pub struct Breaker {
    policy: CircuitPolicy,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(policy: CircuitPolicy) -> Breaker {
        Breaker {
            policy,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Whether a call may run now; otherwise how long until one may.
    pub fn admit(&self) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until, .. } => {
                let now = Instant::now();
                if now >= until {
                    *state = State::HalfOpen;
                    Ok(())
                } else {
                    Err(until - now)
                }
            }
            State::HalfOpen => Err(Duration::ZERO),
        }
    }

    /// Records the outcome of an admitted call.
    pub fn record(&self, ok: bool) {
        let mut state = self.state.lock().unwrap();
        let failures = match *state {
            State::Closed { failures } => failures,
            State::Open { failures, .. } => failures,
            State::HalfOpen => self.policy.failures - 1,
        };
        *state = if ok {
            State::Closed { failures: 0 }
        } else if failures + 1 >= self.policy.failures {
            State::Open {
                until: Instant::now() + Duration::from_millis(self.policy.open_ms),
                failures: failures + 1,
            }
        } else {
            State::Closed { failures: failures + 1 }
        };
    }

    /// The state as the API shows it.
    pub fn snapshot(&self) -> Value {
        match *self.state.lock().unwrap() {
            State::Closed { failures } => json!({ "state": "closed", "consecutive_failures": failures }),
            State::Open { until, failures } => json!({
                "state": "open",
                "consecutive_failures": failures,
                "retry_in_ms": until.saturating_duration_since(Instant::now()).as_millis() as u64,
            }),
            State::HalfOpen => json!({ "state": "half-open" }),
        }
    }
}

/// A version served to a share of calls, and when it is rolled back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CanaryPolicy {
    /// The version under test.
    pub version: String,
    /// Percent of calls routed to it (1-99).
    #[schema(minimum = 1, maximum = 99)]
    pub weight: u8,
    /// Error rate (0-1) past which it is rolled back.
    #[serde(default = "default_max_error_rate")]
    #[schema(minimum = 0, maximum = 1)]
    pub max_error_rate: f64,
    /// Calls it must have served before its error rate counts.
    #[serde(default = "default_min_calls")]
    #[schema(minimum = 1)]
    pub min_calls: u64,
    /// Its own grants; the stable version's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<crate::deploy::Grants>,
}

fn default_max_error_rate() -> f64 {
    0.1
}

fn default_min_calls() -> u64 {
    20
}

impl CanaryPolicy {
    pub fn validate(&self, stable: &str) -> Result<(), String> {
        if !(1..=99).contains(&self.weight) {
            return Err(format!("canary.weight must be between 1 and 99, got {}", self.weight));
        }
        if !(0.0..=1.0).contains(&self.max_error_rate) {
            return Err(format!(
                "canary.max_error_rate must be between 0 and 1, got {}",
                self.max_error_rate
            ));
        }
        if self.min_calls == 0 {
            return Err("canary.min_calls must be at least 1".into());
        }
        if self.version == stable {
            return Err(format!(
                "the canary version must differ from the stable version `{stable}`"
            ));
        }
        Ok(())
    }
}

/// Calls and failures of a canary.
#[derive(Default)]
pub struct CanaryStats {
    calls: AtomicU64,
    errors: AtomicU64,
}

impl CanaryStats {
    /// Records a call; true when the canary is now past its error budget.
    pub fn record(&self, ok: bool, policy: &CanaryPolicy) -> bool {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let errors = if ok {
            self.errors.load(Ordering::Relaxed)
        } else {
            self.errors.fetch_add(1, Ordering::Relaxed) + 1
        };
        calls >= policy.min_calls && errors as f64 / calls as f64 > policy.max_error_rate
    }

    pub fn snapshot(&self) -> Value {
        json!({ "calls": self.calls.load(Ordering::Relaxed), "errors": self.errors.load(Ordering::Relaxed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breaker_opens_after_failures_and_a_probe_closes_it() {
        let breaker = Breaker::new(CircuitPolicy {
            failures: 2,
            open_ms: 20,
        });
        breaker.record(false);
        assert!(breaker.admit().is_ok());
        breaker.record(false);
        assert!(breaker.admit().is_err(), "open after 2 failures");
        std::thread::sleep(Duration::from_millis(25));
        assert!(breaker.admit().is_ok(), "half-open lets one probe through");
        assert!(breaker.admit().is_err(), "only one probe at a time");
        breaker.record(false);
        assert!(breaker.admit().is_err(), "a failed probe opens it again");
        std::thread::sleep(Duration::from_millis(25));
        assert!(breaker.admit().is_ok());
        breaker.record(true);
        assert_eq!(breaker.snapshot()["state"], "closed");
    }

    #[test]
    fn a_canary_is_judged_after_its_minimum_calls() {
        let policy = CanaryPolicy {
            version: "2.0.0".into(),
            weight: 10,
            max_error_rate: 0.5,
            min_calls: 4,
            grants: None,
        };
        let stats = CanaryStats::default();
        assert!(!stats.record(false, &policy));
        assert!(!stats.record(false, &policy));
        assert!(!stats.record(true, &policy), "3 calls are below the minimum");
        assert!(stats.record(false, &policy), "3 errors in 4 calls is past 50%");
    }
}
