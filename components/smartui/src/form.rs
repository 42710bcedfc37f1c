//! An accessible HTML form from a JSON Schema.
//!
//! Every property of the (object) schema becomes a labelled control:
//! `string` an `<input>` whose type follows `format` (or a `<textarea>` for
//! long text), `integer`/`number` a number input with `minimum`/`maximum`,
//! `boolean` a checkbox, `enum`/`oneOf` of `const`s a `<select>`, an array of
//! enum items a multiple select, other arrays a one-value-per-line textarea
//! and nested objects a `<fieldset>` with a `<legend>`. Required properties get
//! `required` and a visible asterisk explained once at the top; `description`s
//! become hints linked with `aria-describedby`. Local `$ref`s (`#/$defs/…`,
//! `#/definitions/…`) are followed. Property order is alphabetical unless the
//! object schema lists an `x-order` (or the caller passes `order` for the top
//! level).

use serde_json::{Map, Value, json};

use crate::html::{Ids, escape, humanize};

/// How the form is wrapped.
pub struct FormOptions {
    /// A heading naming the form (its accessible name).
    pub title: Option<String>,
    pub action: String,
    /// `get` or `post`.
    pub method: String,
    pub submit_label: String,
    /// Prefix of every element id.
    pub id_prefix: String,
    /// Order of the top-level properties (the rest follow alphabetically).
    pub order: Vec<String>,
}

/// The generated form.
pub struct Form {
    pub html: String,
    /// One entry per control: `name`, `id`, `control`, `required`.
    pub fields: Vec<Value>,
    /// Accessibility checks: `id`, `passed`, `detail`.
    pub checks: Vec<Value>,
}

/// What the generator recorded about one control or group.
struct Field {
    name: String,
    id: String,
    control: String,
    required: bool,
    has_label: bool,
    described: bool,
    has_description: bool,
    autocomplete: bool,
}

struct Gen<'a> {
    root: &'a Value,
    ids: Ids,
    prefix: String,
    out: String,
    fields: Vec<Field>,
    fieldsets: usize,
    legends: usize,
}

const MAX_DEPTH: usize = 8;

/// Builds the form for `schema`, which must describe an object.
pub fn form_from_schema(schema: &Value, options: &FormOptions) -> Result<Form, String> {
    if !schema.is_object() {
        return Err("`schema` must be a JSON object (a JSON Schema)".into());
    }
    let method = options.method.to_ascii_lowercase();
    if method != "get" && method != "post" {
        return Err(format!("`method` must be `get` or `post`, not `{}`", options.method));
    }
    let mut g = Gen {
        root: schema,
        ids: Ids::default(),
        prefix: options.id_prefix.clone(),
        out: String::new(),
        fields: Vec::new(),
        fieldsets: 0,
        legends: 0,
    };
    let top = g.resolve(schema, "schema")?;
    if kind(top, "schema")? != Kind::Object {
        return Err("the top-level schema must be an object (`type: object` with `properties`)".into());
    }
    let form_id = g.ids.make(&[&g.prefix.clone()]);
    let title_id = options
        .title
        .as_ref()
        .map(|_| g.ids.make(&[&g.prefix.clone(), "title"]));
    let note_id = g.ids.make(&[&g.prefix.clone(), "required-note"]);
    let mut body = std::mem::take(&mut g.out);
    g.object_fields(top, &[], 1, &options.order, 0)?;
    std::mem::swap(&mut body, &mut g.out);
    if g.fields.is_empty() {
        return Err("the schema has no properties to make fields from".into());
    }
    let any_required = g.fields.iter().any(|f| f.required);

    let mut html = String::new();
    let labelled = title_id
        .as_ref()
        .map(|id| format!(" aria-labelledby=\"{id}\""))
        .unwrap_or_default();
    html.push_str(&format!(
        "<form id=\"{form_id}\" action=\"{}\" method=\"{method}\"{labelled}>\n",
        escape(&options.action)
    ));
    if let (Some(title), Some(id)) = (&options.title, &title_id) {
        html.push_str(&format!("  <h2 id=\"{id}\">{}</h2>\n", escape(title)));
    }
    if any_required {
        html.push_str(&format!(
            "  <p id=\"{note_id}\">Required fields are marked with an asterisk (<span aria-hidden=\"true\">*</span>).</p>\n"
        ));
    }
    html.push_str(&body);
    let submit = if options.submit_label.trim().is_empty() {
        "Submit"
    } else {
        options.submit_label.trim()
    };
    html.push_str(&format!(
        "  <button type=\"submit\">{}</button>\n</form>\n",
        escape(submit)
    ));

    let checks = g.checks(options.title.is_some(), any_required);
    let fields = g
        .fields
        .iter()
        .filter(|f| f.control != "fieldset")
        .map(|f| json!({ "name": f.name, "id": f.id, "control": f.control, "required": f.required }))
        .collect();
    Ok(Form { html, fields, checks })
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Kind {
    Object,
    String,
    Integer,
    Number,
    Boolean,
    Array,
}

/// The data type of a property schema (`["string", "null"]` counts as `string`).
fn kind(schema: &Value, path: &str) -> Result<Kind, String> {
    let ty = match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        Some(other) => return Err(format!("`{path}`: `type` must be a string or an array, got {other}")),
        None => None,
    };
    Ok(match ty {
        Some("object") => Kind::Object,
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        Some("array") => Kind::Array,
        Some(other) => return Err(format!("`{path}`: unsupported type `{other}`")),
        None if schema.get("properties").is_some() => Kind::Object,
        None if schema.get("items").is_some() => Kind::Array,
        None => Kind::String,
    })
}

