//! Conventional Commits 1.0.0 linting.
//!
//! A message is `type(scope)!: description`, then optionally a body after one
//! blank line, then optionally footers after one blank line (`Token: value`
//! or `Token #value`, tokens with `-` instead of spaces, except
//! `BREAKING CHANGE`). A `!` before the colon or a `BREAKING CHANGE:` /
//! `BREAKING-CHANGE:` footer (upper case) marks a breaking change. Lines
//! starting with `#` are git comments and are ignored; git's own merge and
//! revert messages (`Merge …`, `Revert "…"`) are accepted without checks.

use serde_json::{Value, json};

/// The types of the Angular convention that most tools use.
pub const DEFAULT_TYPES: &[&str] = &[
    "feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert",
];

/// What the linter is told.
pub struct Rules {
    /// Allowed types (case-insensitive).
    pub types: Vec<String>,
    pub max_header_length: usize,
    pub max_body_line_length: usize,
}

/// A problem found, with the (1-based) line it is on.
fn problem(line: usize, rule: &str, message: String) -> Value {
    json!({ "line": line, "rule": rule, "message": message })
}

/// Whether `line` starts a footer: `Token: ` or `Token #`; returns the token
/// and the value.
pub fn footer_start(line: &str) -> Option<(&str, &str)> {
    for prefix in ["BREAKING CHANGE", "BREAKING-CHANGE"] {
        if let Some(rest) = line.strip_prefix(prefix)
            && let Some(value) = rest.strip_prefix(": ")
        {
            return Some((prefix, value));
        }
    }
    let end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))?;
    let token = &line[..end];
    if token.is_empty() || !token.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let rest = &line[end..];
    if let Some(value) = rest.strip_prefix(": ") {
        Some((token, value))
    } else if rest.starts_with(" #") {
        Some((token, &rest[1..]))
    } else {
        None
    }
}

