//! Requirement understanding: a plain-language requirement becomes a
//! workflow plan — which product template, with which parameters — asked of
//! the tenant's model when one is configured, worked out by deterministic
//! rules otherwise (or when the model's answer is not a usable plan).

use pa_runtime::{ChatMessage, ChatOptions};
use serde_json::{Map, Value, json};

use crate::capabilities::model::Models;

/// A product workflow the orchestrator can plan.
pub struct Template {
    /// The workflow's name when installed in a tenant.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Words of a requirement that point to it.
    keywords: &'static [&'static str],
    /// Its definition (YAML).
    pub definition: &'static str,
}

/// The product templates: the default first, each later one more specific
/// (it wins a tie).
pub const TEMPLATES: [Template; 2] = [
    Template {
        name: "ocr-experience",
        description: "OCR experience: documents in, extracted fields out, accuracy checked against expected values, \
                      released after approval",
        keywords: &[
            "extract",
            "recognise",
            "recognize",
            "ocr",
            "scan",
            "scanned",
            "fields",
            "accuracy",
            "read",
        ],
        definition: include_str!("../templates/ocr-experience.yaml"),
    },
    Template {
        name: "ocr-website",
        description: "Website publishing: the OCR experience whose release publishes the results as a versioned \
                      static site under the tenant's URL",
        keywords: &["website", "site", "publish", "page", "web", "html", "online"],
        definition: include_str!("../templates/ocr-website.yaml"),
    },
];

/// The template called `name`.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}

/// What the orchestrator proposes.
pub struct Plan {
    /// The template (and workflow) to run.
    pub template: &'static Template,
    /// The run's input.
    pub parameters: Map<String, Value>,
    /// `model` or `rules`.
    pub planner: &'static str,
    /// Why this plan.
    pub reasoning: String,
}

/// Plans `requirement` for `tenant`: with its model if it has one.
pub async fn plan(models: &Models, tenant: &str, requirement: &str) -> Result<Plan, String> {
    let rules = plan_by_rules(requirement)?;
    if !models.has_provider(tenant).await? {
        return Ok(rules);
    }
    let answer = models
        .chat(
            tenant,
            &planning_prompt(requirement),
            &ChatOptions {
                temperature: Some(0.0),
                max_tokens: Some(800),
                json: true,
            },
        )
        .await;
    Ok(match answer.map(|a| from_model(&a.content, &rules)) {
        Ok(Ok(plan)) => plan,
        Ok(Err(why)) | Err(why) => Plan {
            reasoning: format!("{why}; planned by rules instead: {}", rules.reasoning),
            ..rules
        },
    })
}

fn planning_prompt(requirement: &str) -> Vec<ChatMessage> {
    let catalogue: Vec<Value> = TEMPLATES
        .iter()
        .map(|t| json!({"template": t.name, "description": t.description}))
        .collect();
    let system = format!(
        "You plan product workflows. Templates: {catalogue}. Parameters: `fields` (list of the field labels to \
         extract), `threshold` (required accuracy, 0 to 1), and for ocr-website `site` (a lowercase name). \
         Answer with one JSON object: {{\"template\": name, \"parameters\": {{…}}, \"reasoning\": one sentence}}.",
        catalogue = Value::from(catalogue)
    );
    vec![
        ChatMessage {
            role: "system".into(),
            content: system,
        },
        ChatMessage {
            role: "user".into(),
            content: requirement.into(),
        },
    ]
}

/// The plan in a model's answer, checked: a known template, parameters of
/// the right types; what it leaves out comes from `rules`.
fn from_model(answer: &str, rules: &Plan) -> Result<Plan, String> {
    let answer: Value =
        serde_json::from_str(answer.trim()).map_err(|_| "the model's answer is not a JSON object".to_string())?;
    let name = answer["template"].as_str().unwrap_or_default();
    let template = template(name).ok_or_else(|| format!("the model chose an unknown template `{name}`"))?;
    let mut parameters = rules.parameters.clone();
    if template.name != "ocr-website" {
        parameters.remove("site");
    } else if !parameters.contains_key("site") {
        let requirement = rules.parameters["requirement"].as_str().unwrap_or_default();
        parameters.insert("site".into(), json!(site_name(requirement)));
    }
    let given = answer["parameters"].as_object().cloned().unwrap_or_default();
    if let Some(fields) = given.get("fields") {
        let labels: Option<Vec<&str>> = fields.as_array().and_then(|a| a.iter().map(Value::as_str).collect());
        match labels {
            Some(labels) if !labels.is_empty() => parameters.insert("fields".into(), json!(labels)),
            _ => return Err("the model's `fields` is not a list of labels".into()),
        };
    }
    if let Some(threshold) = given.get("threshold") {
        match threshold.as_f64() {
            Some(t) if (0.0..=1.0).contains(&t) => parameters.insert("threshold".into(), json!(t)),
            _ => return Err("the model's `threshold` is not a number from 0 to 1".into()),
        };
    }
    if template.name == "ocr-website"
        && let Some(site) = given.get("site")
    {
        match site.as_str().filter(|s| crate::api::check_name("site", s).is_ok()) {
            Some(site) => parameters.insert("site".into(), json!(site)),
            None => return Err("the model's `site` is not a site name".into()),
        };
    }
    Ok(Plan {
        template,
        parameters,
        planner: "model",
        reasoning: answer["reasoning"]
            .as_str()
            .unwrap_or("the model gave no reasoning")
            .to_string(),
    })
}

