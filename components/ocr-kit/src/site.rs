//! The website flavour's static site: the results of a release as an
//! accessible HTML page, its stylesheet and the results as JSON.

use std::collections::BTreeMap;

use serde_json::json;

use crate::quality::QualityReport;
use crate::requirements::Spec;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #767676;padding:.4rem;text-align:left}\
caption{text-align:left;font-weight:bold;margin-bottom:.5rem}\n";

/// The site's files (path, content): `index.html`, `style.css`,
/// `results.json`.
pub fn render(
    spec: &Spec,
    version: &str,
    report: &QualityReport,
    results: &BTreeMap<String, BTreeMap<String, String>>,
) -> Vec<(String, Vec<u8>)> {
    let header: String = spec
        .fields
        .iter()
        .map(|f| format!("<th scope=\"col\">{}</th>", escape(&f.label)))
        .collect();
    let rows: String = results
        .iter()
        .map(|(sample, fields)| {
            let cells: String = spec
                .fields
                .iter()
                .map(|f| format!("<td>{}</td>", escape(fields.get(&f.name).map_or("", String::as_str))))
                .collect();
            format!("<tr><th scope=\"row\">{}</th>{cells}</tr>\n", escape(sample))
        })
        .collect();
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} {version}</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n<main>\n\
         <h1>{title}</h1>\n<p>Release {version}. Accuracy {accuracy:.1}% (threshold {threshold:.1}%).</p>\n\
         <p>{requirement}</p>\n<table>\n<caption>Extracted fields</caption>\n\
         <thead><tr><th scope=\"col\">Document</th>{header}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         <p><a href=\"results.json\">Results as JSON</a></p>\n</main>\n</body>\n</html>\n",
        title = escape(&spec.title),
        version = escape(version),
        accuracy = report.accuracy * 100.0,
        threshold = report.threshold * 100.0,
        requirement = escape(&spec.requirement),
    );
    let data = json!({"title": spec.title, "version": version, "accuracy": report.accuracy, "results": results});
    vec![
        ("index.html".into(), page.into_bytes()),
        ("style.css".into(), STYLE.as_bytes().to_vec()),
        (
            "results.json".into(),
            serde_json::to_vec_pretty(&data).expect("JSON serialises"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::analyse;

    #[test]
    fn the_page_lists_every_result_escaped() {
        let spec = analyse("Extract the name", None, None).unwrap();
        let report = crate::quality::score(&BTreeMap::new(), &BTreeMap::new(), 0.9);
        let results = BTreeMap::from([(
            "doc<1>".to_string(),
            BTreeMap::from([("name".to_string(), "A & B".to_string())]),
        )]);
        let files = render(&spec, "1.0.0", &report, &results);
        let page = String::from_utf8(files[0].1.clone()).unwrap();
        assert!(
            page.contains("<th scope=\"row\">doc&lt;1&gt;</th><td>A &amp; B</td>"),
            "{page}"
        );
        assert!(page.contains("<html lang=\"en\">"));
        assert_eq!(files[2].0, "results.json");
    }
}
