//! Requirements analysis: which fields to extract, the accuracy the release
//! must reach, a title, from the plain-language requirement (and the fields
//! and threshold when given explicitly).

use serde::{Deserialize, Serialize};

/// One field to extract.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Key in results, e.g. `invoice_number`.
    pub name: String,
    /// The label printed on documents, e.g. `Invoice number`.
    pub label: String,
}

/// What the product must do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// A short name for the product.
    pub title: String,
    /// The requirement as given.
    pub requirement: String,
    /// Fields to extract, in order.
    pub fields: Vec<Field>,
    /// Share of fields (0–1) the testing gate requires to be right.
    pub threshold: f64,
    /// The OCR language.
    pub language: String,
}

/// The threshold when the requirement names none.
pub const DEFAULT_THRESHOLD: f64 = 0.9;

/// Analyses `requirement`; `fields` and `threshold` override what the text
/// says. Fails when no field can be found.
pub fn analyse(requirement: &str, fields: Option<Vec<String>>, threshold: Option<f64>) -> Result<Spec, String> {
    let labels = match fields {
        Some(given) if !given.is_empty() => given,
        _ => labels_in(requirement),
    };
    if labels.is_empty() {
        return Err(
            "no fields to extract: name them (\"extract the invoice number, date and total\") or pass `fields`".into(),
        );
    }
    let threshold = threshold
        .or_else(|| percentage_in(requirement))
        .unwrap_or(DEFAULT_THRESHOLD);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(format!("threshold {threshold} is not between 0 and 1"));
    }
    let fields: Vec<Field> = labels
        .iter()
        .map(|label| Field {
            name: snake_case(label),
            label: capitalised(label.trim()),
        })
        .collect();
    Ok(Spec {
        title: title(&fields),
        requirement: requirement.trim().to_string(),
        fields,
        threshold,
        language: "eng".into(),
    })
}

/// The labels after the first verb that introduces them ("extract", "read",
/// "capture", "show", …): a list separated by commas and "and", up to a word
/// that ends it ("from", "in", "with", "read", "that", …) or the sentence.
fn labels_in(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let verbs = [
        "extract ",
        "read ",
        "capture ",
        "recognise ",
        "recognize ",
        "show ",
        "shows ",
        "showing ",
        "list ",
        "listing ",
    ];
    let Some(start) = verbs
        .iter()
        .filter_map(|verb| lower.find(verb).map(|i| i + verb.len()))
        .min()
    else {
        return Vec::new();
    };
    let rest = &lower[start..];
    let end = rest.find(['.', ';', '\n']).unwrap_or(rest.len());
    // Padded so that a stop word ending the sentence is found too.
    let padded = format!("{} ", &rest[..end]);
    let stops = [
        " from ",
        " in ",
        " with ",
        " on ",
        " of each ",
        " out of ",
        " read ",
        " recognised ",
        " recognized ",
        " extracted ",
        " that ",
        " which ",
        " for ",
    ];
    let cut = stops
        .iter()
        .filter_map(|stop| padded.find(stop))
        .min()
        .unwrap_or(padded.len());
    padded[..cut]
        .split(',')
        .flat_map(|part| part.split(" and "))
        .map(|part| {
            let part = part.trim();
            let part = part.strip_prefix("the ").unwrap_or(part);
            let part = part.strip_prefix("its ").unwrap_or(part);
            part.trim().to_string()
        })
        .filter(|part| !part.is_empty() && part.split_whitespace().count() <= 4)
        .collect()
}

/// "95%" or "95 %" in the text, as 0.95.
fn percentage_in(text: &str) -> Option<f64> {
    let at = text.find('%')?;
    let digits: String = text[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse::<f64>().ok().map(|p| p / 100.0)
}

/// `Invoice number` → `invoice_number`.
pub fn snake_case(label: &str) -> String {
    label
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

fn capitalised(label: &str) -> String {
    let mut chars = label.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn title(fields: &[Field]) -> String {
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    format!("ocr-{}", names.join("-")).chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_threshold_come_from_the_requirement() {
        let spec = analyse(
            "Extract the invoice number, date and total amount from scanned invoices with 95% accuracy.",
            None,
            None,
        )
        .unwrap();
        let names: Vec<_> = spec.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["invoice_number", "date", "total_amount"]);
        assert_eq!(spec.fields[0].label, "Invoice number");
        assert!((spec.threshold - 0.95).abs() < 1e-9);
        assert_eq!(spec.title, "ocr-invoice_number-date-total_amount");
        for text in [
            "A website showing the dish and price read from menu photos",
            "A website showing the dish and price read",
        ] {
            let spec = analyse(text, None, None).unwrap();
            let names: Vec<_> = spec.fields.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names, ["dish", "price"], "{text}");
        }
    }

    #[test]
    fn explicit_fields_win_and_no_fields_is_an_error() {
        let spec = analyse("whatever", Some(vec!["Name".into()]), Some(0.5)).unwrap();
        assert_eq!(spec.fields[0].name, "name");
        assert_eq!(spec.threshold, 0.5);
        assert!(analyse("Make it nice", None, None).unwrap_err().contains("no fields"));
        assert!(analyse("Extract the name", None, Some(1.5)).is_err());
    }
}
