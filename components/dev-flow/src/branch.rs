//! Branch-name checks: `<prefix>/<short-description>` in lower case.
//!
//! The description is words of `a-z`/`0-9` joined by single `-` (`.` and `_`
//! are allowed inside words, `/` separates further levels); the whole name
//! also obeys git's ref-name rules and a length limit. Long-lived branches
//! (`main`, `master`, `develop`, …) are accepted as they are.

use serde_json::{Value, json};

/// Prefixes accepted by default.
pub const DEFAULT_PREFIXES: &[&str] = &[
    "feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "release", "hotfix",
];

/// Long-lived branches that need no prefix.
pub const PROTECTED: &[&str] = &["main", "master", "develop", "trunk"];

/// Common spellings of prefixes and what they stand for.
fn alias(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "feature" | "features" | "feat" => "feat",
        "bugfix" | "bug" | "fix" | "fixes" => "fix",
        "doc" | "docs" | "documentation" => "docs",
        "chore" | "chores" | "task" => "chore",
        "refactor" | "refactoring" => "refactor",
        "hotfix" => "hotfix",
        "release" => "release",
        "test" | "tests" => "test",
        _ => return None,
    })
}

/// The problems with `name` (empty when it is valid).
fn problems(name: &str, prefixes: &[String], max_length: usize) -> Vec<String> {
    let mut errors = Vec::new();
    if name.is_empty() {
        return vec!["the name is empty".into()];
    }
    let len = name.chars().count();
    if len > max_length {
        errors.push(format!("the name is {len} characters long (max {max_length})"));
    }
    if name.chars().any(|c| c.is_uppercase()) {
        errors.push("the name must be lower case".into());
    }
    let mut bad: Vec<char> = name
        .chars()
        .filter(|c| {
            let allowed = c.is_ascii_lowercase() || c.is_ascii_digit() || "-._/".contains(*c);
            // Upper case has its own message.
            !allowed && !c.is_uppercase()
        })
        .collect();
    bad.dedup();
    if !bad.is_empty() {
        let shown: Vec<String> = bad.iter().map(|c| format!("`{}`", c.escape_debug())).collect();
        errors.push(format!(
            "characters not allowed: {} (use a-z, 0-9, `-`, `.`, `_` and `/`)",
            shown.join(" ")
        ));
    }
    // git check-ref-format rules that the character set does not already cover.
    if name.contains("..") {
        errors.push("git refuses `..` in a branch name".into());
    }
    if name.starts_with(['-', '/', '.']) || name.ends_with(['/', '.']) || name.ends_with(".lock") {
        errors.push("the name must not start with `-`, `/` or `.`, nor end with `/`, `.` or `.lock`".into());
    }
    if name.contains("//") || name.contains("/.") {
        errors.push("empty path components (`//`) and components starting with `.` are not allowed".into());
    }
    if PROTECTED.contains(&name) {
        return errors;
    }
    let Some((prefix, rest)) = name.split_once('/') else {
        errors.push(format!(
            "the name must be `<prefix>/<description>` with a prefix of: {}",
            prefixes.join(", ")
        ));
        return errors;
    };
    if !prefixes.iter().any(|p| p == prefix) {
        errors.push(format!("prefix `{prefix}` is not one of: {}", prefixes.join(", ")));
    }
    if rest.is_empty() {
        errors.push("the description after the prefix is empty".into());
    } else {
        if rest.contains("--") {
            errors.push("words must be joined by a single `-`".into());
        }
        if rest.split('/').any(|part| part.starts_with('-') || part.ends_with('-')) {
            errors.push("the description must not start or end with `-`".into());
        }
        if rest.chars().filter(|c| c.is_ascii_alphanumeric()).count() < 3 {
            errors.push("the description is too short to say what the branch is for".into());
        }
    }
    errors
}

