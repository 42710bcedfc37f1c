//! `${…}` references in step inputs: `${input.a.b}`, `${steps.<id>.output.x.0}`,
//! `${item}` / `${item.x}` and `${index}` inside a loop. A string that is one
//! reference becomes the referenced JSON value; references inside longer text
//! are written into it (strings as they are, other values as JSON). `$${`
//! writes a literal `${`. A path that leads nowhere yields `null`.

use std::collections::HashMap;

use serde_json::Value;

/// What a reference names, with the path below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// The run's input.
    Input(Vec<String>),
    /// A step's output: the step id and the path below `output`.
    Step(String, Vec<String>),
    /// The loop's current element.
    Item(Vec<String>),
    /// The loop's current position (from 0).
    Index,
}

/// The values references are read from when a step starts.
#[derive(Debug, Default)]
pub struct Context<'a> {
    /// The run's input.
    pub input: Option<&'a Value>,
    /// Outputs of finished steps, by id.
    pub steps: HashMap<&'a str, &'a Value>,
    /// The loop's element and position.
    pub item: Option<(&'a Value, usize)>,
}

/// One piece of a template string.
enum Piece<'a> {
    Text(&'a str),
    Reference(Reference),
}

/// Splits `text` into literal text and references.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        if rest[..at].ends_with('$') {
            pieces.push(Piece::Text(&rest[..at - 1]));
            pieces.push(Piece::Text("${"));
            rest = &rest[at + 2..];
            continue;
        }
        pieces.push(Piece::Text(&rest[..at]));
        let body = &rest[at + 2..];
        let end = body
            .find('}')
            .ok_or_else(|| format!("`${{` without a closing `}}` in `{text}`"))?;
        pieces.push(Piece::Reference(parse(&body[..end])?));
        rest = &body[end + 1..];
    }
    pieces.push(Piece::Text(rest));
    Ok(pieces)
}

/// Parses the inside of `${…}`.
fn parse(inner: &str) -> Result<Reference, String> {
    let parts: Vec<&str> = inner.trim().split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`${{{inner}}}` has an empty path segment"));
    }
    let path = |from: usize| parts[from..].iter().map(|s| s.to_string()).collect();
    match parts.as_slice() {
        ["input", ..] => Ok(Reference::Input(path(1))),
        ["item", ..] => Ok(Reference::Item(path(1))),
        ["index"] => Ok(Reference::Index),
        ["steps", id, "output", ..] => Ok(Reference::Step(id.to_string(), path(3))),
        _ => Err(format!(
            "`${{{inner}}}` names nothing: use input.…, steps.<id>.output.…, item.… or index"
        )),
    }
}

/// Every reference in `text`.
pub fn references(text: &str) -> Result<Vec<Reference>, String> {
    Ok(pieces(text)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Reference(r) => Some(r),
            Piece::Text(_) => None,
        })
        .collect())
}

/// The reference `text` consists of, if it is exactly one.
pub fn whole(text: &str) -> Option<Reference> {
    match pieces(text).ok()?.as_slice() {
        [Piece::Text(""), Piece::Reference(r), Piece::Text("")] => Some(r.clone()),
        _ => None,
    }
}

impl Context<'_> {
    /// The value a reference names (`null` where its path leads nowhere).
    pub fn resolve(&self, reference: &Reference) -> Value {
        let (root, path) = match reference {
            Reference::Input(path) => (self.input, path),
            Reference::Step(id, path) => (self.steps.get(id.as_str()).copied(), path),
            Reference::Item(path) => (self.item.map(|(item, _)| item), path),
            Reference::Index => return self.item.map_or(Value::Null, |(_, index)| Value::from(index)),
        };
        let mut at = match root {
            Some(value) => value,
            None => return Value::Null,
        };
        for segment in path {
            let next = match at {
                Value::Object(fields) => fields.get(segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(value) => at = value,
                None => return Value::Null,
            }
        }
        at.clone()
    }

    /// `template` with its references filled in.
    pub fn render(&self, template: &Value) -> Result<Value, String> {
        Ok(match template {
            Value::String(text) => self.render_text(text)?,
            Value::Array(items) => Value::Array(items.iter().map(|v| self.render(v)).collect::<Result<_, _>>()?),
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.render(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            other => other.clone(),
        })
    }

    fn render_text(&self, text: &str) -> Result<Value, String> {
        if let Some(reference) = whole(text) {
            return Ok(self.resolve(&reference));
        }
        let mut out = String::new();
        for piece in pieces(text)? {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Reference(r) => match self.resolve(&r) {
                    Value::String(s) => out.push_str(&s),
                    Value::Null => {}
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(Value::String(out))
    }
}