/// The deterministic plan: the template whose keywords the requirement
/// mentions most (the more specific on a tie), the fields and threshold it
/// states.
pub fn plan_by_rules(requirement: &str) -> Result<Plan, String> {
    let requirement = requirement.trim();
    if requirement.is_empty() {
        return Err("the requirement is empty".into());
    }
    let lower = requirement.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
    let score = |t: &Template| t.keywords.iter().filter(|k| words.contains(k)).count();
    let template = TEMPLATES.iter().skip(1).fold(&TEMPLATES[0], |best, t| {
        if score(t) > 0 && score(t) >= score(best) {
            t
        } else {
            best
        }
    });
    let spec = ocr_kit::analyse(requirement, None, None)?;
    let mut parameters = Map::new();
    parameters.insert("requirement".into(), json!(requirement));
    parameters.insert(
        "fields".into(),
        json!(spec.fields.iter().map(|f| f.label.clone()).collect::<Vec<_>>()),
    );
    parameters.insert("threshold".into(), json!(spec.threshold));
    if template.name == "ocr-website" {
        parameters.insert("site".into(), json!(site_name(requirement)));
    }
    let reasoning = format!(
        "`{}` matches {} of the requirement's words; fields {:?} at accuracy {}",
        template.name,
        score(template),
        spec.fields.iter().map(|f| f.label.as_str()).collect::<Vec<_>>(),
        spec.threshold
    );
    Ok(Plan {
        template,
        parameters,
        planner: "rules",
        reasoning,
    })
}

/// The site a requirement names ("a site called menu-board", "site named
/// docs"), or `ocr-results`.
fn site_name(requirement: &str) -> String {
    let lower = requirement.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    words
        .windows(3)
        .find(|w| matches!(w[0], "site" | "website") && matches!(w[1], "called" | "named"))
        .map(|w| {
            w[2].trim_matches(|c: char| !c.is_alphanumeric() && c != '-')
                .to_string()
        })
        .filter(|name| crate::api::check_name("site", name).is_ok())
        .unwrap_or_else(|| "ocr-results".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_pick_the_template_and_parameters_the_requirement_states() {
        let plan =
            plan_by_rules("Extract the invoice number and total from scanned invoices with 95% accuracy").unwrap();
        assert_eq!(plan.template.name, "ocr-experience");
        assert_eq!(plan.parameters["fields"], json!(["Invoice number", "Total"]));
        assert_eq!(plan.parameters["threshold"], json!(0.95));
        assert!(!plan.parameters.contains_key("site"));
        let plan = plan_by_rules("Publish a website called menu-board that shows the dish and price read from photos")
            .unwrap();
        assert_eq!(plan.template.name, "ocr-website");
        assert_eq!(plan.parameters["site"], "menu-board");
        assert_eq!(plan.parameters["fields"], json!(["Dish", "Price"]));
        assert!(plan_by_rules("  ").is_err());
    }

    #[test]
    fn a_model_plan_is_checked_and_completed_by_the_rules() {
        let rules = plan_by_rules("Extract the name and date from scanned forms").unwrap();
        let plan = from_model(
            r#"{"template": "ocr-website", "parameters": {"threshold": 0.8, "site": "forms"}, "reasoning": "they want it online"}"#,
            &rules,
        )
        .unwrap();
        assert_eq!(plan.template.name, "ocr-website");
        assert_eq!(plan.planner, "model");
        assert_eq!(plan.parameters["threshold"], json!(0.8));
        assert_eq!(plan.parameters["site"], "forms");
        assert_eq!(plan.parameters["fields"], json!(["Name", "Date"]));
        for bad in [
            "not json",
            r#"{"template": "nope"}"#,
            r#"{"template": "ocr-experience", "parameters": {"threshold": 3}}"#,
            r#"{"template": "ocr-experience", "parameters": {"fields": "name"}}"#,
        ] {
            assert!(from_model(bad, &rules).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_template_is_a_valid_definition() {
        for t in &TEMPLATES {
            pa_workflow::Definition::parse(t.definition).unwrap_or_else(|e| panic!("{}: {e:?}", t.name));
        }
    }
}