/// A corrected name: lower case, other characters as `-`, a known prefix.
fn suggest(name: &str, prefixes: &[String], max_length: usize) -> String {
    let lower = name.trim().to_lowercase();
    let (prefix, rest) = match lower.split_once('/') {
        Some((p, r)) => (p.to_string(), r.to_string()),
        None => (String::new(), lower.clone()),
    };
    let prefix = if prefixes.contains(&prefix) {
        prefix
    } else if let Some(a) = alias(&prefix).filter(|a| prefixes.iter().any(|p| p == a)) {
        a.to_string()
    } else {
        // An unknown prefix becomes part of the description.
        let fallback = prefixes.first().cloned().unwrap_or_else(|| "feat".into());
        return suggest(&format!("{fallback}/{}", lower.replace('/', "-")), prefixes, max_length);
    };
    let mut desc = String::new();
    for c in rest.chars() {
        let keep = c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' || c == '/';
        if keep {
            desc.push(c);
        } else if !desc.ends_with('-') {
            desc.push('-');
        }
    }
    let mut desc = desc.replace("..", ".").replace("//", "/");
    while desc.contains("--") {
        desc = desc.replace("--", "-");
    }
    let mut desc = desc.trim_matches(['-', '/', '.']).to_string();
    let budget = max_length.saturating_sub(prefix.len() + 1);
    if desc.len() > budget {
        desc.truncate(budget);
        if let Some(cut) = desc.rfind('-') {
            desc.truncate(cut);
        }
        desc = desc.trim_matches(['-', '/', '.']).to_string();
    }
    format!("{prefix}/{desc}")
}

/// Checks `name`; returns `valid`, the `prefix` and `description` when
/// well-formed, the `errors`, and a `suggestion` when one can be made.
pub fn check_branch_name(name: &str, prefixes: &[String], max_length: usize) -> Value {
    let errors = problems(name, prefixes, max_length);
    let (prefix, description) = match name.split_once('/') {
        Some((p, d)) if !PROTECTED.contains(&name) => (json!(p), json!(d)),
        _ => (Value::Null, Value::Null),
    };
    let suggestion = if errors.is_empty() {
        Value::Null
    } else {
        let s = suggest(name, prefixes, max_length);
        if problems(&s, prefixes, max_length).is_empty() {
            json!(s)
        } else {
            Value::Null
        }
    };
    json!({
        "valid": errors.is_empty(),
        "protected": PROTECTED.contains(&name),
        "prefix": prefix,
        "description": description,
        "errors": errors,
        "suggestion": suggestion,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Vec<String> {
        DEFAULT_PREFIXES.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn accepts_good_names() {
        for name in [
            "feat/add-login",
            "fix/pa-123-null-deref",
            "release/1.4.0",
            "main",
            "docs/api/v2-guide",
        ] {
            let r = check_branch_name(name, &prefixes(), 60);
            assert_eq!(r["valid"], true, "{name}: {r}");
        }
        let r = check_branch_name("feat/add-login", &prefixes(), 60);
        assert_eq!(
            (r["prefix"].as_str(), r["description"].as_str()),
            (Some("feat"), Some("add-login"))
        );
    }

    #[test]
    fn rejects_and_suggests() {
        let r = check_branch_name("Feature/Add Login Page!", &prefixes(), 60);
        assert_eq!(r["valid"], false);
        let errors = r["errors"].to_string();
        assert!(
            errors.contains("lower case") && errors.contains("`!`") && errors.contains("prefix `Feature`"),
            "{errors}"
        );
        assert_eq!(r["suggestion"], "feat/add-login-page");
        let r = check_branch_name("add-login", &prefixes(), 60);
        assert!(r["errors"][0].as_str().unwrap().contains("`<prefix>/<description>`"));
        assert_eq!(r["suggestion"], "feat/add-login");
        let r = check_branch_name("fix/a..b", &prefixes(), 60);
        assert!(r["errors"].to_string().contains("`..`"));
        let r = check_branch_name("fix/--x", &prefixes(), 60);
        assert!(r["errors"].to_string().contains("single `-`"));
        let long = format!("feat/{}", "word-".repeat(20));
        let r = check_branch_name(&long, &prefixes(), 40);
        assert!(r["errors"].to_string().contains("max 40"));
        assert!(r["suggestion"].as_str().unwrap().len() <= 40);
        assert_eq!(check_branch_name("fix/ab", &prefixes(), 60)["valid"], false);
        assert_eq!(check_branch_name("fix/x.lock", &prefixes(), 60)["valid"], false);
    }
}
