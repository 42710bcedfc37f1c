//! A review checklist from a unified diff (`git diff` or `diff -u` output).
//!
//! The diff is parsed file by file (status, added and removed lines, binary
//! files); files are classified (tests, migrations, docs, dependency
//! manifests, lock files, CI); added lines are scanned for TODO markers,
//! debugging leftovers and strings that look like secrets. Each finding
//! becomes a checklist item with a severity (`blocker`, `warning`, `info`)
//! and evidence (file and new line number).

use serde_json::{Value, json};

/// One file of the diff.
#[derive(Debug, Default)]
pub struct FileDiff {
    pub path: String,
    pub old_path: Option<String>,
    /// `added`, `deleted`, `modified` or `renamed`.
    pub status: &'static str,
    pub binary: bool,
    pub added: usize,
    pub removed: usize,
    /// Added lines with their line number in the new file.
    pub added_lines: Vec<(usize, String)>,
}

fn strip_path(p: &str) -> String {
    let p = p.split('\t').next().unwrap_or(p).trim();
    let p = p.trim_matches('"');
    p.strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(p)
        .to_string()
}

/// `@@ -a,b +c,d @@` → (old count, new start, new count).
fn hunk_header(line: &str) -> Option<(usize, usize, usize)> {
    let inner = line.strip_prefix("@@ ")?;
    let inner = &inner[..inner.find(" @@")?];
    let (old, new) = inner.split_once(' ')?;
    let count = |r: &str| -> Option<(usize, usize)> {
        match r.split_once(',') {
            Some((s, c)) => Some((s.parse().ok()?, c.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_count) = count(old.strip_prefix('-')?)?;
    let (new_start, new_count) = count(new.strip_prefix('+')?)?;
    Some((old_count, new_start, new_count))
}

/// Parses a unified diff into files.
pub fn parse_diff(diff: &str) -> Result<Vec<FileDiff>, String> {
    let mut files: Vec<FileDiff> = Vec::new();
    let lines: Vec<&str> = diff.lines().collect();
    let mut i = 0;
    // Whether the current file started with a `diff --git` line (so `---`
    // belongs to it rather than starting a new one).
    let mut git_header = false;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("diff --git ") {
            let path = rest
                .rsplit_once(" b/")
                .map(|(_, b)| b.to_string())
                .unwrap_or_else(|| strip_path(rest));
            files.push(FileDiff {
                path,
                status: "modified",
                ..Default::default()
            });
            git_header = true;
        } else if let Some(rest) = line.strip_prefix("--- ") {
            if !git_header {
                files.push(FileDiff {
                    status: "modified",
                    ..Default::default()
                });
            }
            git_header = false;
            let file = files.last_mut().ok_or("unreachable")?;
            if rest.trim_start().starts_with("/dev/null") {
                file.status = "added";
            } else if file.path.is_empty() {
                file.path = strip_path(rest);
            }
        } else if let Some(rest) = line.strip_prefix("+++ ") {
            let file = files
                .last_mut()
                .ok_or_else(|| format!("line {}: `+++` without `---`", i + 1))?;
            if rest.trim_start().starts_with("/dev/null") {
                file.status = "deleted";
            } else {
                file.path = strip_path(rest);
            }
        } else if line.starts_with("new file mode") {
            if let Some(f) = files.last_mut() {
                f.status = "added";
            }
        } else if line.starts_with("deleted file mode") {
            if let Some(f) = files.last_mut() {
                f.status = "deleted";
            }
        } else if let Some(from) = line.strip_prefix("rename from ") {
            if let Some(f) = files.last_mut() {
                f.status = "renamed";
                f.old_path = Some(from.to_string());
            }
        } else if line.starts_with("Binary files ") || line == "GIT binary patch" {
            if let Some(f) = files.last_mut() {
                f.binary = true;
            }
        } else if line.starts_with("@@ ") {
            let file = files
                .last_mut()
                .ok_or_else(|| format!("line {}: a hunk before any file header", i + 1))?;
            let (mut old_left, mut new_line, mut new_left) =
                hunk_header(line).ok_or_else(|| format!("line {}: malformed hunk header `{line}`", i + 1))?;
            while old_left > 0 || new_left > 0 {
                i += 1;
                let Some(l) = lines.get(i) else {
                    return Err(format!("the hunk of `{}` ends early (diff truncated?)", file.path));
                };
                match l.chars().next() {
                    Some('+') => {
                        file.added += 1;
                        file.added_lines.push((new_line, l[1..].to_string()));
                        new_line += 1;
                        new_left = new_left.saturating_sub(1);
                    }
                    Some('-') => {
                        file.removed += 1;
                        old_left = old_left.saturating_sub(1);
                    }
                    Some('\\') => {}
                    // Context (some tools drop the space of empty context lines).
                    Some(' ') | None => {
                        new_line += 1;
                        old_left = old_left.saturating_sub(1);
                        new_left = new_left.saturating_sub(1);
                    }
                    Some(_) => return Err(format!("line {}: unexpected line in a hunk of `{}`", i + 1, file.path)),
                }
            }
        }
        i += 1;
    }
    if files.is_empty() {
        return Err("not a unified diff: no `diff --git` or `---`/`+++` file headers found".into());
    }
    Ok(files)
}

/// What a path is, for the checklist.
pub fn classify(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let segments: Vec<&str> = lower.split('/').collect();
    let file = segments.last().copied().unwrap_or_default();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    let stem = file.split('.').next().unwrap_or_default();
    if dirs.iter().any(|d| ["migrations", "migration", "migrate"].contains(d)) || file.contains("migration") {
        "migration"
    } else if dirs
        .iter()
        .any(|d| ["test", "tests", "spec", "specs", "__tests__", "testdata"].contains(d))
        || file.contains("_test.")
        || file.contains(".test.")
        || file.contains(".spec.")
        || file.starts_with("test_")
        || stem.ends_with("test")
        || stem.ends_with("tests")
    {
        "test"
    } else if [
        "cargo.lock",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "go.sum",
        "gemfile.lock",
        "composer.lock",
    ]
    .contains(&file)
    {
        "lockfile"
    } else if [
        "cargo.toml",
        "package.json",
        "go.mod",
        "requirements.txt",
        "pyproject.toml",
        "pom.xml",
        "build.gradle",
        "gemfile",
        "composer.json",
    ]
    .contains(&file)
    {
        "manifest"
    } else if lower.starts_with(".github/workflows/") || file == ".gitlab-ci.yml" || file == "jenkinsfile" {
        "ci"
    } else if dirs.first() == Some(&"docs") || [".md", ".rst", ".adoc"].iter().any(|e| file.ends_with(e)) {
        "docs"
    } else {
        "source"
    }
}

fn word_at(chars: &[char], i: usize, word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    chars[i..].starts_with(&w)
        && (i == 0 || !chars[i - 1].is_alphanumeric())
        && chars.get(i + w.len()).is_none_or(|c| !c.is_alphanumeric())
}

/// A TODO-style marker in the line.
pub fn todo_marker(line: &str) -> Option<&'static str> {
    let chars: Vec<char> = line.chars().collect();
    (0..chars.len()).find_map(|i| {
        ["TODO", "FIXME", "XXX", "HACK"]
            .into_iter()
            .find(|m| word_at(&chars, i, m))
    })
}

/// A debugging leftover in the line.
pub fn debug_marker(line: &str) -> Option<&'static str> {
    [
        "console.log(",
        "dbg!(",
        "debugger;",
        "binding.pry",
        "pdb.set_trace(",
        "breakpoint()",
        "var_dump(",
    ]
    .into_iter()
    .find(|m| line.contains(m))
}

