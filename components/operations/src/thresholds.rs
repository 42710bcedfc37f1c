//! Threshold rules over parsed samples.
//!
//! A rule `{"metric", "labels"?, "op", "value", "aggregate"?, "missing"?,
//! "name"?}` states a condition that must hold. It selects the samples named
//! `metric` whose labels include every pair of `labels`, then either checks
//! each sample (`aggregate` `all`, the default: every sample must satisfy it;
//! `any`: at least one) or compares one aggregate (`sum`, `avg`, `min`,
//! `max`, `count`) of their values. A rule that matches no sample is
//! `no_data`, which fails unless `missing` is `pass`. NaN never satisfies a
//! comparison except `!=`.

use serde_json::{Map, Value, json};

use crate::prom::{Sample, number_json};

/// A parsed rule.
#[derive(Debug)]
pub struct Rule {
    pub name: String,
    pub metric: String,
    pub labels: Vec<(String, String)>,
    pub op: String,
    pub value: f64,
    pub aggregate: String,
    pub missing_passes: bool,
}

const OPS: &[&str] = &[">", ">=", "<", "<=", "==", "!="];
const AGGREGATES: &[&str] = &["all", "any", "sum", "avg", "min", "max", "count"];

/// Reads rule `i` from JSON, naming the field that is wrong.
pub fn parse_rule(i: usize, v: &Value) -> Result<Rule, String> {
    let at = |field: &str| format!("`rules[{i}].{field}`");
    let obj = v.as_object().ok_or_else(|| format!("`rules[{i}]` must be an object"))?;
    let metric = obj
        .get("metric")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| format!("{} is required (a metric name)", at("metric")))?
        .to_string();
    let op = obj.get("op").and_then(Value::as_str).unwrap_or_default().to_string();
    if !OPS.contains(&op.as_str()) {
        return Err(format!("{} must be one of {}", at("op"), OPS.join(" ")));
    }
    let value = obj
        .get("value")
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("{} must be a number", at("value")))?;
    let mut labels = Vec::new();
    match obj.get("labels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("{} must map label names to strings", at("labels")))?;
                labels.push((k.clone(), v.to_string()));
            }
        }
        Some(_) => return Err(format!("{} must be an object of label values", at("labels"))),
    }
    let aggregate = match obj.get("aggregate") {
        None | Some(Value::Null) => "all".to_string(),
        Some(Value::String(a)) if AGGREGATES.contains(&a.as_str()) => a.clone(),
        Some(_) => return Err(format!("{} must be one of {}", at("aggregate"), AGGREGATES.join(", "))),
    };
    let missing_passes = match obj.get("missing").and_then(Value::as_str) {
        None => false,
        Some("pass") => true,
        Some("fail") => false,
        Some(other) => return Err(format!("{} must be `pass` or `fail`, not `{other}`", at("missing"))),
    };
    let selector = if labels.is_empty() {
        metric.clone()
    } else {
        let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{metric}{{{}}}", pairs.join(","))
    };
    let name = match obj.get("name") {
        Some(Value::String(n)) => n.clone(),
        _ if aggregate == "all" => format!("{selector} {op} {value}"),
        _ => format!("{aggregate}({selector}) {op} {value}"),
    };
    Ok(Rule {
        name,
        metric,
        labels,
        op,
        value,
        aggregate,
        missing_passes,
    })
}

fn compare(observed: f64, op: &str, threshold: f64) -> bool {
    match op {
        ">" => observed > threshold,
        ">=" => observed >= threshold,
        "<" => observed < threshold,
        "<=" => observed <= threshold,
        "==" => observed == threshold,
        _ => observed != threshold,
    }
}

