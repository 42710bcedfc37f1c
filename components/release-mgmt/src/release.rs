//! Semantic-version bumps, changelogs and release notes from conventional
//! commit messages.
//!
//! Bump rules: a breaking change (`!` or a `BREAKING CHANGE:` footer) bumps
//! the major version, a `feat` the minor version, anything else (including
//! messages that are not conventional) the patch version; the largest bump
//! of all commits wins. During initial development (`0.y.z`, SemVer item 4)
//! everything moves one place down: a breaking change bumps the minor
//! version and a feature the patch version, so nothing reaches 1.0.0 by
//! accident.

use serde_json::{Value, json};

/// One commit as given.
#[derive(Debug, Clone)]
pub struct Commit {
    pub message: String,
    pub hash: Option<String>,
    pub author: Option<String>,
}

/// A commit's conventional parts (`kind` is `None` when not conventional).
#[derive(Debug, Clone)]
pub struct Parsed {
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub description: String,
    pub breaking: bool,
    /// The `BREAKING CHANGE:` text (or the description for a bare `!`).
    pub breaking_note: Option<String>,
    pub hash: Option<String>,
    pub author: Option<String>,
}

/// Parses the header and the breaking-change footer of `commit`.
pub fn parse(commit: &Commit) -> Parsed {
    let header = commit
        .message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut parsed = Parsed {
        kind: None,
        scope: None,
        description: header.to_string(),
        breaking: false,
        breaking_note: None,
        hash: commit.hash.clone(),
        author: commit.author.clone(),
    };
    if let Some((prefix, description)) = header.split_once(": ") {
        let (prefix, bang) = match prefix.strip_suffix('!') {
            Some(p) => (p, true),
            None => (prefix, false),
        };
        let (kind, scope) = match prefix.split_once('(') {
            Some((k, rest)) => match rest.strip_suffix(')') {
                Some(s) if !s.is_empty() => (k, Some(s.to_string())),
                _ => ("", None),
            },
            None => (prefix, None),
        };
        if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphabetic()) && !description.trim().is_empty() {
            parsed.kind = Some(kind.to_ascii_lowercase());
            parsed.scope = scope;
            parsed.description = description.trim().to_string();
            parsed.breaking = bang;
            if bang {
                parsed.breaking_note = Some(parsed.description.clone());
            }
        }
    }
    // A breaking-change footer counts even on a non-conventional header.
    let mut note: Option<String> = None;
    for line in commit.message.lines().skip(1) {
        if let Some(text) = line
            .strip_prefix("BREAKING CHANGE: ")
            .or_else(|| line.strip_prefix("BREAKING-CHANGE: "))
        {
            note = Some(text.trim().to_string());
        } else if let Some(n) = note.as_mut() {
            // Continuation lines of the footer, until a blank line or another footer.
            let is_footer = line
                .split_once(": ")
                .is_some_and(|(t, _)| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
            if line.trim().is_empty() || is_footer {
                break;
            }
            n.push(' ');
            n.push_str(line.trim());
        }
    }
    if let Some(note) = note {
        parsed.breaking = true;
        parsed.breaking_note = Some(note);
    }
    parsed
}

