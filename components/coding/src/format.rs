//! Formatting: JSON pretty-printing and whitespace normalisation of text.

use serde_json::{Value, json};

/// Re-indents JSON text. Keys keep their order and numbers their spelling,
/// unless `sort_keys` is set (then the document is re-serialised with keys
/// sorted). `indent` 0 gives compact output. Invalid JSON is reported with its
/// line and column.
pub fn format_json(text: &str, indent: usize, sort_keys: bool, final_newline: bool) -> Result<String, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = if sort_keys {
        if indent == 0 {
            value.to_string()
        } else {
            let pad = vec![b' '; indent];
            let mut buf = Vec::new();
            let mut ser =
                serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(&pad));
            serde::Serialize::serialize(&value, &mut ser).map_err(|e| e.to_string())?;
            String::from_utf8(buf).map_err(|e| e.to_string())?
        }
    } else {
        reindent(text, indent)
    };
    if final_newline {
        out.push('\n');
    }
    Ok(out)
}

/// Re-indents already validated JSON token by token.
fn reindent(text: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let chars: Vec<char> = text.chars().collect();
    let newline = |out: &mut String, depth: usize| {
        if !pad.is_empty() {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(&pad);
            }
        }
    };
    let next_significant = |from: usize| chars[from..].iter().copied().find(|c| !c.is_whitespace());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' => {
                out.push('"');
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' {
                        i += 1;
                        out.push(chars[i]);
                    } else if chars[i] == '"' {
                        break;
                    }
                    i += 1;
                }
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                if next_significant(i + 1) == Some(close) {
                    // Empty container stays `{}` / `[]`.
                    while chars[i + 1].is_whitespace() {
                        i += 1;
                    }
                    out.push(close);
                    i += 1;
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth -= 1;
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => {
                out.push(':');
                if !pad.is_empty() {
                    out.push(' ');
                }
            }
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// How text is normalised.
pub struct TextOptions {
    /// Expand tabs to this tab width (tab stops), when set.
    pub tab_width: Option<usize>,
    pub trim_trailing: bool,
    /// End with exactly one newline (trailing blank lines removed).
    pub final_newline: bool,
    /// `lf`, `crlf` or `keep`.
    pub line_endings: String,
}

/// Normalises whitespace; returns the text and what was changed.
pub fn normalize_text(text: &str, o: &TextOptions) -> Result<(String, Value), String> {
    let eol = match o.line_endings.as_str() {
        "lf" => Some("\n"),
        "crlf" => Some("\r\n"),
        "keep" => None,
        other => return Err(format!("`line_endings` must be `lf`, `crlf` or `keep`, not `{other}`")),
    };
    if o.tab_width == Some(0) || o.tab_width.is_some_and(|w| w > 16) {
        return Err("`tab_width` must be between 1 and 16".into());
    }
    let (mut trimmed, mut expanded, mut converted) = (0, 0, 0);
    let mut lines: Vec<(String, &str)> = Vec::new();
    for raw in text.split_inclusive('\n') {
        let (body, ending) = if let Some(b) = raw.strip_suffix("\r\n") {
            (b, "\r\n")
        } else if let Some(b) = raw.strip_suffix('\n') {
            (b, "\n")
        } else {
            (raw, "")
        };
        let mut line = body.to_string();
        if let Some(width) = o.tab_width
            && line.contains('\t')
        {
            let mut out = String::new();
            let mut col = 0;
            for c in line.chars() {
                if c == '\t' {
                    let n = width - col % width;
                    out.extend(std::iter::repeat_n(' ', n));
                    col += n;
                } else {
                    out.push(c);
                    col += 1;
                }
            }
            line = out;
            expanded += 1;
        }
        if o.trim_trailing {
            let len = line.trim_end_matches([' ', '\t', '\u{a0}']).len();
            if len != line.len() {
                line.truncate(len);
                trimmed += 1;
            }
        }
        let ending = match (eol, ending) {
            (_, "") => "",
            (Some(e), old) => {
                if old != e {
                    converted += 1;
                }
                e
            }
            (None, old) => old,
        };
        lines.push((line, ending));
    }
    let mut blank_removed = 0;
    let mut newline_added = false;
    if o.final_newline {
        while lines.len() > 1 && lines.last().is_some_and(|l| l.0.trim().is_empty()) {
            lines.pop();
            blank_removed += 1;
        }
        if lines.len() == 1 && lines[0].0.trim().is_empty() {
            lines.clear();
        }
        if let Some(last) = lines.last_mut()
            && last.1.is_empty()
        {
            newline_added = true;
            last.1 = eol.unwrap_or(if text.contains("\r\n") { "\r\n" } else { "\n" });
        }
    }
    let out: String = lines.iter().flat_map(|(l, e)| [l.as_str(), *e]).collect();
    let changes = json!({
        "trailing_whitespace_lines": trimmed,
        "lines_with_tabs_expanded": expanded,
        "line_endings_converted": converted,
        "trailing_blank_lines_removed": blank_removed,
        "final_newline_added": newline_added,
    });
    Ok((out, changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_order_and_numbers() {
        let text = r#"{"b":1.50,"a":[1,2,{}],"s":"x\"y:,{","e":[ ],"n":null}"#;
        assert_eq!(
            format_json(text, 2, false, true).unwrap(),
            "{\n  \"b\": 1.50,\n  \"a\": [\n    1,\n    2,\n    {}\n  ],\n  \"s\": \"x\\\"y:,{\",\n  \"e\": [],\n  \"n\": null\n}\n"
        );
        assert_eq!(
            format_json("{ \"a\" : [ 1 , 2 ] }", 0, false, false).unwrap(),
            "{\"a\":[1,2]}"
        );
        assert_eq!(
            format_json(r#"{"b":1,"a":2}"#, 4, true, false).unwrap(),
            "{\n    \"a\": 2,\n    \"b\": 1\n}"
        );
    }

    #[test]
    fn json_errors_name_the_position() {
        let err = format_json("{\n  \"a\": 1,\n}", 2, false, true).unwrap_err();
        assert!(
            err.starts_with("invalid JSON: ") && err.ends_with("at line 3 column 1"),
            "{err}"
        );
    }

    fn opts() -> TextOptions {
        TextOptions {
            tab_width: Some(4),
            trim_trailing: true,
            final_newline: true,
            line_endings: "lf".into(),
        }
    }

    #[test]
    fn normalizes_whitespace() {
        let (out, changes) = normalize_text("a  \r\n\tb\t\nab\tc\n\n\n", &opts()).unwrap();
        assert_eq!(out, "a\n    b\nab  c\n");
        assert_eq!(changes["trailing_whitespace_lines"], 2);
        assert_eq!(changes["lines_with_tabs_expanded"], 2);
        assert_eq!(changes["line_endings_converted"], 1);
        assert_eq!(changes["trailing_blank_lines_removed"], 2);
        assert_eq!(changes["final_newline_added"], false);
        let (out, changes) = normalize_text("x", &opts()).unwrap();
        assert_eq!((out.as_str(), &changes["final_newline_added"]), ("x\n", &json!(true)));
        let keep = TextOptions {
            tab_width: None,
            final_newline: false,
            line_endings: "keep".into(),
            ..opts()
        };
        assert_eq!(normalize_text("a\t \r\nb", &keep).unwrap().0, "a\r\nb");
        assert_eq!(normalize_text("\n\n", &opts()).unwrap().0, "");
        assert!(
            normalize_text(
                "x",
                &TextOptions {
                    line_endings: "cr".into(),
                    ..opts()
                }
            )
            .is_err()
        );
    }
}
