//! An accessible page skeleton from a short structured description.
//!
//! The page gets `lang`, a `<title>`, a viewport that allows zooming, a skip
//! link to `<main>`, the landmarks the description asks for (`<header>`,
//! `<nav aria-label>`, a search form, `<main>`, `<aside>`, `<footer>`), one
//! `<h1>` and section headings that never skip a level (sections nest up to
//! `<h6>`), each section labelled by its heading.

use serde_json::{Value, json};

use crate::html::{Ids, escape};

/// The page as described by the caller.
pub struct Layout {
    pub html: String,
    /// Landmark roles present, in document order.
    pub landmarks: Vec<String>,
    /// Heading outline: `level`, `text`, `id`.
    pub outline: Vec<Value>,
    pub checks: Vec<Value>,
}

struct Page {
    ids: Ids,
    out: String,
    headings: Vec<(usize, String, String)>,
    sections: usize,
    labelled_sections: usize,
}

fn str_field<'v>(v: &'v Value, key: &str, path: &str) -> Result<Option<&'v str>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("`{path}.{key}` must be a string, got {other}")),
    }
}

fn required_str<'v>(v: &'v Value, key: &str, path: &str) -> Result<&'v str, String> {
    match str_field(v, key, path)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("`{path}.{key}` is required (a non-empty string)")),
    }
}

/// Paragraphs separated by blank lines.
fn paragraphs(text: &str, pad: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            format!(
                "{pad}<p>{}</p>\n",
                escape(&p.split_whitespace().collect::<Vec<_>>().join(" "))
            )
        })
        .collect()
}

/// Builds the page. `description` holds `title` (required), and optionally
/// `lang`, `site`, `summary`, `nav` (`[{label, href, current?}]`), `search`,
/// `sections` (`[{heading, text?, sections?}]`), `aside` (`{heading, text?}`)
/// and `footer`.
pub fn layout_from_description(d: &Value) -> Result<Layout, String> {
    if !d.is_object() {
        return Err("the description must be a JSON object".into());
    }
    let title = required_str(d, "title", "description")?;
    let lang = str_field(d, "lang", "description")?.unwrap_or("en");
    if lang.is_empty() || !lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "`lang` must be a language tag such as `en` or `pt-BR`, not `{lang}`"
        ));
    }
    let site = str_field(d, "site", "description")?;
    let summary = str_field(d, "summary", "description")?;
    let search = match d.get("search") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(format!("`search` must be a boolean, got {other}")),
    };
    let mut page = Page {
        ids: Ids::default(),
        out: String::new(),
        headings: Vec::new(),
        sections: 0,
        labelled_sections: 0,
    };
    let mut landmarks = Vec::new();
    let full_title = match site {
        Some(site) => format!("{title} – {site}"),
        None => title.to_string(),
    };
    let o = &mut page.out;
    o.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n  <meta charset=\"utf-8\">\n"
    ));
    o.push_str("  <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    o.push_str(&format!("  <title>{}</title>\n", escape(&full_title)));
    if let Some(summary) = summary {
        o.push_str(&format!(
            "  <meta name=\"description\" content=\"{}\">\n",
            escape(summary)
        ));
    }
    o.push_str("</head>\n<body>\n  <a class=\"skip-link\" href=\"#main\">Skip to main content</a>\n");

    let nav = match d.get("nav") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => return Err(format!("`nav` must be an array of {{label, href}}, got {other}")),
    };
    if site.is_some() || !nav.is_empty() || search {
        landmarks.push("banner".to_string());
        page.out.push_str("  <header>\n");
        if let Some(site) = site {
            page.out.push_str(&format!(
                "    <p class=\"site-name\"><a href=\"/\">{}</a></p>\n",
                escape(site)
            ));
        }
        if !nav.is_empty() {
            landmarks.push("navigation".to_string());
            page.out.push_str("    <nav aria-label=\"Main\">\n      <ul>\n");
            for (i, item) in nav.iter().enumerate() {
                let path = format!("nav[{i}]");
                let label = required_str(item, "label", &path)?;
                let href = required_str(item, "href", &path)?;
                let current = item.get("current").and_then(Value::as_bool).unwrap_or(false);
                let aria = if current { " aria-current=\"page\"" } else { "" };
                page.out.push_str(&format!(
                    "        <li><a href=\"{}\"{aria}>{}</a></li>\n",
                    escape(href),
                    escape(label)
                ));
            }
            page.out.push_str("      </ul>\n    </nav>\n");
        }
        if search {
            landmarks.push("search".to_string());
            let id = page.ids.make(&["site-search"]);
            page.out.push_str(&format!(
                "    <form role=\"search\" action=\"/search\" method=\"get\">\n      <label for=\"{id}\">Search this site</label>\n      <input type=\"search\" id=\"{id}\" name=\"q\">\n      <button type=\"submit\">Search</button>\n    </form>\n"
            ));
        }
        page.out.push_str("  </header>\n");
    }

    landmarks.push("main".to_string());
    page.out.push_str("  <main id=\"main\" tabindex=\"-1\">\n");
    let h1 = page.ids.make(&["page-title"]);
    page.out
        .push_str(&format!("    <h1 id=\"{h1}\">{}</h1>\n", escape(title)));
    page.headings.push((1, title.to_string(), h1));
    if let Some(summary) = summary {
        page.out.push_str(&paragraphs(summary, "    "));
    }
    match d.get("sections") {
        None | Some(Value::Null) => {}
        Some(Value::Array(sections)) => {
            for (i, s) in sections.iter().enumerate() {
                page.section(s, 2, &format!("sections[{i}]"), 2)?;
            }
        }
        Some(other) => {
            return Err(format!(
                "`sections` must be an array of {{heading, text?, sections?}}, got {other}"
            ));
        }
    }
    page.out.push_str("  </main>\n");

    if let Some(aside) = d.get("aside").filter(|a| !a.is_null()) {
        landmarks.push("complementary".to_string());
        let heading = required_str(aside, "heading", "aside")?;
        let id = page.ids.make(&["aside", heading]);
        page.out.push_str(&format!(
            "  <aside aria-labelledby=\"{id}\">\n    <h2 id=\"{id}\">{}</h2>\n",
            escape(heading)
        ));
        page.headings.push((2, heading.to_string(), id));
        if let Some(text) = str_field(aside, "text", "aside")? {
            page.out.push_str(&paragraphs(text, "    "));
        }
        page.out.push_str("  </aside>\n");
    }
    if let Some(footer) = str_field(d, "footer", "description")? {
        landmarks.push("contentinfo".to_string());
        page.out.push_str("  <footer>\n");
        page.out.push_str(&paragraphs(footer, "    "));
        page.out.push_str("  </footer>\n");
    }
    page.out.push_str("</body>\n</html>\n");

    let checks = page.checks(lang, &landmarks, nav.iter().any(|n| n["current"] == true));
    let outline = page
        .headings
        .iter()
        .map(|(level, text, id)| json!({ "level": level, "text": text, "id": id }))
        .collect();
    Ok(Layout {
        html: page.out,
        landmarks,
        outline,
        checks,
    })
}