/// Lints `message`; returns the structured report (`valid`, the parsed parts,
/// `errors` and `warnings`).
pub fn lint_commit(message: &str, rules: &Rules) -> Value {
    // Keep original line numbers while dropping git comment lines.
    let lines: Vec<(usize, &str)> = message
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.starts_with('#'))
        .collect();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let first = lines.iter().position(|(_, l)| !l.trim().is_empty());
    let Some(first) = first else {
        errors.push(problem(1, "header-empty", "the message is empty".into()));
        return report(false, Value::Null, errors, warnings);
    };
    if first > 0 {
        warnings.push(problem(
            lines[0].0,
            "leading-blank",
            "the message starts with blank lines".into(),
        ));
    }
    let (header_line, header) = lines[first];
    if header.starts_with("Merge ") || header.starts_with("Revert \"") {
        warnings.push(problem(
            header_line,
            "git-generated",
            "a git-generated merge or revert message: not checked".into(),
        ));
        return report(true, json!({ "header": header, "ignored": true }), errors, warnings);
    }

    let mut kind = String::new();
    let mut scope: Option<String> = None;
    let mut bang = false;
    let mut description = String::new();
    let type_end = header
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(header.len());
    kind.push_str(&header[..type_end]);
    let mut rest = &header[type_end..];
    let mut header_ok = true;
    if kind.is_empty() {
        errors.push(problem(
            header_line,
            "type-empty",
            "the header must start with a type, e.g. `feat: …`".into(),
        ));
        header_ok = false;
    } else if !kind.starts_with(|c: char| c.is_ascii_alphabetic()) {
        errors.push(problem(
            header_line,
            "type-format",
            format!("type `{kind}` must be a word"),
        ));
    }
    if header_ok && let Some(after) = rest.strip_prefix('(') {
        match after.find(')') {
            Some(end) => {
                let s = &after[..end];
                if s.trim().is_empty() {
                    errors.push(problem(
                        header_line,
                        "scope-empty",
                        "the scope in parentheses is empty".into(),
                    ));
                } else if s.contains('(') || s != s.trim() {
                    errors.push(problem(
                        header_line,
                        "scope-format",
                        format!("scope `{s}` is malformed"),
                    ));
                }
                scope = Some(s.to_string());
                rest = &after[end + 1..];
            }
            None => {
                errors.push(problem(
                    header_line,
                    "scope-format",
                    "the scope's `(` is never closed".into(),
                ));
                header_ok = false;
            }
        }
    }
    if header_ok {
        if let Some(after) = rest.strip_prefix('!') {
            bang = true;
            rest = after;
        }
        if let Some(after) = rest.strip_prefix(": ") {
            description = after.to_string();
        } else if let Some(after) = rest.strip_prefix(':') {
            errors.push(problem(
                header_line,
                "header-format",
                "a space must follow the colon after the type".into(),
            ));
            description = after.trim_start().to_string();
        } else {
            errors.push(problem(
                header_line,
                "header-format",
                "the header must be `type(scope)!: description` (missing `: ` after the type)".into(),
            ));
            header_ok = false;
        }
    }
    if header_ok {
        if description.trim().is_empty() {
            errors.push(problem(
                header_line,
                "description-empty",
                "the description after `: ` is empty".into(),
            ));
        } else if description.starts_with(char::is_whitespace) {
            errors.push(problem(
                header_line,
                "description-format",
                "the description starts with extra spaces".into(),
            ));
        }
        if description.trim_end().ends_with('.') {
            warnings.push(problem(
                header_line,
                "description-full-stop",
                "the description should not end with a period".into(),
            ));
        }
        if !kind.is_empty() {
            let lower = kind.to_ascii_lowercase();
            if !rules.types.iter().any(|t| t.eq_ignore_ascii_case(&kind)) {
                errors.push(problem(
                    header_line,
                    "type-enum",
                    format!("type `{kind}` is not one of: {}", rules.types.join(", ")),
                ));
            } else if lower != kind {
                warnings.push(problem(
                    header_line,
                    "type-case",
                    format!("type `{kind}` is usually written `{lower}`"),
                ));
            }
        }
    }
    let header_len = header.chars().count();
    if header_len > rules.max_header_length {
        errors.push(problem(
            header_line,
            "header-max-length",
            format!(
                "the header is {header_len} characters long (max {})",
                rules.max_header_length
            ),
        ));
    }

    // Body and footers.
    let after: Vec<(usize, &str)> = lines[first + 1..].to_vec();
    if let Some((n, l)) = after.first()
        && !l.trim().is_empty()
    {
        errors.push(problem(
            *n,
            "body-leading-blank",
            "the body must be separated from the header by a blank line".into(),
        ));
    }
    let mut paragraphs: Vec<Vec<(usize, &str)>> = Vec::new();
    let mut current = Vec::new();
    for (n, l) in after {
        if l.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push((n, l));
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    let footer_block = paragraphs.last().is_some_and(|p| footer_start(p[0].1).is_some());
    let footer_lines = if footer_block {
        paragraphs.pop().unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut footers: Vec<Value> = Vec::new();
    let mut breaking_note: Option<String> = None;
    for (n, l) in &footer_lines {
        if let Some((token, value)) = footer_start(l) {
            footers.push(json!({ "token": token, "value": value, "line": n }));
        } else if let Some(last) = footers.last_mut() {
            let value = format!("{}\n{l}", last["value"].as_str().unwrap_or_default());
            last["value"] = json!(value);
        }
    }
    for f in &footers {
        let token = f["token"].as_str().unwrap_or_default();
        if token == "BREAKING CHANGE" || token == "BREAKING-CHANGE" {
            breaking_note = f["value"].as_str().map(str::to_string);
        }
    }
    // A breaking-change footer in the wrong case, in the footers or the body.
    for (n, l) in paragraphs.iter().flatten().chain(footer_lines.iter()) {
        let lower = l.to_ascii_lowercase();
        if (lower.starts_with("breaking change:") || lower.starts_with("breaking-change:"))
            && !(l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:"))
        {
            errors.push(problem(
                *n,
                "breaking-change-case",
                "`BREAKING CHANGE:` must be written in upper case".into(),
            ));
        } else if l.starts_with("BREAKING CHANGE:") && !footer_lines.iter().any(|(m, _)| m == n) {
            errors.push(problem(
                *n,
                "footer-leading-blank",
                "`BREAKING CHANGE:` must start a footer, after one blank line".into(),
            ));
        }
    }
    for (n, l) in paragraphs.iter().flatten() {
        let len = l.chars().count();
        if len > rules.max_body_line_length {
            warnings.push(problem(
                *n,
                "body-max-line-length",
                format!(
                    "body line is {len} characters long (max {})",
                    rules.max_body_line_length
                ),
            ));
        }
    }
    let body: Vec<String> = paragraphs
        .iter()
        .map(|p| p.iter().map(|(_, l)| *l).collect::<Vec<_>>().join("\n"))
        .collect();
    let breaking = bang || breaking_note.is_some();
    let parsed = json!({
        "header": header,
        "type": if kind.is_empty() { Value::Null } else { json!(kind) },
        "scope": scope,
        "breaking": breaking,
        "description": if header_ok { json!(description) } else { Value::Null },
        "body": if body.is_empty() { Value::Null } else { json!(body.join("\n\n")) },
        "footers": footers,
        "breaking_change": breaking_note.or_else(|| bang.then(|| description.clone())),
    });
    report(errors.is_empty(), parsed, errors, warnings)
}

fn report(valid: bool, parsed: Value, errors: Vec<Value>, warnings: Vec<Value>) -> Value {
    json!({ "valid": valid, "commit": parsed, "errors": errors, "warnings": warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            types: DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(),
            max_header_length: 72,
            max_body_line_length: 100,
        }
    }

    fn rule_ids(report: &Value, key: &str) -> Vec<String> {
        report[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["rule"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn parses_a_full_message() {
        let msg = "feat(api)!: send an email when a product ships\n\nThe mailer is queued.\nIt retries.\n\nSecond paragraph.\n\nBREAKING CHANGE: the `ship` endpoint now needs a customer id\nReviewed-by: Z\nRefs #133\n# a git comment\n";
        let r = lint_commit(msg, &rules());
        assert_eq!(r["valid"], true, "{r}");
        let c = &r["commit"];
        assert_eq!((c["type"].as_str(), c["scope"].as_str()), (Some("feat"), Some("api")));
        assert_eq!(c["breaking"], true);
        assert_eq!(c["description"], "send an email when a product ships");
        assert_eq!(c["body"], "The mailer is queued.\nIt retries.\n\nSecond paragraph.");
        let tokens: Vec<&str> = c["footers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["token"].as_str().unwrap())
            .collect();
        assert_eq!(tokens, ["BREAKING CHANGE", "Reviewed-by", "Refs"]);
        assert_eq!(c["footers"][2]["value"], "#133");
        assert_eq!(c["breaking_change"], "the `ship` endpoint now needs a customer id");
    }

    #[test]
    fn simple_and_bang_only() {
        let r = lint_commit("fix: correct typo", &rules());
        assert_eq!(
            (r["valid"].as_bool(), r["commit"]["breaking"].as_bool()),
            (Some(true), Some(false))
        );
        let r = lint_commit("refactor!: drop Node 6", &rules());
        assert_eq!(r["commit"]["breaking"], true);
        assert_eq!(r["commit"]["breaking_change"], "drop Node 6");
    }

    #[test]
    fn reports_errors_with_lines() {
        let r = lint_commit("added stuff", &rules());
        assert_eq!(r["valid"], false);
        assert_eq!(rule_ids(&r, "errors"), ["header-format"]);
        let r = lint_commit("feature(ui):add button.\nbody right away", &rules());
        assert_eq!(
            rule_ids(&r, "errors"),
            ["header-format", "type-enum", "body-leading-blank"]
        );
        assert_eq!(r["errors"][2]["line"], 2);
        assert_eq!(rule_ids(&r, "warnings"), ["description-full-stop"]);
        let r = lint_commit("fix(): x\n\nbreaking change: lower case", &rules());
        assert_eq!(rule_ids(&r, "errors"), ["scope-empty", "breaking-change-case"]);
        assert_eq!(r["errors"][1]["line"], 3);
        let r = lint_commit("Fix: x", &rules());
        assert_eq!(
            (r["valid"].as_bool(), rule_ids(&r, "warnings")),
            (Some(true), vec!["type-case".to_string()])
        );
        let long = format!("docs: {}", "x".repeat(80));
        assert_eq!(rule_ids(&lint_commit(&long, &rules()), "errors"), ["header-max-length"]);
        assert_eq!(
            rule_ids(&lint_commit("  \n# only comments", &rules()), "errors"),
            ["header-empty"]
        );
        assert_eq!(lint_commit("Merge branch 'main' into dev", &rules())["valid"], true);
        let custom = Rules {
            types: vec!["wip".into()],
            ..rules()
        };
        assert_eq!(lint_commit("wip: more", &custom)["valid"], true);
    }
}
