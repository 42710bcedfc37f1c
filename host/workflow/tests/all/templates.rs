//! `${…}` references: parsing, and filling them in.

use pa_workflow::template::{Context, Reference, references, whole};
use serde_json::json;

#[test]
fn references_are_found_in_text() {
    let found = references("page ${item.n} of ${steps.split.output.pages.length} for ${input}").unwrap();
    assert_eq!(
        found,
        [
            Reference::Item(vec!["n".into()]),
            Reference::Step("split".into(), vec!["pages".into(), "length".into()]),
            Reference::Input(vec![]),
        ]
    );
    assert_eq!(whole("${index}"), Some(Reference::Index));
    assert_eq!(whole(" ${index}"), None);
    assert_eq!(whole("${index}${index}"), None);
    assert!(references("$${not a reference}").unwrap().is_empty());
    assert!(references("${steps.a}").is_err());
    assert!(references("${input..x}").is_err());
}

#[test]
fn a_whole_reference_keeps_its_type_and_text_interpolates() {
    let input = json!({"name": "scan", "pages": [{"n": 1}, {"n": 2}], "dpi": 300});
    let output = json!({"accuracy": 0.97});
    let item = json!({"n": 2});
    let context = Context {
        input: Some(&input),
        steps: [("ocr", &output)].into_iter().collect(),
        item: Some((&item, 1)),
    };
    let template = json!({
        "pages": "${input.pages}",
        "first": "${input.pages.0.n}",
        "label": "${input.name} at ${input.dpi} dpi, page ${item.n} (#${index})",
        "accuracy": "${steps.ocr.output.accuracy}",
        "missing": "${steps.ocr.output.nothing.here}",
        "gap": "[${input.absent}]",
        "literal": "$${input.name}",
        "number": 7,
    });
    assert_eq!(
        context.render(&template).unwrap(),
        json!({
            "pages": [{"n": 1}, {"n": 2}],
            "first": 1,
            "label": "scan at 300 dpi, page 2 (#1)",
            "accuracy": 0.97,
            "missing": null,
            "gap": "[]",
            "literal": "${input.name}",
            "number": 7,
        })
    );
}