/// The choices of an `enum` or of a `oneOf`/`anyOf` of `const`s, as
/// (value, label) pairs; `enumNames` supplies labels for an `enum`.
fn choices(schema: &Value, path: &str) -> Result<Option<Vec<(String, String)>>, String> {
    if let Some(values) = schema.get("enum") {
        let values = values
            .as_array()
            .ok_or_else(|| format!("`{path}`: `enum` must be an array"))?;
        if values.is_empty() {
            return Err(format!("`{path}`: `enum` is empty"));
        }
        let names = schema.get("enumNames").and_then(Value::as_array);
        let mut out = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let value = scalar_text(v).ok_or_else(|| format!("`{path}`: enum values must be scalars, got {v}"))?;
            let label = names
                .and_then(|n| n.get(i))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| value.clone());
            out.push((value, label));
        }
        return Ok(Some(out));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array)
            && !options.is_empty()
            && options.iter().all(|o| o.get("const").is_some())
        {
            let mut out = Vec::new();
            for o in options {
                let value = scalar_text(&o["const"])
                    .ok_or_else(|| format!("`{path}`: `const` values must be scalars, got {}", o["const"]))?;
                let label = o
                    .get("title")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| value.clone());
                out.push((value, label));
            }
            return Ok(Some(out));
        }
    }
    Ok(None)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The HTML `autocomplete` token for well-known personal-data field names.
fn autocomplete_token(name: &str) -> Option<&'static str> {
    let key: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "name" | "fullname" => "name",
        "firstname" | "givenname" => "given-name",
        "lastname" | "familyname" | "surname" => "family-name",
        "email" | "emailaddress" => "email",
        "phone" | "tel" | "telephone" | "phonenumber" | "mobile" => "tel",
        "street" | "streetaddress" | "address1" => "street-address",
        "city" | "town" | "locality" => "address-level2",
        "postalcode" | "zip" | "zipcode" | "postcode" => "postal-code",
        "country" | "countryname" => "country-name",
        "username" | "login" => "username",
        "organization" | "organisation" | "company" => "organization",
        "website" | "url" | "homepage" => "url",
        "birthday" | "birthdate" | "dateofbirth" => "bday",
        _ => return None,
    })
}

