//! The Prometheus text exposition format (version 0.0.4).
//!
//! `# HELP name text` and `# TYPE name type` lines describe metric families,
//! other `#` lines are comments, and every other non-blank line is a sample:
//! `name{label="value",…} value [timestamp]`. Label values unescape `\\`,
//! `\"` and `\n`; values may be `NaN`, `+Inf` or `-Inf`. Malformed lines are
//! errors naming the line.

use serde_json::{Map, Value, json};

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub timestamp: Option<i64>,
    pub line: usize,
}

impl Sample {
    /// JSON; non-finite values are written as the strings `NaN`, `+Inf`, `-Inf`.
    pub fn to_json(&self) -> Value {
        let labels: Map<String, Value> = self.labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        json!({ "name": self.name, "labels": labels, "value": number_json(self.value), "timestamp": self.timestamp })
    }
}

/// A finite number as a JSON number, else its exposition spelling.
pub fn number_json(v: f64) -> Value {
    if v.is_nan() {
        json!("NaN")
    } else if v.is_infinite() {
        json!(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        json!(v)
    }
}

/// A metric family's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub kind: String,
    pub help: Option<String>,
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses a sample value (Go's `ParseFloat` spellings the format allows).
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ if s.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) => s.parse().ok(),
        _ => None,
    }
}

/// Label pairs in the order written.
type Labels = Vec<(String, String)>;

/// The labels inside `{…}`; `s` starts after the `{`. Returns the labels and
/// the rest after the `}`.
fn parse_labels(s: &str, line: usize) -> Result<(Labels, &str), String> {
    let mut labels: Labels = Vec::new();
    let mut rest = s.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("line {line}: expected `label=\"value\"` in the label set"))?;
        let name = rest[..eq].trim();
        if !is_label_name(name) {
            return Err(format!("line {line}: invalid label name `{name}`"));
        }
        if labels.iter().any(|(n, _)| n == name) {
            return Err(format!("line {line}: label `{name}` appears twice"));
        }
        rest = rest[eq + 1..].trim_start();
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("line {line}: the value of label `{name}` must be quoted"))?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("line {line}: unterminated label value")),
                },
                Some((_, c)) => value.push(c),
                None => return Err(format!("line {line}: unterminated label value")),
            }
        };
        labels.push((name.to_string(), value));
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.starts_with('}') {
            return Err(format!("line {line}: expected `,` or `}}` after label `{name}`"));
        }
    }
}

fn unescape_help(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses exposition text into samples and families.
pub fn parse(text: &str) -> Result<(Vec<Sample>, Vec<Family>), String> {
    let mut samples = Vec::new();
    let mut families: Vec<Family> = Vec::new();
    let family = |families: &mut Vec<Family>, name: &str| -> usize {
        match families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                families.push(Family {
                    name: name.into(),
                    kind: "untyped".into(),
                    help: None,
                });
                families.len() - 1
            }
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim_start();
            let (keyword, rest) = comment.split_once(char::is_whitespace).unwrap_or((comment, ""));
            if keyword != "HELP" && keyword != "TYPE" {
                continue;
            }
            let rest = rest.trim_start();
            let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if !is_metric_name(name) {
                return Err(format!("line {n}: invalid metric name `{name}` in # {keyword}"));
            }
            let f = family(&mut families, name);
            if keyword == "HELP" {
                families[f].help = Some(unescape_help(value.trim()));
            } else {
                let kind = value.trim();
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                    return Err(format!("line {n}: unknown metric type `{kind}` for `{name}`"));
                }
                families[f].kind = kind.to_string();
            }
            continue;
        }
        let name_end = line.find(|c: char| c == '{' || c.is_whitespace()).unwrap_or(line.len());
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(format!("line {n}: invalid metric name `{name}`"));
        }
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(after) = rest.strip_prefix('{') {
            let (l, after) = parse_labels(after, n)?;
            labels = l;
            rest = after;
        }
        let mut fields = rest.split_whitespace();
        let value_text = fields
            .next()
            .ok_or_else(|| format!("line {n}: `{name}` has no value"))?;
        let value = parse_value(value_text).ok_or_else(|| format!("line {n}: `{value_text}` is not a number"))?;
        let timestamp = match fields.next() {
            Some(t) => Some(
                t.parse::<i64>()
                    .map_err(|_| format!("line {n}: timestamp `{t}` is not an integer"))?,
            ),
            None => None,
        };
        if fields.next().is_some() {
            return Err(format!("line {n}: unexpected text after the value"));
        }
        samples.push(Sample {
            name: name.into(),
            labels,
            value,
            timestamp,
            line: n,
        });
    }
    Ok((samples, families))
}

/// The family a sample belongs to (`x_bucket`, `x_sum`, `x_count` of a
/// histogram or summary `x`).
pub fn family_of<'f>(name: &str, families: &'f [Family]) -> Option<&'f Family> {
    families.iter().find(|f| f.name == name).or_else(|| {
        ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
            let base = name.strip_suffix(suffix)?;
            families
                .iter()
                .find(|f| f.name == base && (f.kind == "histogram" || f.kind == "summary"))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A normal comment.
msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
metric_without_timestamp_and_labels 12.47
something_weird{problem="division by zero"} +Inf -3982045
# TYPE rpc_duration_seconds histogram
rpc_duration_seconds_bucket{le="0.05"} 24054
rpc_duration_seconds_bucket{le="+Inf"} 144320
rpc_duration_seconds_sum 53423
rpc_duration_seconds_count 144320
up{job="api",} NaN
"#;

    #[test]
    fn parses_the_reference_example() {
        let (samples, families) = parse(TEXT).unwrap();
        assert_eq!(samples.len(), 10);
        assert_eq!(
            samples[0].labels,
            [("method".into(), "post".into()), ("code".into(), "200".into())]
        );
        assert_eq!((samples[0].value, samples[0].timestamp), (1027.0, Some(1395066363000)));
        assert_eq!(samples[2].labels[0].1, r"C:\DIR\FILE.TXT");
        assert_eq!(samples[2].labels[1].1, "Cannot find file:\n\"FILE.TXT\"");
        assert_eq!(samples[2].value, 1.458255915e9);
        assert!(samples[4].value.is_infinite() && samples[4].timestamp == Some(-3982045));
        assert!(samples[9].value.is_nan());
        assert_eq!(samples[9].to_json()["value"], "NaN");
        assert_eq!(
            families[0],
            Family {
                name: "http_requests_total".into(),
                kind: "counter".into(),
                help: Some("The total number of HTTP requests.".into())
            }
        );
        assert_eq!(
            family_of("rpc_duration_seconds_bucket", &families).unwrap().kind,
            "histogram"
        );
        assert!(family_of("metric_without_timestamp_and_labels", &families).is_none());
    }

    #[test]
    fn reports_malformed_lines() {
        let err = |t: &str| parse(t).unwrap_err();
        assert_eq!(err("ok 1\n9bad 1"), "line 2: invalid metric name `9bad`");
        assert_eq!(err("m{a=\"1\",a=\"2\"} 1"), "line 1: label `a` appears twice");
        assert_eq!(err("m{a=1} 1"), "line 1: the value of label `a` must be quoted");
        assert_eq!(err("m{a=\"1\" 1"), "line 1: expected `,` or `}` after label `a`");
        assert_eq!(err("m"), "line 1: `m` has no value");
        assert_eq!(err("m abc"), "line 1: `abc` is not a number");
        assert_eq!(err("# TYPE m countr"), "line 1: unknown metric type `countr` for `m`");
        assert_eq!(err("m 1 2 3"), "line 1: unexpected text after the value");
    }
}
