//! Definitions: what is accepted, and every refusal naming its problem.

use pa_workflow::Definition;
use pa_workflow::definition::{Condition, RetryPolicy, Test};
use serde_json::json;

/// The message a definition is refused with.
fn refusal(text: &str) -> String {
    match Definition::parse(text) {
        Ok((d, _)) => panic!("accepted: {d:?}"),
        Err(e) => e.0,
    }
}

fn assert_refused(text: &str, expected: &[&str]) {
    let message = refusal(text);
    for part in expected {
        assert!(message.contains(part), "`{message}` should mention `{part}`");
    }
}

const RELEASE: &str = r#"
description: Recognise, approve, publish
steps:
  - id: recognise
    component: { plugin: ocr-step, input: { image: "${input.image}", lang: eng } }
    retry: { max_attempts: 3, backoff_ms: 200 }
    compensate: { component: { plugin: ocr-step, input: { undo: "${steps.recognise.output.id}" } } }
  - id: pages
    needs: [recognise]
    for_each: "${steps.recognise.output.pages}"
    tool: { plugin: text-tools, name: clean, arguments: { page: "${item}", n: "${index}" } }
  - id: gate
    needs: [pages]
    when: { value: "${steps.recognise.output.accuracy}", gte: 0.9 }
    approval: { message: "Publish ${steps.recognise.output.title}?" }
  - id: publish
    needs: [gate, pages]
    workflow: { name: publish-site, input: { pages: "${steps.pages.output}" } }
    timeout_ms: 60000
"#;

#[test]
fn a_complete_definition_parses_and_lists_what_it_calls() {
    let (definition, _) = Definition::parse(RELEASE).unwrap();
    assert_eq!(definition.steps.len(), 4);
    assert_eq!(definition.steps[0].retry.max_attempts, 3);
    assert_eq!(definition.steps[1].retry, RetryPolicy::default());
    let gate = &definition.steps[2];
    assert_eq!(
        gate.when,
        Some(Condition {
            value: "${steps.recognise.output.accuracy}".into(),
            test: Test::Gte(0.9)
        })
    );
    let needs = definition.validate().unwrap();
    assert_eq!(needs.components.into_iter().collect::<Vec<_>>(), ["ocr-step"]);
    assert_eq!(
        needs.tools.into_iter().collect::<Vec<_>>(),
        [("text-tools".to_string(), "clean".to_string())]
    );
    assert_eq!(needs.workflows.into_iter().collect::<Vec<_>>(), ["publish-site"]);
}

#[test]
fn json_and_yaml_give_the_same_definition() {
    let (yaml, _) = Definition::parse(RELEASE).unwrap();
    let json = serde_json::to_string(&yaml).unwrap();
    assert!(json.starts_with('{'));
    assert_eq!(Definition::parse(&json).unwrap().0, yaml);
}

#[test]
fn a_cycle_is_refused_with_its_steps() {
    assert_refused(
        r#"{"steps": [
            {"id": "a", "needs": ["c"], "wait": {"seconds": 1}},
            {"id": "b", "needs": ["a"], "wait": {"seconds": 1}},
            {"id": "c", "needs": ["b"], "wait": {"seconds": 1}}]}"#,
        &["cycle", "a → c → b → a"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "needs": ["a"], "wait": {"seconds": 1}}]}"#,
        &["cycle", "a → a"],
    );
}

#[test]
fn unknown_steps_are_named() {
    assert_refused(
        r#"{"steps": [{"id": "a", "needs": ["ghost"], "wait": {"seconds": 1}}]}"#,
        &["step `a` needs unknown step `ghost`"],
    );
    assert_refused(
        r#"{"steps": [
            {"id": "a", "wait": {"seconds": 1}},
            {"id": "b", "component": {"plugin": "p", "input": "${steps.a.output}"}}]}"#,
        &["step `b`", "component.input", "`a`", "add `a` to its needs"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "p", "input": "${steps.zz.output}"}}]}"#,
        &["step `a`", "`zz`"],
    );
}

#[test]
fn a_reference_to_a_transitive_need_is_allowed() {
    let text = r#"{"steps": [
        {"id": "a", "component": {"plugin": "p"}},
        {"id": "b", "needs": ["a"], "wait": {"seconds": 0}},
        {"id": "c", "needs": ["b"], "component": {"plugin": "p", "input": {"x": "${steps.a.output.x}"}}}]}"#;
    Definition::parse(text).unwrap();
}

