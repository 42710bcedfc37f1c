//! Design: how each field is found in recognised text (the labels that
//! precede it, the kind of value) — and the extraction that follows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::requirements::Spec;

/// What a field's value looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// A date, kept as written.
    Date,
    /// Money: digits with a decimal point, currency signs and separators dropped.
    Amount,
    /// An identifier: letters, digits and `-`.
    Number,
    /// The rest of the line.
    Text,
}

/// How one field is read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldRule {
    /// Key in results.
    pub name: String,
    /// Lowercase labels that may precede the value, most specific first.
    pub labels: Vec<String>,
    /// What the value looks like.
    pub kind: ValueKind,
}

/// The extraction design of a spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Design {
    /// One rule per field, in the spec's order.
    pub rules: Vec<FieldRule>,
    /// The OCR language.
    pub language: String,
}

/// Designs the extraction of `spec`'s fields.
pub fn design(spec: &Spec) -> Design {
    let rules = spec
        .fields
        .iter()
        .map(|field| {
            let label = field.label.to_lowercase();
            let mut labels = vec![label.clone()];
            for (long, short) in [("number", "no"), ("number", "no."), ("number", "#"), ("amount", "")] {
                if label.ends_with(long) {
                    let variant = format!("{}{short}", &label[..label.len() - long.len()]);
                    let variant = variant.trim().to_string();
                    if !variant.is_empty() && !labels.contains(&variant) {
                        labels.push(variant);
                    }
                }
            }
            FieldRule {
                name: field.name.clone(),
                labels,
                kind: kind_of(&field.name),
            }
        })
        .collect();
    Design {
        rules,
        language: spec.language.clone(),
    }
}

fn kind_of(name: &str) -> ValueKind {
    let has = |words: &[&str]| words.iter().any(|w| name.split('_').any(|part| part == *w));
    if has(&["date", "day", "issued", "due"]) {
        ValueKind::Date
    } else if has(&["total", "amount", "price", "sum", "cost", "tax", "balance"]) {
        ValueKind::Amount
    } else if has(&["number", "no", "id", "code", "reference", "ref"]) {
        ValueKind::Number
    } else {
        ValueKind::Text
    }
}

/// The fields of `text` (recognised lines) by `design`: for each rule, the
/// first line holding one of its labels, the value after it. Fields not
/// found are absent.
pub fn extract(design: &Design, text: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    for rule in &design.rules {
        let value = text.lines().find_map(|line| {
            let lower = line.to_lowercase();
            rule.labels.iter().find_map(|label| {
                let at = lower.find(label.as_str())?;
                let after = &line[at + label.len()..];
                let value = after.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '#' | '='));
                normalise(rule.kind, value)
            })
        });
        if let Some(value) = value {
            found.insert(rule.name.clone(), value);
        }
    }
    found
}

/// The value of `kind` at the start of `raw`, in its normal form.
pub fn normalise(kind: ValueKind, raw: &str) -> Option<String> {
    let raw = raw.trim();
    let value = match kind {
        ValueKind::Text | ValueKind::Date => raw.split_whitespace().collect::<Vec<_>>().join(" "),
        ValueKind::Number => raw
            .split_whitespace()
            .next()?
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '-')
            .collect(),
        ValueKind::Amount => {
            let token: String = raw
                .chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ','))
                .collect();
            // A comma followed by exactly two digits at the end is a decimal comma.
            let token = match token.rfind(',') {
                Some(i) if token.len() - i == 3 && !token.contains('.') => {
                    format!("{}.{}", &token[..i], &token[i + 1..])
                }
                _ => token,
            };
            token.replace(',', "")
        }
    };
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::analyse;

    #[test]
    fn fields_are_read_after_their_labels() {
        let spec = analyse("Extract the invoice number, date and total from invoices", None, None).unwrap();
        let design = design(&spec);
        assert_eq!(
            design.rules[0].labels,
            ["invoice number", "invoice no", "invoice no.", "invoice #"]
        );
        assert_eq!(design.rules[1].kind, ValueKind::Date);
        assert_eq!(design.rules[2].kind, ValueKind::Amount);
        let text = "ACME Ltd\nInvoice No: A-1042\nDate: 2026-11-26\nTotal: $1,234.50 EUR\n";
        let fields = extract(&design, text);
        assert_eq!(fields["invoice_number"], "A-1042");
        assert_eq!(fields["date"], "2026-11-26");
        assert_eq!(fields["total"], "1234.50");
        assert!(!extract(&design, "nothing here").contains_key("total"));
    }

    #[test]
    fn amounts_take_decimal_commas() {
        assert_eq!(normalise(ValueKind::Amount, "EUR 12,50").as_deref(), Some("12.50"));
        assert_eq!(normalise(ValueKind::Amount, "1,000").as_deref(), Some("1000"));
        assert_eq!(normalise(ValueKind::Amount, "none"), None);
    }
}
