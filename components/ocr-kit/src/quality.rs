//! Testing: extracted fields against expected values, the accuracy and the
//! quality gate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How one sample fared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleScore {
    /// The sample's name.
    pub name: String,
    /// Fields right / fields expected.
    pub correct: usize,
    /// Fields expected.
    pub expected: usize,
    /// Each wrong or missing field: `field: expected "x", got "y"`.
    pub mistakes: Vec<String>,
}

/// The testing agent's report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Share of expected fields extracted exactly (after normalising case and spaces).
    pub accuracy: f64,
    /// Mean character similarity of extracted to expected values (1 − edit distance / length).
    pub char_accuracy: f64,
    /// The threshold the gate applied to `accuracy`.
    pub threshold: f64,
    /// Whether `accuracy` reached it.
    pub passed: bool,
    /// Per sample.
    pub samples: Vec<SampleScore>,
}

fn comparable(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Levenshtein distance in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Scores `extracted` (per sample name) against `expected` (per sample
/// name, field → value) at `threshold`.
pub fn score(
    extracted: &BTreeMap<String, BTreeMap<String, String>>,
    expected: &BTreeMap<String, BTreeMap<String, String>>,
    threshold: f64,
) -> QualityReport {
    let (mut right, mut total, mut similarity) = (0usize, 0usize, 0f64);
    let empty = BTreeMap::new();
    let samples = expected
        .iter()
        .map(|(name, fields)| {
            let got = extracted.get(name).unwrap_or(&empty);
            let mut mistakes = Vec::new();
            let mut correct = 0;
            for (field, want) in fields {
                let have = got.get(field).map(String::as_str).unwrap_or("");
                let (want_c, have_c) = (comparable(want), comparable(have));
                let longest = want_c.chars().count().max(have_c.chars().count()).max(1);
                similarity += 1.0 - distance(&want_c, &have_c) as f64 / longest as f64;
                if want_c == have_c {
                    correct += 1;
                } else {
                    mistakes.push(format!("{field}: expected {want:?}, got {have:?}"));
                }
            }
            right += correct;
            total += fields.len();
            SampleScore {
                name: name.clone(),
                correct,
                expected: fields.len(),
                mistakes,
            }
        })
        .collect();
    let ratio = |x: f64| if total == 0 { 0.0 } else { x / total as f64 };
    let accuracy = ratio(right as f64);
    QualityReport {
        accuracy,
        char_accuracy: ratio(similarity),
        threshold,
        passed: total > 0 && accuracy >= threshold,
        samples,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &[(&str, &str)])]) -> BTreeMap<String, BTreeMap<String, String>> {
        pairs
            .iter()
            .map(|(n, f)| {
                (
                    n.to_string(),
                    f.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn accuracy_counts_exact_fields_and_the_gate_applies_the_threshold() {
        let expected = map(&[
            ("a", &[("total", "12.50"), ("name", "Ada Lovelace")]),
            ("b", &[("total", "3.00")]),
        ]);
        let extracted = map(&[
            ("a", &[("total", "12.50"), ("name", "ada  lovelace")]),
            ("b", &[("total", "8.00")]),
        ]);
        let report = score(&extracted, &expected, 0.6);
        assert!((report.accuracy - 2.0 / 3.0).abs() < 1e-9);
        assert!(report.passed);
        assert_eq!(report.samples[1].mistakes, [r#"total: expected "3.00", got "8.00""#]);
        assert!((report.char_accuracy - (1.0 + 1.0 + 0.75) / 3.0).abs() < 1e-9);
        assert!(!score(&extracted, &expected, 0.7).passed);
        assert!(
            !score(&extracted, &BTreeMap::new(), 0.0).passed,
            "nothing tested passes nothing"
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
