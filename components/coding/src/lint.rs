//! Line-based lint checks with 1-based line and column numbers (columns count
//! characters).

use serde_json::{Value, json};

/// The rules, in the order they are reported within a line.
pub const RULES: &[&str] = &[
    "long-line",
    "trailing-whitespace",
    "tab",
    "todo",
    "mixed-line-endings",
    "final-newline",
];

/// One finding.
#[derive(Debug, PartialEq)]
pub struct Issue {
    pub line: usize,
    pub column: usize,
    pub rule: &'static str,
    pub message: String,
}

impl Issue {
    pub fn to_json(&self) -> Value {
        json!({ "line": self.line, "column": self.column, "rule": self.rule, "message": self.message })
    }
}

/// The column (1-based) of the first `TODO`, `FIXME`, `XXX` or `HACK` that
/// stands as a word, and the marker.
fn todo_marker(line: &str) -> Option<(usize, &'static str)> {
    let chars: Vec<char> = line.chars().collect();
    for (i, _) in chars.iter().enumerate() {
        for marker in ["TODO", "FIXME", "XXX", "HACK"] {
            let m: Vec<char> = marker.chars().collect();
            if chars[i..].starts_with(&m) {
                let before = i == 0 || !chars[i - 1].is_alphanumeric();
                let after = chars.get(i + m.len()).is_none_or(|c| !c.is_alphanumeric());
                if before && after {
                    return Some((i + 1, marker));
                }
            }
        }
    }
    None
}

/// Runs `rules` (all of [`RULES`] when empty) over `text`.
pub fn lint(text: &str, max_line_length: usize, rules: &[String]) -> Result<Vec<Issue>, String> {
    for rule in rules {
        if !RULES.contains(&rule.as_str()) {
            return Err(format!("unknown rule `{rule}`; the rules are {}", RULES.join(", ")));
        }
    }
    let on = |rule: &str| rules.is_empty() || rules.iter().any(|r| r == rule);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let crlf = lines.iter().filter(|l| l.ends_with("\r\n")).count();
    let lf = lines
        .iter()
        .filter(|l| l.ends_with('\n') && !l.ends_with("\r\n"))
        .count();
    // The minority ending is the odd one out (CRLF loses a tie).
    let odd_ending = if crlf > 0 && lf > 0 {
        Some(if crlf <= lf { "CRLF" } else { "LF" })
    } else {
        None
    };
    let mut issues = Vec::new();
    for (n, raw) in lines.iter().enumerate() {
        let line_no = n + 1;
        let (body, ending) = if let Some(b) = raw.strip_suffix("\r\n") {
            (b, "CRLF")
        } else if let Some(b) = raw.strip_suffix('\n') {
            (b, "LF")
        } else {
            (*raw, "")
        };
        let length = body.chars().count();
        if on("long-line") && length > max_line_length {
            issues.push(Issue {
                line: line_no,
                column: max_line_length + 1,
                rule: "long-line",
                message: format!("line is {length} characters long (max {max_line_length})"),
            });
        }
        let kept = body.trim_end_matches([' ', '\t']).chars().count();
        if on("trailing-whitespace") && kept < length {
            issues.push(Issue {
                line: line_no,
                column: kept + 1,
                rule: "trailing-whitespace",
                message: format!("{} trailing whitespace character(s)", length - kept),
            });
        }
        if on("tab")
            && let Some(col) = body.chars().position(|c| c == '\t')
        {
            issues.push(Issue {
                line: line_no,
                column: col + 1,
                rule: "tab",
                message: "tab character (use spaces)".into(),
            });
        }
        if on("todo")
            && let Some((col, marker)) = todo_marker(body)
        {
            issues.push(Issue {
                line: line_no,
                column: col,
                rule: "todo",
                message: format!("{marker} comment"),
            });
        }
        if on("mixed-line-endings") && odd_ending == Some(ending) {
            let usual = if ending == "CRLF" { "LF" } else { "CRLF" };
            issues.push(Issue {
                line: line_no,
                column: length + 1,
                rule: "mixed-line-endings",
                message: format!("{ending} line ending in a file that mostly uses {usual}"),
            });
        }
    }
    if on("final-newline")
        && let Some(last) = lines.last()
        && !last.ends_with('\n')
    {
        issues.push(Issue {
            line: lines.len(),
            column: last.chars().count() + 1,
            rule: "final-newline",
            message: "no newline at end of file".into(),
        });
    }
    Ok(issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_rule_with_positions() {
        let text = "fn main() {  \n\tlet x = 1; // TODO: name\r\n    // not a todo: TODOS, xxx\n    let long = \"aaaaaaaaaaaaaaaa\";\n}";
        let issues = lint(text, 30, &[]).unwrap();
        let found: Vec<(usize, usize, &str)> = issues.iter().map(|i| (i.line, i.column, i.rule)).collect();
        assert_eq!(
            found,
            [
                (1, 12, "trailing-whitespace"),
                (2, 1, "tab"),
                (2, 16, "todo"),
                (2, 26, "mixed-line-endings"),
                (4, 31, "long-line"),
                (5, 2, "final-newline"),
            ]
        );
        assert_eq!(issues[4].message, "line is 34 characters long (max 30)");
    }

    #[test]
    fn selects_rules() {
        let only = lint("\tFIXME \n", 100, &["todo".into()]).unwrap();
        assert_eq!(
            only,
            [Issue {
                line: 1,
                column: 2,
                rule: "todo",
                message: "FIXME comment".into()
            }]
        );
        assert!(lint("clean\n", 100, &[]).unwrap().is_empty());
        assert!(lint("", 100, &[]).unwrap().is_empty());
        assert!(
            lint("x", 100, &["nope".into()])
                .unwrap_err()
                .contains("unknown rule `nope`")
        );
    }
}