/// `MAJOR.MINOR.PATCH` with an optional `v`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Version {
    pub fn parse(text: &str) -> Result<(Version, bool), String> {
        let trimmed = text.trim();
        let (v_prefix, rest) = match trimmed.strip_prefix('v') {
            Some(r) => (true, r),
            None => (false, trimmed),
        };
        if rest.contains(['-', '+']) {
            return Err(format!(
                "`{text}` has a pre-release or build suffix; pass the last released `MAJOR.MINOR.PATCH` version"
            ));
        }
        let parts: Vec<&str> = rest.split('.').collect();
        let number = |s: &str| -> Option<u64> {
            (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0')))
                .then(|| s.parse().ok())
                .flatten()
        };
        match parts.as_slice() {
            [a, b, c] => match (number(a), number(b), number(c)) {
                (Some(major), Some(minor), Some(patch)) => Ok((Version { major, minor, patch }, v_prefix)),
                _ => Err(format!(
                    "`{text}` is not a semantic version (`MAJOR.MINOR.PATCH`, no leading zeros)"
                )),
            },
            _ => Err(format!("`{text}` is not a semantic version (`MAJOR.MINOR.PATCH`)")),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The bump of one commit, from `patch` (0) to `major` (2).
fn bump_of(p: &Parsed) -> usize {
    if p.breaking {
        2
    } else if p.kind.as_deref() == Some("feat") {
        1
    } else {
        0
    }
}

const BUMPS: [&str; 3] = ["patch", "minor", "major"];

/// The next version after `current` for `commits`.
pub fn next_version(current: &str, commits: &[Commit]) -> Result<Value, String> {
    if commits.is_empty() {
        return Err("no commits given: there is nothing to release".into());
    }
    let (v, v_prefix) = Version::parse(current)?;
    let parsed: Vec<Parsed> = commits.iter().map(parse).collect();
    let level = parsed.iter().map(bump_of).max().unwrap_or(0);
    let initial = v.major == 0;
    // In 0.y.z a level moves one place down (major → minor, minor → patch).
    let applied = if initial { level.saturating_sub(1) } else { level };
    let next = match applied {
        2 => Version {
            major: v.major + 1,
            minor: 0,
            patch: 0,
        },
        1 => Version {
            major: v.major,
            minor: v.minor + 1,
            patch: 0,
        },
        _ => Version {
            patch: v.patch + 1,
            ..v
        },
    };
    let prefix = if v_prefix { "v" } else { "" };
    let reasons: Vec<Value> = parsed
        .iter()
        .zip(commits)
        .map(|(p, c)| {
            json!({
                "commit": c.message.lines().next().unwrap_or(""),
                "bump": BUMPS[bump_of(p)],
                "conventional": p.kind.is_some(),
            })
        })
        .collect();
    Ok(json!({
        "current": current.trim(),
        "next": format!("{prefix}{next}"),
        "bump": BUMPS[applied],
        "initial_development": initial,
        "reasons": reasons,
    }))
}

/// Changelog sections in order: (title, types).
const SECTIONS: &[(&str, &[&str])] = &[
    ("Features", &["feat"]),
    ("Bug Fixes", &["fix"]),
    ("Performance Improvements", &["perf"]),
    ("Reverts", &["revert"]),
    ("Documentation", &["docs"]),
    ("Code Refactoring", &["refactor"]),
    ("Tests", &["test"]),
    ("Build System and CI", &["build", "ci"]),
    ("Other Changes", &[]),
];

fn section_of(kind: Option<&str>) -> &'static str {
    SECTIONS
        .iter()
        .find(|(_, types)| kind.is_some_and(|k| types.contains(&k)))
        .map(|(t, _)| *t)
        .unwrap_or("Other Changes")
}

fn entry(p: &Parsed, text: &str, repo: Option<&str>) -> String {
    let mut line = String::from("- ");
    if let Some(scope) = &p.scope {
        line.push_str(&format!("**{scope}:** "));
    }
    line.push_str(text);
    if let Some(hash) = &p.hash {
        let short: String = hash.chars().take(7).collect();
        match repo {
            Some(url) => line.push_str(&format!(" ([{short}]({url}/commit/{hash}))")),
            None => line.push_str(&format!(" ({short})")),
        }
    }
    line
}

/// Release metadata for a changelog entry.
pub struct ReleaseInfo<'a> {
    pub version: &'a str,
    pub previous: Option<&'a str>,
    pub date: Option<&'a str>,
    pub repository_url: Option<&'a str>,
}

/// A Markdown changelog entry grouped by commit type, breaking changes first.
pub fn changelog(commits: &[Commit], info: &ReleaseInfo) -> Value {
    let parsed: Vec<Parsed> = commits.iter().map(parse).collect();
    let repo = info.repository_url.map(|u| u.trim_end_matches('/'));
    let mut md = match (repo, info.previous) {
        (Some(url), Some(prev)) => format!("## [{}]({url}/compare/{prev}...{})", info.version, info.version),
        _ => format!("## {}", info.version),
    };
    if let Some(date) = info.date {
        md.push_str(&format!(" ({date})"));
    }
    md.push('\n');
    let mut sections = serde_json::Map::new();
    let breaking: Vec<String> = parsed
        .iter()
        .filter(|p| p.breaking)
        .map(|p| entry(p, p.breaking_note.as_deref().unwrap_or(&p.description), repo))
        .collect();
    if !breaking.is_empty() {
        md.push_str("\n### ⚠ BREAKING CHANGES\n\n");
        md.push_str(&breaking.join("\n"));
        md.push('\n');
        sections.insert("BREAKING CHANGES".into(), json!(breaking));
    }
    for (title, _) in SECTIONS {
        let entries: Vec<String> = parsed
            .iter()
            .filter(|p| section_of(p.kind.as_deref()) == *title)
            .map(|p| entry(p, &p.description, repo))
            .collect();
        if entries.is_empty() {
            continue;
        }
        md.push_str(&format!("\n### {title}\n\n{}\n", entries.join("\n")));
        sections.insert(title.to_string(), json!(entries));
    }
    if commits.is_empty() {
        md.push_str("\nNo changes.\n");
    }
    json!({ "version": info.version, "markdown": md, "sections": sections })
}

/// User-facing release notes: a summary, breaking changes with their
/// migration notes, features, fixes, other changes counted, contributors.
pub fn release_notes(commits: &[Commit], product: Option<&str>, version: &str, date: Option<&str>) -> Value {
    let parsed: Vec<Parsed> = commits.iter().map(parse).collect();
    let breaking: Vec<&Parsed> = parsed.iter().filter(|p| p.breaking).collect();
    let features: Vec<&Parsed> = parsed.iter().filter(|p| p.kind.as_deref() == Some("feat")).collect();
    let fixes: Vec<&Parsed> = parsed.iter().filter(|p| p.kind.as_deref() == Some("fix")).collect();
    let other: Vec<&Parsed> = parsed
        .iter()
        .filter(|p| !matches!(p.kind.as_deref(), Some("feat") | Some("fix")))
        .collect();
    let title = match product {
        Some(p) => format!("{p} {version}"),
        None => format!("Release {version}"),
    };
    let mut md = format!("# {title}\n\n");
    if let Some(date) = date {
        md.push_str(&format!("Released on {date}.\n\n"));
    }
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if !features.is_empty() {
        parts.push(plural(features.len(), "new feature", "new features"));
    }
    if !fixes.is_empty() {
        parts.push(plural(fixes.len(), "bug fix", "bug fixes"));
    }
    if !other.is_empty() {
        parts.push(plural(other.len(), "other change", "other changes"));
    }
    let summary = match parts.len() {
        0 => "This release contains no changes.".to_string(),
        1 => format!("This release brings {}.", parts[0]),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("This release brings {} and {last}.", parts.join(", "))
        }
    };
    md.push_str(&summary);
    if !breaking.is_empty() {
        md.push_str(&format!(
            " It contains {}: read the upgrade notes below before updating.",
            plural(breaking.len(), "breaking change", "breaking changes")
        ));
    }
    md.push('\n');
    let describe = |p: &Parsed| match &p.scope {
        Some(scope) => format!("**{scope}:** {}", capitalize(&p.description)),
        None => capitalize(&p.description),
    };
    if !breaking.is_empty() {
        md.push_str("\n## ⚠ Breaking changes and upgrade notes\n\n");
        for p in &breaking {
            md.push_str(&format!("- {}\n", describe(p)));
            if let Some(note) = &p.breaking_note
                && note != &p.description
            {
                md.push_str(&format!("  - Upgrade: {}\n", capitalize(note)));
            }
        }
    }
    for (heading, list) in [("New features", &features), ("Bug fixes", &fixes)] {
        if !list.is_empty() {
            md.push_str(&format!("\n## {heading}\n\n"));
            for p in list.iter() {
                md.push_str(&format!("- {}\n", describe(p)));
            }
        }
    }
    if !other.is_empty() {
        let mut kinds: Vec<&str> = other.iter().map(|p| section_of(p.kind.as_deref())).collect();
        kinds.sort();
        kinds.dedup();
        md.push_str(&format!(
            "\n## Other changes\n\n{} ({}).\n",
            capitalize(&plural(other.len(), "other change", "other changes")),
            kinds.join(", ").to_lowercase()
        ));
    }
    let mut authors: Vec<&str> = parsed.iter().filter_map(|p| p.author.as_deref()).collect();
    authors.sort_unstable();
    authors.dedup();
    if !authors.is_empty() {
        md.push_str(&format!("\n## Contributors\n\nThanks to {}.\n", authors.join(", ")));
    }
    json!({
        "version": version,
        "title": title,
        "markdown": md,
        "counts": { "breaking": breaking.len(), "features": features.len(), "fixes": fixes.len(), "other": other.len() },
        "contributors": authors,
    })
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commits(messages: &[&str]) -> Vec<Commit> {
        messages
            .iter()
            .enumerate()
            .map(|(i, m)| Commit {
                message: m.to_string(),
                hash: Some(format!("{i}abcdef0123456789")),
                author: Some(if i % 2 == 0 { "Ada".into() } else { "Linus".into() }),
            })
            .collect()
    }

    fn next(current: &str, messages: &[&str]) -> String {
        next_version(current, &commits(messages)).unwrap()["next"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn bumps_by_the_largest_change() {
        assert_eq!(next("1.2.3", &["fix: a", "docs: b"]), "1.2.4");
        assert_eq!(next("1.2.3", &["fix: a", "feat(ui): b"]), "1.3.0");
        assert_eq!(next("v1.2.3", &["feat!: drop x", "fix: y"]), "v2.0.0");
        assert_eq!(next("1.2.3", &["chore: x\n\nBREAKING CHANGE: config renamed"]), "2.0.0");
        assert_eq!(next("1.2.3", &["updated readme"]), "1.2.4");
        // Initial development: one place down.
        assert_eq!(next("0.4.1", &["feat!: new api"]), "0.5.0");
        assert_eq!(next("0.4.1", &["feat: x"]), "0.4.2");
        assert_eq!(next("0.4.1", &["fix: x"]), "0.4.2");
        let r = next_version("0.4.1", &commits(&["feat: x"])).unwrap();
        assert_eq!(
            (r["bump"].as_str(), r["initial_development"].as_bool()),
            (Some("patch"), Some(true))
        );
        assert_eq!(r["reasons"][0]["bump"], "minor");
    }

    #[test]
    fn rejects_bad_versions() {
        for bad in ["1.2", "1.02.3", "x.y.z", "1.2.3-rc.1", ""] {
            assert!(next_version(bad, &commits(&["fix: a"])).is_err(), "{bad}");
        }
        assert!(next_version("1.0.0", &[]).unwrap_err().contains("no commits"));
    }

    #[test]
    fn parses_breaking_footers() {
        let p = parse(&Commit {
            message:
                "refactor(core): split\n\nBody.\n\nBREAKING CHANGE: `run` is now async\nand returns a future\nRefs: #1"
                    .into(),
            hash: None,
            author: None,
        });
        assert_eq!(
            (p.kind.as_deref(), p.scope.as_deref(), p.breaking),
            (Some("refactor"), Some("core"), true)
        );
        assert_eq!(
            p.breaking_note.as_deref(),
            Some("`run` is now async and returns a future")
        );
    }

    #[test]
    fn groups_the_changelog() {
        let info = ReleaseInfo {
            version: "1.3.0",
            previous: Some("1.2.3"),
            date: Some("2026-01-15"),
            repository_url: Some("https://git.example.com/acme/app/"),
        };
        let log = changelog(
            &commits(&[
                "feat(api): add export",
                "fix: crash on empty input",
                "feat!: drop v1 routes",
                "tidy up",
            ]),
            &info,
        );
        let md = log["markdown"].as_str().unwrap();
        assert!(
            md.starts_with("## [1.3.0](https://git.example.com/acme/app/compare/1.2.3...1.3.0) (2026-01-15)\n"),
            "{md}"
        );
        let breaking = md.find("### ⚠ BREAKING CHANGES").unwrap();
        let features = md.find("### Features").unwrap();
        let fixes = md.find("### Bug Fixes").unwrap();
        let other = md.find("### Other Changes").unwrap();
        assert!(breaking < features && features < fixes && fixes < other);
        assert!(
            md.contains("- **api:** add export ([0abcdef](https://git.example.com/acme/app/commit/0abcdef0123456789))")
        );
        assert_eq!(log["sections"]["Features"].as_array().unwrap().len(), 2);
        assert_eq!(
            log["sections"]["Other Changes"][0],
            "- tidy up ([3abcdef](https://git.example.com/acme/app/commit/3abcdef0123456789))"
        );
    }

    #[test]
    fn writes_release_notes() {
        let notes = release_notes(
            &commits(&[
                "feat(search): fuzzy matching",
                "fix: wrong totals",
                "feat!: remove xml export\n\nBREAKING CHANGE: use the JSON export instead",
                "docs: guide",
            ]),
            Some("Acme"),
            "2.0.0",
            Some("2026-02-01"),
        );
        let md = notes["markdown"].as_str().unwrap();
        assert!(md.starts_with("# Acme 2.0.0\n\nReleased on 2026-02-01.\n\nThis release brings 2 new features, 1 bug fix and 1 other change. It contains 1 breaking change"), "{md}");
        assert!(md.contains("- Remove xml export\n  - Upgrade: Use the JSON export instead\n"));
        assert!(md.contains("## New features\n\n- **search:** Fuzzy matching\n- Remove xml export\n"));
        assert!(md.contains("1 other change (documentation)."));
        assert!(md.contains("Thanks to Ada, Linus."));
        assert_eq!(
            notes["counts"],
            json!({ "breaking": 1, "features": 2, "fixes": 1, "other": 1 })
        );
    }
}