impl Page {
    fn section(&mut self, s: &Value, level: usize, path: &str, indent: usize) -> Result<(), String> {
        if level > 6 {
            return Err(format!("`{path}`: sections nest too deeply (headings stop at <h6>)"));
        }
        let heading = required_str(s, "heading", path)?;
        let pad = "  ".repeat(indent);
        let id = self.ids.make(&[heading]);
        self.sections += 1;
        self.labelled_sections += 1;
        self.out.push_str(&format!("{pad}<section aria-labelledby=\"{id}\">\n"));
        self.out.push_str(&format!(
            "{pad}  <h{level} id=\"{id}\">{}</h{level}>\n",
            escape(heading)
        ));
        self.headings.push((level, heading.to_string(), id));
        if let Some(text) = str_field(s, "text", path)? {
            self.out.push_str(&paragraphs(text, &format!("{pad}  ")));
        }
        match s.get("sections") {
            None | Some(Value::Null) => {}
            Some(Value::Array(children)) => {
                for (i, child) in children.iter().enumerate() {
                    self.section(child, level + 1, &format!("{path}.sections[{i}]"), indent + 1)?;
                }
            }
            Some(other) => return Err(format!("`{path}.sections` must be an array, got {other}")),
        }
        self.out.push_str(&format!("{pad}</section>\n"));
        Ok(())
    }

