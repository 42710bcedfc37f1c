//! Release and operations: the release's semantic version, and the checks
//! and alert rules operations keeps watching.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::quality::QualityReport;

/// The version after `previous` (`major.minor.patch`): a first release is
/// 1.0.0; a changed field list is a major change, a better accuracy a minor
/// one, anything else a patch.
pub fn bump(previous: Option<&str>, fields_changed: bool, accuracy_improved: bool) -> Result<String, String> {
    let Some(previous) = previous else {
        return Ok("1.0.0".into());
    };
    let parts: Vec<u64> = previous
        .split('.')
        .map(|p| p.parse::<u64>().map_err(|_| format!("`{previous}` is not a version")))
        .collect::<Result<_, _>>()?;
    let [major, minor, patch] = parts[..] else {
        return Err(format!("`{previous}` is not a major.minor.patch version"));
    };
    Ok(if fields_changed {
        format!("{}.0.0", major + 1)
    } else if accuracy_improved {
        format!("{major}.{}.0", minor + 1)
    } else {
        format!("{major}.{minor}.{}", patch + 1)
    })
}

/// One operations check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What is checked.
    pub name: String,
    /// `ok` or `warning`.
    pub status: String,
    /// What was seen.
    pub detail: String,
}

/// OCR confidence below which a recognition is worth a look.
pub const LOW_CONFIDENCE: f32 = 70.0;

/// The operations agent's view of a release: checks on the tested quality
/// and the recognitions' confidence, the overall status, and the alert
/// rules to keep (accuracy must stay above the threshold, confidence above
/// the lowest seen minus a margin).
pub fn operations(report: &QualityReport, confidences: &[(String, f32)]) -> Value {
    let mut checks = vec![Check {
        name: "accuracy".into(),
        status: if report.passed { "ok" } else { "warning" }.into(),
        detail: format!("{:.3} against a threshold of {:.3}", report.accuracy, report.threshold),
    }];
    for (name, confidence) in confidences {
        checks.push(Check {
            name: format!("confidence:{name}"),
            status: if *confidence >= LOW_CONFIDENCE { "ok" } else { "warning" }.into(),
            detail: format!("mean word confidence {confidence:.1}"),
        });
    }
    let lowest = confidences.iter().map(|(_, c)| *c).fold(f32::INFINITY, f32::min);
    let status = if checks.iter().all(|c| c.status == "ok") {
        "healthy"
    } else {
        "degraded"
    };
    json!({
        "status": status,
        "checks": checks,
        "alerts": [
            {"metric": "accuracy", "below": report.threshold},
            {"metric": "ocr_confidence", "below": if lowest.is_finite() { (lowest - 10.0).max(0.0) } else { LOW_CONFIDENCE }},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_bump_by_the_kind_of_change() {
        assert_eq!(bump(None, false, false).unwrap(), "1.0.0");
        assert_eq!(bump(Some("1.2.3"), true, true).unwrap(), "2.0.0");
        assert_eq!(bump(Some("1.2.3"), false, true).unwrap(), "1.3.0");
        assert_eq!(bump(Some("1.2.3"), false, false).unwrap(), "1.2.4");
        assert!(bump(Some("1.2"), false, false).is_err());
    }

    #[test]
    fn low_confidence_degrades_the_status() {
        let report = QualityReport {
            accuracy: 1.0,
            char_accuracy: 1.0,
            threshold: 0.9,
            passed: true,
            samples: vec![],
        };
        let healthy = operations(&report, &[("a".into(), 91.0)]);
        assert_eq!(healthy["status"], "healthy");
        assert_eq!(healthy["alerts"][1]["below"], 81.0);
        let degraded = operations(&report, &[("a".into(), 91.0), ("b".into(), 40.0)]);
        assert_eq!(degraded["status"], "degraded");
        assert_eq!(degraded["checks"][2]["status"], "warning");
    }
}