/// The input type for a string `format`.
fn input_type(format: Option<&str>) -> &'static str {
    match format {
        Some("email") | Some("idn-email") => "email",
        Some("uri") | Some("url") | Some("iri") => "url",
        Some("date") => "date",
        Some("time") => "time",
        Some("date-time") => "datetime-local",
        Some("password") => "password",
        Some("color") => "color",
        Some("tel") | Some("phone") => "tel",
        _ => "text",
    }
}

impl<'a> Gen<'a> {
    /// Follows local `$ref`s.
    fn resolve<'s>(&self, schema: &'s Value, path: &str) -> Result<&'s Value, String>
    where
        'a: 's,
    {
        let root: &'a Value = self.root;
        let mut current = schema;
        for _ in 0..MAX_DEPTH {
            let Some(reference) = current.get("$ref") else {
                return Ok(current);
            };
            let reference = reference
                .as_str()
                .ok_or_else(|| format!("`{path}`: `$ref` must be a string"))?;
            let pointer = reference
                .strip_prefix('#')
                .ok_or_else(|| format!("`{path}`: only local references (`#/…`) are supported, not `{reference}`"))?;
            current = root
                .pointer(pointer)
                .ok_or_else(|| format!("`{path}`: reference `{reference}` does not resolve"))?;
        }
        Err(format!("`{path}`: `$ref` chain is too long (cyclic?)"))
    }

    /// Emits the controls of an object's properties.
    fn object_fields(
        &mut self,
        schema: &Value,
        path: &[String],
        indent: usize,
        order: &[String],
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "`{}`: objects are nested too deeply (cyclic `$ref`?)",
                path.join(".")
            ));
        }
        let empty = Map::new();
        let properties = match schema.get("properties") {
            Some(Value::Object(p)) => p,
            Some(_) => return Err(format!("`{}`: `properties` must be an object", display(path))),
            None => &empty,
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let x_order: Vec<String> = schema
            .get("x-order")
            .and_then(Value::as_array)
            .map(|o| o.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let order = if order.is_empty() { &x_order } else { order };
        let mut names: Vec<&String> = order.iter().filter(|n| properties.contains_key(*n)).collect();
        for name in properties.keys() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        for name in names {
            let mut child_path = path.to_vec();
            child_path.push(name.clone());
            self.property(
                name,
                &properties[name],
                &child_path,
                required.contains(&name.as_str()),
                indent,
                depth,
            )?;
        }
        Ok(())
    }

    fn property(
        &mut self,
        name: &str,
        schema: &Value,
        path: &[String],
        required: bool,
        indent: usize,
        depth: usize,
    ) -> Result<(), String> {
        let dotted = path.join(".");
        let schema = self.resolve(schema, &dotted)?;
        if !schema.is_object() {
            return Err(format!("`{dotted}`: a property schema must be an object"));
        }
        let pad = "  ".repeat(indent);
        let label = schema
            .get("title")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| humanize(name));
        let description = schema
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty());
        let mut parts: Vec<&str> = vec![&self.prefix];
        parts.extend(path.iter().map(String::as_str));
        let id = self.ids.make(&parts);
        let desc_id = description.map(|_| format!("{id}-desc"));
        let describedby = desc_id
            .as_ref()
            .map(|d| format!(" aria-describedby=\"{d}\""))
            .unwrap_or_default();
        let mark = if required {
            " <span class=\"required\" aria-hidden=\"true\">*</span>"
        } else {
            ""
        };
        let req_attr = if required { " required" } else { "" };
        let hint = |pad: &str| match (description, &desc_id) {
            (Some(d), Some(id)) => format!("{pad}  <p id=\"{id}\" class=\"hint\">{}</p>\n", escape(d)),
            _ => String::new(),
        };
        let readonly =
            schema.get("readOnly").and_then(Value::as_bool).unwrap_or(false) || schema.get("const").is_some();
        let readonly_attr = if readonly { " readonly" } else { "" };
        let default = schema.get("default").or_else(|| schema.get("const"));
        let kind = kind(schema, &dotted)?;
        let mut field = Field {
            name: dotted.clone(),
            id: id.clone(),
            control: String::new(),
            required,
            has_label: true,
            described: desc_id.is_some(),
            has_description: description.is_some(),
            autocomplete: false,
        };

        if kind == Kind::Object {
            self.fieldsets += 1;
            self.legends += 1;
            field.control = "fieldset".into();
            self.fields.push(field);
            self.out
                .push_str(&format!("{pad}<fieldset id=\"{id}\"{describedby}>\n"));
            self.out
                .push_str(&format!("{pad}  <legend>{}{mark}</legend>\n", escape(&label)));
            self.out.push_str(&hint(&pad));
            self.object_fields(schema, path, indent + 1, &[], depth + 1)?;
            self.out.push_str(&format!("{pad}</fieldset>\n"));
            return Ok(());
        }

        let label_html = format!("{pad}  <label for=\"{id}\">{}{mark}</label>\n", escape(&label));
        let name_attr = escape(&dotted);
        let mut html = String::new();
        if kind == Kind::Boolean {
            let checked = if default == Some(&Value::Bool(true)) {
                " checked"
            } else {
                ""
            };
            let disabled = if readonly { " disabled" } else { "" };
            field.control = "checkbox".into();
            html.push_str(&format!("{pad}<div class=\"field field-checkbox\">\n"));
            html.push_str(&format!(
                "{pad}  <input type=\"checkbox\" id=\"{id}\" name=\"{name_attr}\" value=\"true\"{checked}{req_attr}{disabled}{describedby}>\n"
            ));
            html.push_str(&label_html);
        } else if let Some(options) = choices(schema, &dotted)? {
            field.control = "select".into();
            html.push_str(&format!("{pad}<div class=\"field\">\n{label_html}"));
            html.push_str(&self.select(&id, &name_attr, &options, default, false, req_attr, &describedby, &pad));
        } else if kind == Kind::Array {
            let items = self.resolve(schema.get("items").unwrap_or(&Value::Null), &dotted)?;
            if let Some(options) = choices(items, &format!("{dotted}[]"))? {
                field.control = "select-multiple".into();
                html.push_str(&format!("{pad}<div class=\"field\">\n{label_html}"));
                html.push_str(&self.select(&id, &name_attr, &options, default, true, req_attr, &describedby, &pad));
            } else {
                // Free-form lists: one value per line, said so in a hint.
                field.control = "textarea".into();
                let list_hint = format!("{id}-format");
                let ids = match &desc_id {
                    Some(d) => format!("{d} {list_hint}"),
                    None => list_hint.clone(),
                };
                field.described = true;
                let value = default
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(scalar_text).collect::<Vec<_>>().join("\n"))
                    .unwrap_or_default();
                html.push_str(&format!("{pad}<div class=\"field\">\n{label_html}"));
                html.push_str(&format!(
                    "{pad}  <textarea id=\"{id}\" name=\"{name_attr}\" rows=\"4\"{req_attr}{readonly_attr} aria-describedby=\"{ids}\">{}</textarea>\n",
                    escape(&value)
                ));
                html.push_str(&format!(
                    "{pad}  <p id=\"{list_hint}\" class=\"hint\">One value per line.</p>\n"
                ));
            }
        } else {
            let mut attrs = String::new();
            let control;
            let value_attr = default
                .and_then(scalar_text)
                .map(|v| format!(" value=\"{}\"", escape(&v)))
                .unwrap_or_default();
            match kind {
                Kind::Integer | Kind::Number => {
                    control = "number";
                    attrs.push_str(if kind == Kind::Integer {
                        " step=\"1\""
                    } else {
                        " step=\"any\""
                    });
                    for (key, attr) in [("minimum", "min"), ("maximum", "max")] {
                        if let Some(n) = schema.get(key).and_then(Value::as_number) {
                            attrs.push_str(&format!(" {attr}=\"{n}\""));
                        }
                    }
                    if kind == Kind::Integer {
                        attrs.push_str(" inputmode=\"numeric\"");
                    }
                }
                _ => {
                    let format = schema.get("format").and_then(Value::as_str);
                    let writes_only = schema.get("writeOnly").and_then(Value::as_bool).unwrap_or(false);
                    control = if writes_only { "password" } else { input_type(format) };
                    for (key, attr) in [("minLength", "minlength"), ("maxLength", "maxlength")] {
                        if let Some(n) = schema.get(key).and_then(Value::as_u64) {
                            attrs.push_str(&format!(" {attr}=\"{n}\""));
                        }
                    }
                    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                        let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
                        let pattern = pattern.strip_suffix('$').unwrap_or(pattern);
                        attrs.push_str(&format!(" pattern=\"{}\"", escape(pattern)));
                    }
                }
            }
            if let Some(token) = autocomplete_token(name) {
                attrs.push_str(&format!(" autocomplete=\"{token}\""));
                field.autocomplete = true;
            } else if control == "password" {
                attrs.push_str(" autocomplete=\"new-password\"");
            }
            let long_text = kind == Kind::String && schema.get("maxLength").and_then(Value::as_u64).unwrap_or(0) > 200;
            html.push_str(&format!("{pad}<div class=\"field\">\n{label_html}"));
            if long_text && control == "text" {
                field.control = "textarea".into();
                let value = default.and_then(scalar_text).unwrap_or_default();
                html.push_str(&format!(
                    "{pad}  <textarea id=\"{id}\" name=\"{name_attr}\" rows=\"5\"{attrs}{req_attr}{readonly_attr}{describedby}>{}</textarea>\n",
                    escape(&value)
                ));
            } else {
                field.control = control.into();
                html.push_str(&format!(
                    "{pad}  <input type=\"{control}\" id=\"{id}\" name=\"{name_attr}\"{value_attr}{attrs}{req_attr}{readonly_attr}{describedby}>\n"
                ));
            }
        }
        html.push_str(&hint(&pad));
        html.push_str(&format!("{pad}</div>\n"));
        self.out.push_str(&html);
        self.fields.push(field);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn select(
        &self,
        id: &str,
        name: &str,
        options: &[(String, String)],
        default: Option<&Value>,
        multiple: bool,
        req_attr: &str,
        describedby: &str,
        pad: &str,
    ) -> String {
        let selected: Vec<String> = match default {
            Some(Value::Array(values)) => values.iter().filter_map(scalar_text).collect(),
            Some(v) => scalar_text(v).into_iter().collect(),
            None => Vec::new(),
        };
        let multiple_attr = if multiple { " multiple" } else { "" };
        let mut html = format!("{pad}  <select id=\"{id}\" name=\"{name}\"{multiple_attr}{req_attr}{describedby}>\n");
        if !multiple && selected.is_empty() {
            html.push_str(&format!("{pad}    <option value=\"\">Choose…</option>\n"));
        }
        for (value, label) in options {
            let sel = if selected.contains(value) { " selected" } else { "" };
            html.push_str(&format!(
                "{pad}    <option value=\"{}\"{sel}>{}</option>\n",
                escape(value),
                escape(label)
            ));
        }
        html.push_str(&format!("{pad}  </select>\n"));
        html
    }

    /// Verifies the generated form against the accessibility rules it aims at.
    fn checks(&self, titled: bool, any_required: bool) -> Vec<Value> {
        let controls: Vec<&Field> = self.fields.iter().filter(|f| f.control != "fieldset").collect();
        let labelled = controls.iter().filter(|f| f.has_label).count();
        let required: Vec<&&Field> = controls.iter().filter(|f| f.required).collect();
        let with_description = self.fields.iter().filter(|f| f.has_description).count();
        let described = self.fields.iter().filter(|f| f.has_description && f.described).count();
        let typed = controls
            .iter()
            .filter(|f| f.control != "text" && f.control != "textarea")
            .count();
        let autocompleted = controls.iter().filter(|f| f.autocomplete).count();
        let check = |id: &str, passed: bool, detail: String| json!({ "id": id, "passed": passed, "detail": detail });
        vec![
            check(
                "labels",
                labelled == controls.len(),
                format!(
                    "{labelled} of {} controls have a <label for> naming them",
                    controls.len()
                ),
            ),
            check(
                "unique-ids",
                self.ids.count() >= self.fields.len(),
                format!("{} element ids, all distinct", self.ids.count()),
            ),
            check(
                "required-marked",
                true,
                if any_required {
                    format!(
                        "{} required controls carry `required` and a visible asterisk explained at the top",
                        required.len()
                    )
                } else {
                    "no required fields".into()
                },
            ),
            check(
                "descriptions-linked",
                described == with_description,
                format!("{described} of {with_description} descriptions are linked with aria-describedby"),
            ),
            check(
                "groups-have-legends",
                self.legends == self.fieldsets,
                format!("{} nested objects grouped in <fieldset> with <legend>", self.fieldsets),
            ),
            check(
                "native-controls",
                true,
                format!("{typed} controls use a specific native type (number, email, select, checkbox, …)"),
            ),
            check(
                "input-purpose",
                true,
                format!("{autocompleted} personal-data fields carry an autocomplete token (WCAG 1.3.5)"),
            ),
            check(
                "form-name",
                titled,
                if titled {
                    "the form is named by its heading (aria-labelledby)".into()
                } else {
                    "no `title` given: the form has no accessible name".into()
                },
            ),
            check(
                "submit-button",
                true,
                "a <button type=\"submit\"> with visible text".into(),
            ),
        ]
    }
}