    /// Verifies the page's structure against the rules it aims at.
    fn checks(&self, lang: &str, landmarks: &[String], has_current: bool) -> Vec<Value> {
        let h1s = self.headings.iter().filter(|h| h.0 == 1).count();
        let mut previous = 0;
        let mut skips = Vec::new();
        for (level, text, _) in &self.headings {
            if *level > previous + 1 {
                skips.push(format!("h{level} `{text}` after h{previous}"));
            }
            previous = *level;
        }
        let check = |id: &str, passed: bool, detail: String| json!({ "id": id, "passed": passed, "detail": detail });
        vec![
            check("lang", true, format!("<html lang=\"{lang}\">")),
            check("page-title", true, "a non-empty <title>".into()),
            check("zoomable", true, "the viewport does not disable zooming".into()),
            check("skip-link", true, "the first focusable element skips to <main>".into()),
            check(
                "main-landmark",
                landmarks.iter().filter(|l| *l == "main").count() == 1,
                "exactly one <main>".into(),
            ),
            check("landmarks", true, format!("landmarks: {}", landmarks.join(", "))),
            check("single-h1", h1s == 1, format!("{h1s} <h1> on the page")),
            check(
                "heading-order",
                skips.is_empty(),
                if skips.is_empty() {
                    format!("{} headings, no level skipped", self.headings.len())
                } else {
                    skips.join("; ")
                },
            ),
            check(
                "regions-labelled",
                self.labelled_sections == self.sections,
                format!("{} sections labelled by their headings", self.sections),
            ),
            check(
                "current-page",
                has_current || !landmarks.iter().any(|l| l == "navigation"),
                if has_current {
                    "the current page is marked with aria-current".into()
                } else {
                    "no navigation item is marked `current`".into()
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn description() -> Value {
        json!({
            "title": "Pricing",
            "site": "Acme",
            "summary": "Plans for every team.",
            "nav": [{ "label": "Home", "href": "/" }, { "label": "Pricing", "href": "/pricing", "current": true }],
            "search": true,
            "sections": [
                { "heading": "Plans", "text": "Two plans.\n\nCancel any time.", "sections": [{ "heading": "Free" }, { "heading": "Pro" }] },
                { "heading": "FAQ" }
            ],
            "aside": { "heading": "Need help?", "text": "Call us." },
            "footer": "© Acme"
        })
    }

    #[test]
    fn builds_landmarks_and_outline() {
        let page = layout_from_description(&description()).unwrap();
        let h = &page.html;
        assert!(h.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(h.contains("<title>Pricing – Acme</title>"));
        assert!(h.contains("<a class=\"skip-link\" href=\"#main\">Skip to main content</a>"));
        assert!(h.contains("<nav aria-label=\"Main\">"));
        assert!(h.contains("<a href=\"/pricing\" aria-current=\"page\">Pricing</a>"));
        assert!(h.contains("<form role=\"search\""));
        assert!(h.contains("<main id=\"main\" tabindex=\"-1\">\n    <h1 id=\"page-title\">Pricing</h1>"));
        assert!(h.contains("<section aria-labelledby=\"plans\">\n      <h2 id=\"plans\">Plans</h2>\n      <p>Two plans.</p>\n      <p>Cancel any time.</p>"));
        assert!(h.contains("<h3 id=\"free\">Free</h3>"));
        assert!(h.contains("<aside aria-labelledby=\"aside-need-help\">"));
        assert!(h.contains("<footer>\n    <p>© Acme</p>\n  </footer>"));
        assert_eq!(
            page.landmarks,
            ["banner", "navigation", "search", "main", "complementary", "contentinfo"]
        );
        let levels: Vec<u64> = page.outline.iter().map(|o| o["level"].as_u64().unwrap()).collect();
        assert_eq!(levels, [1, 2, 3, 3, 2, 2]);
        assert!(page.checks.iter().all(|c| c["passed"] == true), "{:?}", page.checks);
    }

    #[test]
    fn minimal_page_and_errors() {
        let page = layout_from_description(&json!({ "title": "Hi", "lang": "de" })).unwrap();
        assert!(page.html.contains("<html lang=\"de\">"));
        assert_eq!(page.landmarks, ["main"]);
        assert!(
            layout_from_description(&json!({}))
                .err()
                .unwrap()
                .contains("`description.title` is required")
        );
        assert!(layout_from_description(&json!({ "title": "x", "lang": "e n" })).is_err());
        let bad_nav = json!({ "title": "x", "nav": [{ "label": "Home" }] });
        assert!(
            layout_from_description(&bad_nav)
                .err()
                .unwrap()
                .contains("`nav[0].href` is required")
        );
        let mut deep = json!({ "heading": "h7" });
        for i in 0..5 {
            deep = json!({ "heading": format!("h{}", 6 - i), "sections": [deep] });
        }
        let err = layout_from_description(&json!({ "title": "x", "sections": [deep] }))
            .err()
            .unwrap();
        assert!(err.contains("nest too deeply"), "{err}");
    }
}