#[test]
fn wrong_types_and_unknown_fields_are_named_with_their_path() {
    assert_refused(
        r#"{"steps": [{"id": "a", "wait": {"seconds": "soon"}}]}"#,
        &["steps[0].wait.seconds", "invalid type"],
    );
    assert_refused(
        "steps:\n  - id: a\n    neds: [b]\n    wait: { seconds: 1 }\n",
        &["steps[0]", "unknown field `neds`"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "retry": {"max_attempts": -1}, "wait": {"seconds": 1}}]}"#,
        &["steps[0].retry.max_attempts"],
    );
    assert_refused("steps: [", &["line 2"]);
}

#[test]
fn a_step_has_exactly_one_action() {
    assert_refused(r#"{"steps": [{"id": "a"}]}"#, &["step `a`", "exactly one", "none"]);
    assert_refused(
        r#"{"steps": [{"id": "a", "wait": {"seconds": 1}, "approval": {}}]}"#,
        &["step `a`", "wait, approval"],
    );
}

#[test]
fn ids_names_and_policies_are_checked() {
    assert_refused(r#"{"steps": []}"#, &["at least one step"]);
    assert_refused(
        r#"{"steps": [{"id": "A", "wait": {"seconds": 1}}]}"#,
        &["step id `A` is invalid"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "wait": {"seconds": 1}}, {"id": "a", "wait": {"seconds": 1}}]}"#,
        &["`a` is used twice"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "Bad Name"}}]}"#,
        &["component.plugin `Bad Name`"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "retry": {"max_attempts": 0}, "component": {"plugin": "p"}}]}"#,
        &["retry.max_attempts"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "retry": {"backoff_ms": 5000, "max_backoff_ms": 10}, "component": {"plugin": "p"}}]}"#,
        &["retry.backoff_ms"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "timeout_ms": 0, "component": {"plugin": "p"}}]}"#,
        &["timeout_ms"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "tool": {"plugin": "p", "name": "t", "arguments": [1]}}]}"#,
        &["tool.arguments must be a JSON object"],
    );
}

#[test]
fn loops_conditions_and_compensation_have_their_own_rules() {
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "p", "input": "${item}"}}]}"#,
        &["loop item", "no for_each"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "for_each": "pages", "component": {"plugin": "p"}}]}"#,
        &["for_each must be one `${…}` reference"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "for_each": "${input.x}", "approval": {}}]}"#,
        &["for_each works with component and tool steps"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "when": {"value": "${input.x}", "sometimes": 1}, "component": {"plugin": "p"}}]}"#,
        &["steps[0].when"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "p"}, "compensate": {}}]}"#,
        &["compensate needs exactly one"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "approval": {}, "compensate": {"component": {"plugin": "p"}}}]}"#,
        &["nothing to compensate"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "p", "input": "${steps.a.output}"}}]}"#,
        &["step `a`", "`a`"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "p", "input": "${nothing}"}}]}"#,
        &["names nothing"],
    );
    assert_refused(
        r#"{"steps": [{"id": "a", "component": {"plugin": "p", "input": "${input.x"}}]}"#,
        &["without a closing"],
    );
}

#[test]
fn conditions_compare_values() {
    let condition = |test: Test| Condition {
        value: "${input.x}".into(),
        test,
    };
    assert!(condition(Test::Gte(0.9)).holds(&json!(0.9)));
    assert!(!condition(Test::Gt(0.9)).holds(&json!(0.9)));
    assert!(!condition(Test::Lt(1.0)).holds(&json!("0.5")));
    assert!(condition(Test::Equals(json!({"a": [1]}))).holds(&json!({"a": [1]})));
    assert!(condition(Test::NotEquals(json!("x"))).holds(&json!(null)));
    assert!(condition(Test::Truthy(false)).holds(&json!([])));
    assert!(condition(Test::Truthy(true)).holds(&json!("no")));
}

#[test]
fn backoff_grows_to_its_ceiling() {
    let policy = RetryPolicy {
        max_attempts: 10,
        backoff_ms: 100,
        multiplier: 2.0,
        max_backoff_ms: 500,
        non_retryable: vec![],
    };
    let millis: Vec<u128> = (1..=5).map(|n| policy.backoff_after(n).as_millis()).collect();
    assert_eq!(millis, [100, 200, 400, 500, 500]);
}