fn run_of(s: &str, ok: impl Fn(char) -> bool) -> usize {
    s.chars().take_while(|c| ok(*c)).count()
}

/// What kind of secret the line seems to contain, if any.
pub fn secret_kind(line: &str) -> Option<&'static str> {
    let upper_digit = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
    let token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    for (i, _) in line.char_indices() {
        let rest = &line[i..];
        if (rest.starts_with("AKIA") || rest.starts_with("ASIA")) && run_of(&rest[4..], upper_digit) >= 16 {
            return Some("AWS access key id");
        }
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"] {
            if rest.starts_with(prefix) && run_of(&rest[prefix.len()..], token_char) >= 20 {
                return Some("GitHub token");
            }
        }
        for prefix in ["xoxb-", "xoxp-", "xoxa-", "xoxs-"] {
            if rest.starts_with(prefix) && run_of(&rest[prefix.len()..], token_char) >= 10 {
                return Some("Slack token");
            }
        }
        if (rest.starts_with("sk_live_") || rest.starts_with("rk_live_")) && run_of(&rest[8..], token_char) >= 16 {
            return Some("Stripe live key");
        }
        if rest.starts_with("AIza") && run_of(&rest[4..], token_char) >= 35 {
            return Some("Google API key");
        }
    }
    if line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
        return Some("private key");
    }
    // `password = "…"`, `api_key: '…'`, `"secret": "…"` with a literal value.
    let lower = line.to_ascii_lowercase();
    for key in [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "access_key",
        "private_key",
        "client_secret",
    ] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let after = &line[from + pos + key.len()..];
            from += pos + key.len();
            let after =
                after.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '"' || c == '\'');
            let after = after.trim_start();
            let Some(after) = ["=>", ":=", "=", ":"].iter().find_map(|op| after.strip_prefix(op)) else {
                continue;
            };
            let after = after.trim_start();
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let Some(end) = after[1..].find(quote) else {
                continue;
            };
            let value = &after[1..1 + end];
            let placeholder = value.starts_with("${")
                || value.starts_with('<')
                || value.starts_with("{{")
                || value.starts_with('%')
                || value.chars().all(|c| c == '*' || c == 'x' || c == 'X')
                || value.to_ascii_lowercase().contains("example");
            if value.len() >= 8 && !value.contains(char::is_whitespace) && !placeholder {
                return Some("hard-coded credential");
            }
        }
    }
    None
}