/// Evaluates `rule` against `samples`.
pub fn evaluate(rule: &Rule, samples: &[Sample]) -> Value {
    let matched: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            s.name == rule.metric
                && rule
                    .labels
                    .iter()
                    .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
        })
        .collect();
    let labels_json = |s: &Sample| -> Value {
        Value::Object(
            s.labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<Map<_, _>>(),
        )
    };
    if matched.is_empty() {
        let status = if rule.missing_passes { "pass" } else { "no_data" };
        return json!({
            "rule": rule.name, "status": status, "passed": rule.missing_passes, "matched": 0,
            "message": format!("no sample of `{}` matches", rule.metric),
        });
    }
    let values: Vec<f64> = matched.iter().map(|s| s.value).collect();
    let (passed, observed, details) = match rule.aggregate.as_str() {
        "all" | "any" => {
            let checks: Vec<Value> = matched
                .iter()
                .map(|s| json!({ "labels": labels_json(s), "value": number_json(s.value), "ok": compare(s.value, &rule.op, rule.value) }))
                .collect();
            let ok = checks.iter().filter(|c| c["ok"] == true).count();
            let passed = if rule.aggregate == "all" {
                ok == checks.len()
            } else {
                ok > 0
            };
            (passed, Value::Null, Some((checks, ok)))
        }
        agg => {
            let observed = match agg {
                "sum" => values.iter().sum(),
                "avg" => values.iter().sum::<f64>() / values.len() as f64,
                "min" => values.iter().copied().fold(f64::INFINITY, f64::min),
                "max" => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                _ => values.len() as f64,
            };
            (compare(observed, &rule.op, rule.value), number_json(observed), None)
        }
    };
    let message = match &details {
        Some((checks, ok)) => format!(
            "{ok} of {} matching samples satisfy {} {}",
            checks.len(),
            rule.op,
            rule.value
        ),
        None => format!(
            "{}({}) = {observed}, expected {} {}",
            rule.aggregate, rule.metric, rule.op, rule.value
        ),
    };
    let mut result = json!({
        "rule": rule.name,
        "status": if passed { "pass" } else { "fail" },
        "passed": passed,
        "matched": matched.len(),
        "message": message,
    });
    match details {
        Some((checks, _)) => result["samples"] = json!(checks),
        None => result["observed"] = observed,
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prom::parse;

    const TEXT: &str =
        "cpu_usage{host=\"a\"} 0.5\ncpu_usage{host=\"b\"} 0.95\nup{job=\"api\"} 1\nup{job=\"db\"} 0\nerrors NaN\n";

    fn run(rule: Value) -> Value {
        let (samples, _) = parse(TEXT).unwrap();
        evaluate(&parse_rule(0, &rule).unwrap(), &samples)
    }

    #[test]
    fn evaluates_each_sample_or_an_aggregate() {
        let r = run(json!({ "metric": "cpu_usage", "op": "<", "value": 0.9 }));
        assert_eq!((r["status"].as_str(), r["matched"].as_u64()), (Some("fail"), Some(2)));
        assert_eq!(
            r["samples"][1],
            json!({ "labels": { "host": "b" }, "value": 0.95, "ok": false })
        );
        assert_eq!(r["rule"], "cpu_usage < 0.9");
        assert_eq!(
            run(json!({ "metric": "cpu_usage", "labels": { "host": "a" }, "op": "<", "value": 0.9 }))["passed"],
            true
        );
        assert_eq!(
            run(json!({ "metric": "cpu_usage", "op": "<", "value": 0.9, "aggregate": "any" }))["passed"],
            true
        );
        let avg = run(json!({ "metric": "cpu_usage", "op": "<=", "value": 0.8, "aggregate": "avg" }));
        assert_eq!(
            (avg["passed"].as_bool(), avg["observed"].as_f64()),
            (Some(true), Some(0.725))
        );
        assert_eq!(
            run(json!({ "metric": "up", "op": "==", "value": 2, "aggregate": "count" }))["passed"],
            true
        );
        assert_eq!(
            run(json!({ "metric": "up", "op": ">=", "value": 1, "aggregate": "min", "name": "all up" }))["rule"],
            "all up"
        );
        assert_eq!(
            run(json!({ "metric": "errors", "op": "<", "value": 1 }))["passed"],
            false
        );
        assert_eq!(
            run(json!({ "metric": "errors", "op": "!=", "value": 1 }))["passed"],
            true
        );
    }

    #[test]
    fn missing_data_and_bad_rules() {
        let r = run(json!({ "metric": "nope", "op": ">", "value": 0 }));
        assert_eq!(
            (r["status"].as_str(), r["passed"].as_bool()),
            (Some("no_data"), Some(false))
        );
        assert_eq!(
            run(json!({ "metric": "nope", "op": ">", "value": 0, "missing": "pass" }))["passed"],
            true
        );
        let err = |v: Value| parse_rule(3, &v).unwrap_err();
        assert_eq!(
            err(json!({ "op": ">", "value": 1 })),
            "`rules[3].metric` is required (a metric name)"
        );
        assert!(err(json!({ "metric": "m", "op": "=>", "value": 1 })).starts_with("`rules[3].op` must be one of"));
        assert_eq!(
            err(json!({ "metric": "m", "op": ">", "value": "1" })),
            "`rules[3].value` must be a number"
        );
        assert!(err(json!({ "metric": "m", "op": ">", "value": 1, "aggregate": "median" })).contains("aggregate"));
        assert!(err(json!({ "metric": "m", "op": ">", "value": 1, "labels": { "a": 1 } })).contains("labels"));
    }
}