fn display(path: &[String]) -> String {
    if path.is_empty() {
        "schema".into()
    } else {
        path.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> FormOptions {
        FormOptions {
            title: Some("Sign up".into()),
            action: "/signup".into(),
            method: "post".into(),
            submit_label: "Create account".into(),
            id_prefix: "signup".into(),
            order: vec![],
        }
    }

    fn schema() -> Value {
        json!({
            "type": "object",
            "x-order": ["name", "email", "age", "plan", "address", "newsletter", "tags"],
            "required": ["name", "email", "plan"],
            "properties": {
                "name": { "type": "string", "title": "Full name", "maxLength": 80 },
                "email": { "type": "string", "format": "email", "description": "We never share it." },
                "age": { "type": "integer", "minimum": 18, "maximum": 130 },
                "plan": { "enum": ["free", "pro"], "enumNames": ["Free", "Pro"] },
                "address": { "$ref": "#/$defs/address" },
                "newsletter": { "type": "boolean", "default": true },
                "tags": { "type": "array", "items": { "type": "string" } }
            },
            "$defs": { "address": { "type": "object", "title": "Postal address", "required": ["city"],
                "properties": { "city": { "type": "string" }, "zip": { "type": "string", "pattern": "^[0-9]{5}$" } } } }
        })
    }

    #[test]
    fn builds_labelled_controls_in_order() {
        let form = form_from_schema(&schema(), &options()).unwrap();
        let h = &form.html;
        assert!(h.contains("<form id=\"signup\" action=\"/signup\" method=\"post\" aria-labelledby=\"signup-title\">"));
        assert!(h.contains(
            "<label for=\"signup-name\">Full name <span class=\"required\" aria-hidden=\"true\">*</span></label>"
        ));
        assert!(h.contains(
            "<input type=\"text\" id=\"signup-name\" name=\"name\" maxlength=\"80\" autocomplete=\"name\" required>"
        ));
        assert!(h.contains("<input type=\"email\" id=\"signup-email\" name=\"email\" autocomplete=\"email\" required aria-describedby=\"signup-email-desc\">"));
        assert!(h.contains("<p id=\"signup-email-desc\" class=\"hint\">We never share it.</p>"));
        assert!(h.contains(
            "type=\"number\" id=\"signup-age\" name=\"age\" step=\"1\" min=\"18\" max=\"130\" inputmode=\"numeric\">"
        ));
        assert!(h.contains("<select id=\"signup-plan\" name=\"plan\" required>"));
        assert!(h.contains("<option value=\"pro\">Pro</option>"));
        assert!(h.contains("<legend>Postal address</legend>"));
        assert!(h.contains("name=\"address.zip\" pattern=\"[0-9]{5}\" autocomplete=\"postal-code\">"));
        assert!(
            h.contains("<input type=\"checkbox\" id=\"signup-newsletter\" name=\"newsletter\" value=\"true\" checked>")
        );
        assert!(h.contains("aria-describedby=\"signup-tags-format\""));
        assert!(h.contains("<button type=\"submit\">Create account</button>"));
        let pos = |s: &str| h.find(s).unwrap();
        assert!(pos("signup-name\"") < pos("signup-email\"") && pos("signup-email\"") < pos("signup-age\""));
        let names: Vec<&str> = form.fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "name",
                "email",
                "age",
                "plan",
                "address.city",
                "address.zip",
                "newsletter",
                "tags"
            ]
        );
        assert!(form.checks.iter().all(|c| c["passed"] == true), "{:?}", form.checks);
    }

    #[test]
    fn escapes_and_reports_missing_title() {
        let schema = json!({ "type": "object", "properties": { "q": { "type": "string", "title": "<b>Query</b>" } } });
        let form = form_from_schema(
            &schema,
            &FormOptions {
                title: None,
                ..options()
            },
        )
        .unwrap();
        assert!(form.html.contains("&lt;b&gt;Query&lt;/b&gt;"));
        assert!(!form.html.contains("Required fields"));
        let name = form.checks.iter().find(|c| c["id"] == "form-name").unwrap();
        assert_eq!(name["passed"], false);
    }

    #[test]
    fn rejects_bad_schemas() {
        let err = |s: Value| form_from_schema(&s, &options()).err().unwrap();
        assert!(err(json!("x")).contains("JSON object"));
        assert!(err(json!({ "type": "string" })).contains("must be an object"));
        assert!(err(json!({ "type": "object", "properties": {} })).contains("no properties"));
        assert!(
            err(json!({ "type": "object", "properties": { "a": { "type": "blob" } } }))
                .contains("`a`: unsupported type `blob`")
        );
        assert!(
            err(json!({ "type": "object", "properties": { "a": { "$ref": "#/$defs/nope" } } }))
                .contains("does not resolve")
        );
        assert!(
            err(json!({ "type": "object", "properties": { "a": { "enum": [] } } })).contains("`a`: `enum` is empty")
        );
        let cyclic = json!({ "type": "object", "properties": { "n": { "$ref": "#/$defs/node" } },
            "$defs": { "node": { "type": "object", "properties": { "next": { "$ref": "#/$defs/node" } } } } });
        assert!(err(cyclic).contains("nested too deeply"));
        let bad_method = form_from_schema(
            &schema(),
            &FormOptions {
                method: "put".into(),
                ..options()
            },
        );
        assert!(bad_method.err().unwrap().contains("`method`"));
    }

    #[test]
    fn one_of_consts_and_multi_select() {
        let schema = json!({ "type": "object", "properties": {
            "size": { "type": "string", "oneOf": [{ "const": "s", "title": "Small" }, { "const": "l", "title": "Large" }], "default": "l" },
            "days": { "type": "array", "items": { "enum": ["mon", "tue"] }, "default": ["tue"] }
        } });
        let form = form_from_schema(&schema, &options()).unwrap();
        assert!(form.html.contains("<option value=\"l\" selected>Large</option>"));
        assert!(!form.html.contains("Choose…"));
        assert!(form.html.contains("<select id=\"signup-days\" name=\"days\" multiple>"));
        assert!(form.html.contains("<option value=\"tue\" selected>tue</option>"));
    }
}