/// The checklist for `diff`; `large_change` is the size (added + removed
/// lines) from which a file counts as a large change.
pub fn review_checklist(diff: &str, large_change: usize) -> Result<Value, String> {
    let files = parse_diff(diff)?;
    let mut items: Vec<Value> = Vec::new();
    let item = |id: &str, severity: &str, text: String, files: Vec<String>, evidence: Vec<Value>| json!({ "id": id, "severity": severity, "item": text, "files": files, "evidence": evidence });
    let of_kind = |k: &str| -> Vec<String> {
        files
            .iter()
            .filter(|f| classify(&f.path) == k)
            .map(|f| f.path.clone())
            .collect()
    };
    let (mut secrets, mut todos, mut debug) = (Vec::new(), Vec::new(), Vec::new());
    for f in &files {
        for (line, text) in &f.added_lines {
            if let Some(kind) = secret_kind(text) {
                secrets.push(json!({ "file": f.path, "line": line, "text": kind }));
            }
            if let Some(marker) = todo_marker(text) {
                todos.push(json!({ "file": f.path, "line": line, "text": format!("{marker}: {}", text.trim()) }));
            }
            if let Some(marker) = debug_marker(text)
                && classify(&f.path) != "test"
            {
                debug.push(json!({ "file": f.path, "line": line, "text": marker }));
            }
        }
    }
    let evidence_files = |ev: &[Value]| -> Vec<String> {
        let mut v: Vec<String> = ev
            .iter()
            .filter_map(|e| e["file"].as_str().map(str::to_string))
            .collect();
        v.dedup();
        v
    };
    if !secrets.is_empty() {
        items.push(item(
            "secrets",
            "blocker",
            format!(
                "{} added line(s) look like secrets: remove them from the change and rotate the credentials",
                secrets.len()
            ),
            evidence_files(&secrets),
            secrets,
        ));
    }
    let sources = of_kind("source");
    let tests = of_kind("test");
    if !sources.is_empty() && tests.is_empty() {
        items.push(item(
            "tests-missing",
            "warning",
            format!(
                "{} source file(s) changed but no test was added or updated",
                sources.len()
            ),
            sources.clone(),
            vec![],
        ));
    } else if !tests.is_empty() {
        items.push(item(
            "tests-updated",
            "info",
            format!(
                "{} test file(s) changed: check they cover the new behaviour and pass",
                tests.len()
            ),
            tests.clone(),
            vec![],
        ));
    }
    let migrations = of_kind("migration");
    if !migrations.is_empty() {
        items.push(item(
            "migrations",
            "warning",
            "Database migration: check it is reversible, safe on a live database (locks, backfills) and deployed in the right order with the code".into(),
            migrations,
            vec![],
        ));
    }
    let large: Vec<&FileDiff> = files.iter().filter(|f| f.added + f.removed >= large_change).collect();
    if !large.is_empty() {
        let detail: Vec<String> = large
            .iter()
            .map(|f| format!("{} ({} lines)", f.path, f.added + f.removed))
            .collect();
        items.push(item(
            "large-changes",
            "warning",
            format!("Large change(s): {}; review carefully or split", detail.join(", ")),
            large.iter().map(|f| f.path.clone()).collect(),
            vec![],
        ));
    }
    if !todos.is_empty() {
        items.push(item(
            "todos-added",
            "warning",
            format!(
                "{} TODO/FIXME marker(s) added: resolve them or link a tracking issue",
                todos.len()
            ),
            evidence_files(&todos),
            todos,
        ));
    }
    if !debug.is_empty() {
        items.push(item(
            "debug-leftovers",
            "warning",
            format!("{} debugging statement(s) added outside tests", debug.len()),
            evidence_files(&debug),
            debug,
        ));
    }
    let manifests = of_kind("manifest");
    let lockfiles = of_kind("lockfile");
    if !manifests.is_empty() {
        let text = if lockfiles.is_empty() {
            "Dependency manifest changed without a lock file update: check the lock file is current"
        } else {
            "Dependencies changed: check versions, licences and advisories of new or updated packages"
        };
        items.push(item(
            "dependencies",
            if lockfiles.is_empty() { "warning" } else { "info" },
            text.into(),
            manifests,
            vec![],
        ));
    } else if !lockfiles.is_empty() {
        items.push(item(
            "lockfile",
            "info",
            "Lock file changed without a manifest change: check why".into(),
            lockfiles,
            vec![],
        ));
    }
    let ci = of_kind("ci");
    if !ci.is_empty() {
        items.push(item(
            "ci",
            "info",
            "CI configuration changed: check the pipeline still runs every job".into(),
            ci,
            vec![],
        ));
    }
    let deleted: Vec<String> = files
        .iter()
        .filter(|f| f.status == "deleted")
        .map(|f| f.path.clone())
        .collect();
    if !deleted.is_empty() {
        items.push(item(
            "deleted-files",
            "info",
            "Files deleted: check nothing still refers to them".into(),
            deleted,
            vec![],
        ));
    }
    let binary: Vec<String> = files.iter().filter(|f| f.binary).map(|f| f.path.clone()).collect();
    if !binary.is_empty() {
        items.push(item(
            "binary-files",
            "info",
            "Binary files changed: check they belong in the repository".into(),
            binary,
            vec![],
        ));
    }
    if !sources.is_empty() && of_kind("docs").is_empty() {
        items.push(item(
            "docs",
            "info",
            "No documentation changed: update docs or the changelog if behaviour visible to users changed".into(),
            vec![],
            vec![],
        ));
    }
    let mut markdown = String::from("## Review checklist\n\n");
    for it in &items {
        markdown.push_str(&format!(
            "- [ ] **{}**: {}\n",
            it["severity"].as_str().unwrap_or_default(),
            it["item"].as_str().unwrap_or_default()
        ));
        for e in it["evidence"].as_array().into_iter().flatten() {
            markdown.push_str(&format!(
                "  - `{}:{}` {}\n",
                e["file"].as_str().unwrap_or_default(),
                e["line"],
                e["text"].as_str().unwrap_or_default()
            ));
        }
    }
    let summary = json!({
        "files": files.len(),
        "added": files.iter().map(|f| f.added).sum::<usize>(),
        "removed": files.iter().map(|f| f.removed).sum::<usize>(),
        "tests_touched": !tests.is_empty(),
        "blockers": items.iter().filter(|i| i["severity"] == "blocker").count(),
    });
    let file_list: Vec<Value> = files
        .iter()
        .map(|f| {
            json!({ "path": f.path, "old_path": f.old_path, "status": f.status, "kind": classify(&f.path),
                    "added": f.added, "removed": f.removed, "binary": f.binary })
        })
        .collect();
    Ok(json!({ "summary": summary, "files": file_list, "checklist": items, "markdown": markdown }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/auth.rs b/src/auth.rs
index 1111111..2222222 100644
--- a/src/auth.rs
+++ b/src/auth.rs
@@ -10,3 +10,5 @@ fn login() {
     let user = find(name);
-    check(user);
+    // TODO: rate limit
+    let api_key = \"sk_test_51Habcdefghijklmnop\";
+    dbg!(&user);
     ok(user)
diff --git a/migrations/0004_add_index.sql b/migrations/0004_add_index.sql
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/migrations/0004_add_index.sql
@@ -0,0 +1 @@
+CREATE INDEX users_name ON users(name);
diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-a
-b
";

    #[test]
    fn parses_files_and_line_numbers() {
        let files = parse_diff(DIFF).unwrap();
        let summary: Vec<(&str, &str, usize, usize)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.status, f.added, f.removed))
            .collect();
        assert_eq!(
            summary,
            [
                ("src/auth.rs", "modified", 3, 1),
                ("migrations/0004_add_index.sql", "added", 1, 0),
                ("old.txt", "deleted", 0, 2)
            ]
        );
        assert_eq!(files[0].added_lines[0], (11, "    // TODO: rate limit".to_string()));
        assert_eq!(files[0].added_lines[2].0, 13);
    }

    #[test]
    fn builds_the_checklist() {
        let r = review_checklist(DIFF, 400).unwrap();
        let ids: Vec<&str> = r["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "secrets",
                "tests-missing",
                "migrations",
                "todos-added",
                "debug-leftovers",
                "deleted-files",
                "docs"
            ]
        );
        assert_eq!(r["checklist"][0]["severity"], "blocker");
        assert_eq!(
            r["checklist"][0]["evidence"][0],
            json!({ "file": "src/auth.rs", "line": 12, "text": "hard-coded credential" })
        );
        assert_eq!(r["checklist"][3]["evidence"][0]["line"], 11);
        assert_eq!(r["summary"]["tests_touched"], false);
        assert!(
            r["markdown"]
                .as_str()
                .unwrap()
                .contains("- [ ] **blocker**: 1 added line(s) look like secrets")
        );
        let small = review_checklist(DIFF, 3).unwrap();
        assert!(small["checklist"].to_string().contains("src/auth.rs (4 lines)"));
    }

    #[test]
    fn detects_secret_shapes_and_kinds() {
        assert_eq!(secret_kind("key = AKIAIOSFODNN7EXAMPLE"), Some("AWS access key id"));
        assert_eq!(secret_kind("-----BEGIN RSA PRIVATE KEY-----"), Some("private key"));
        assert_eq!(
            secret_kind(&format!("t = \"ghp_{}\"", "a".repeat(36))),
            Some("GitHub token")
        );
        assert_eq!(secret_kind("password: \"${DB_PASSWORD}\""), None);
        assert_eq!(secret_kind("let token = get_token();"), None);
        assert_eq!(
            secret_kind("\"client_secret\": \"9f8e7d6c5b4a\""),
            Some("hard-coded credential")
        );
        assert_eq!(classify("tests/e2e/mcp.rs"), "test");
        assert_eq!(classify("src/lib_test.go"), "test");
        assert_eq!(classify("Cargo.lock"), "lockfile");
        assert_eq!(classify(".github/workflows/ci.yml"), "ci");
        assert_eq!(classify("README.md"), "docs");
        assert_eq!(classify("src/main.rs"), "source");
    }

    #[test]
    fn rejects_non_diffs() {
        assert!(parse_diff("hello").unwrap_err().contains("not a unified diff"));
        assert!(
            parse_diff("--- a\n+++ b\n@@ -1 +1 @@\n")
                .unwrap_err()
                .contains("ends early")
        );
        assert!(
            parse_diff("--- a\n+++ b\n@@ nonsense @@\n")
                .unwrap_err()
                .contains("malformed hunk header")
        );
    }
}
