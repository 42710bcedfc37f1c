//! Components that export plain WIT functions, served as MCP tools: each
//! function's JSON Schema comes from its WIT types, JSON arguments become
//! component values (with errors naming the field that does not fit) and
//! results become JSON.

use serde_json::{Map, Value, json};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, ComponentExportIndex, Type, Val};

use crate::tools::types::{CallResult, ContentBlock, Tool};

/// One exported function offered as a tool.
pub(crate) struct ExportedFunc {
    pub(crate) tool: Tool,
    pub(crate) index: ComponentExportIndex,
    params: Vec<(String, Type)>,
    results: Vec<Type>,
}

/// The functions of `component` that can be tools (those whose types all
/// have a JSON form) and why the others cannot.
pub(crate) fn exported_funcs(engine: &Engine, component: &Component) -> (Vec<ExportedFunc>, Vec<String>) {
    let mut funcs = Vec::new();
    let mut skipped = Vec::new();
    let ty = component.component_type();
    for (name, export) in ty.exports(engine) {
        match export.ty {
            ComponentItem::ComponentFunc(func) => {
                let index = component.get_export_index(None, name);
                add(&mut funcs, &mut skipped, name.to_string(), index, &func);
            }
            ComponentItem::ComponentInstance(instance) => {
                let Some(parent) = component.get_export_index(None, name) else {
                    continue;
                };
                let short = interface_name(name);
                for (func_name, item) in instance.exports(engine) {
                    if let ComponentItem::ComponentFunc(func) = item.ty {
                        let index = component.get_export_index(Some(&parent), func_name);
                        add(&mut funcs, &mut skipped, format!("{short}_{func_name}"), index, &func);
                    }
                }
            }
            _ => {}
        }
    }
    (funcs, skipped)
}

/// `example:shapes/geometry@0.1.0` → `geometry`.
fn interface_name(export: &str) -> &str {
    let name = export.rsplit('/').next().unwrap_or(export);
    name.split('@').next().unwrap_or(name)
}

fn add(
    funcs: &mut Vec<ExportedFunc>,
    skipped: &mut Vec<String>,
    name: String,
    index: Option<ComponentExportIndex>,
    func: &ComponentFunc,
) {
    let Some(index) = index else { return };
    let params: Vec<(String, Type)> = func.params().map(|(n, t)| (n.to_string(), t)).collect();
    let results: Vec<Type> = func.results().collect();
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (param, ty) in &params {
        match schema(ty) {
            Ok(s) => {
                properties.insert(param.clone(), s);
                if !matches!(ty, Type::Option(_)) {
                    required.push(Value::String(param.clone()));
                }
            }
            Err(why) => {
                skipped.push(format!("{name}: parameter `{param}` is {why}"));
                return;
            }
        }
    }
    let output = match results.first() {
        None => None,
        Some(ty) => match schema(ty) {
            Ok(s) => Some(json!({ "type": "object", "properties": { "result": s }, "required": ["result"] })),
            Err(why) => {
                skipped.push(format!("{name}: its result is {why}"));
                return;
            }
        },
    };
    let input = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    funcs.push(ExportedFunc {
        tool: Tool {
            description: Some(format!("The `{name}` function the component exports.")),
            name,
            title: None,
            input_schema: input.to_string(),
            output_schema: output.map(|o| o.to_string()),
            annotations: None,
        },
        index,
        params,
        results,
    });
}

/// The JSON Schema of a WIT type; an error for types with no JSON form.
fn schema(ty: &Type) -> Result<Value, String> {
    let int = |min: i128, max: i128| json!({ "type": "integer", "minimum": min, "maximum": max });
    Ok(match ty {
        Type::Bool => json!({ "type": "boolean" }),
        Type::S8 => int(i8::MIN.into(), i8::MAX.into()),
        Type::U8 => int(0, u8::MAX.into()),
        Type::S16 => int(i16::MIN.into(), i16::MAX.into()),
        Type::U16 => int(0, u16::MAX.into()),
        Type::S32 => int(i32::MIN.into(), i32::MAX.into()),
        Type::U32 => int(0, u32::MAX.into()),
        Type::S64 => int(i64::MIN.into(), i64::MAX.into()),
        Type::U64 => int(0, u64::MAX.into()),
        Type::Float32 | Type::Float64 => json!({ "type": "number" }),
        Type::Char => json!({ "type": "string", "minLength": 1, "maxLength": 1 }),
        Type::String => json!({ "type": "string" }),
        Type::List(list) => json!({ "type": "array", "items": schema(&list.ty())? }),
        Type::FixedLengthList(list) => json!({ "type": "array", "items": schema(&list.ty())? }),
        Type::Record(record) => {
            let mut properties = Map::new();
            let mut required = Vec::new();
            for field in record.fields() {
                properties.insert(field.name.to_string(), schema(&field.ty)?);
                required.push(field.name.to_string());
            }
            json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
        }
        Type::Tuple(tuple) => {
            let items = tuple.types().map(|t| schema(&t)).collect::<Result<Vec<_>, _>>()?;
            let n = items.len();
            json!({ "type": "array", "prefixItems": items, "minItems": n, "maxItems": n })
        }
        Type::Variant(variant) => {
            let mut cases = Vec::new();
            for case in variant.cases() {
                cases.push(match case.ty {
                    None => json!({ "const": case.name }),
                    Some(ty) => json!({
                        "type": "object",
                        "properties": { case.name: schema(&ty)? },
                        "required": [case.name],
                        "additionalProperties": false,
                    }),
                });
            }
            json!({ "oneOf": cases })
        }
        Type::Enum(e) => json!({ "type": "string", "enum": e.names().collect::<Vec<_>>() }),
        Type::Option(option) => json!({ "anyOf": [schema(&option.ty())?, { "type": "null" }] }),
        Type::Result(result) => {
            let side = |name: &str, ty: Option<Type>| -> Result<Value, String> {
                let payload = match ty {
                    Some(ty) => schema(&ty)?,
                    None => json!({ "type": "null" }),
                };
                Ok(json!({
                    "type": "object",
                    "properties": { name: payload },
                    "required": [name],
                    "additionalProperties": false,
                }))
            };
            json!({ "oneOf": [side("ok", result.ok())?, side("err", result.err())?] })
        }
        Type::Flags(flags) => json!({
            "type": "array",
            "items": { "type": "string", "enum": flags.names().collect::<Vec<_>>() },
            "uniqueItems": true,
        }),
        Type::Map(_) => return Err("a map (not supported yet)".into()),
        Type::Own(_) | Type::Borrow(_) => return Err("a resource handle".into()),
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => return Err("an async type".into()),
    })
}

impl ExportedFunc {
    /// The component values of the JSON `arguments`, or a message naming the
    /// argument that does not fit.
    pub(crate) fn arguments(&self, arguments: &Value) -> Result<Vec<Val>, String> {
        let empty = Map::new();
        let object = match arguments {
            Value::Object(object) => object,
            Value::Null => &empty,
            _ => return Err("arguments must be a JSON object".into()),
        };
        if let Some(unknown) = object.keys().find(|k| !self.params.iter().any(|(p, _)| p == *k)) {
            return Err(format!("unknown argument `{unknown}`"));
        }
        self.params
            .iter()
            .map(|(name, ty)| match object.get(name) {
                Some(value) => to_val(ty, value, name),
                None if matches!(ty, Type::Option(_)) => Ok(Val::Option(None)),
                None => Err(format!("missing argument `{name}`")),
            })
            .collect()
    }

    /// Placeholders for the results of a call.
    pub(crate) fn result_slots(&self) -> Vec<Val> {
        vec![Val::Bool(false); self.results.len()]
    }

    /// The tool result of the function's results: the value as JSON text and
    /// as `{"result": …}`; an `err` of a `result` is a tool error.
    pub(crate) fn call_result(&self, results: &[Val]) -> CallResult {
        let Some(value) = results.first() else {
            return CallResult {
                content: vec![ContentBlock::Text("done".into())],
                structured_content: None,
                is_error: false,
            };
        };
        let json = to_json(value);
        let is_error = matches!(value, Val::Result(Err(_)));
        CallResult {
            content: vec![ContentBlock::Text(json.to_string())],
            structured_content: Some(json!({ "result": json }).to_string()),
            is_error,
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Converts `value` to a component value of type `ty`; `path` names it in errors.
fn to_val(ty: &Type, value: &Value, path: &str) -> Result<Val, String> {
    let wrong = |expected: &str| format!("`{path}` must be {expected}, got {}", kind(value));
    let integer = |min: i128, max: i128| -> Result<i128, String> {
        let n = value
            .as_i64()
            .map(i128::from)
            .or_else(|| value.as_u64().map(i128::from))
            .ok_or_else(|| wrong(&format!("an integer between {min} and {max}")))?;
        if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(format!("`{path}` must be an integer between {min} and {max}, got {n}"))
        }
    };
    Ok(match ty {
        Type::Bool => Val::Bool(value.as_bool().ok_or_else(|| wrong("a boolean"))?),
        Type::S8 => Val::S8(integer(i8::MIN.into(), i8::MAX.into())? as i8),
        Type::U8 => Val::U8(integer(0, u8::MAX.into())? as u8),
        Type::S16 => Val::S16(integer(i16::MIN.into(), i16::MAX.into())? as i16),
        Type::U16 => Val::U16(integer(0, u16::MAX.into())? as u16),
        Type::S32 => Val::S32(integer(i32::MIN.into(), i32::MAX.into())? as i32),
        Type::U32 => Val::U32(integer(0, u32::MAX.into())? as u32),
        Type::S64 => Val::S64(integer(i64::MIN.into(), i64::MAX.into())? as i64),
        Type::U64 => Val::U64(integer(0, u64::MAX.into())? as u64),
        Type::Float32 => Val::Float32(value.as_f64().ok_or_else(|| wrong("a number"))? as f32),
        Type::Float64 => Val::Float64(value.as_f64().ok_or_else(|| wrong("a number"))?),
        Type::Char => {
            let s = value.as_str().ok_or_else(|| wrong("a one-character string"))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(wrong("a one-character string")),
            }
        }
        Type::String => Val::String(value.as_str().ok_or_else(|| wrong("a string"))?.to_string()),
        Type::List(list) => {
            let items = value.as_array().ok_or_else(|| wrong("an array"))?;
            let ty = list.ty();
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_val(&ty, item, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::FixedLengthList(list) => {
            let items = value.as_array().ok_or_else(|| wrong("an array"))?;
            let ty = list.ty();
            Val::FixedLengthList(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_val(&ty, item, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(record) => {
            let object = value.as_object().ok_or_else(|| wrong("an object"))?;
            let fields: Vec<_> = record.fields().collect();
            if let Some(unknown) = object.keys().find(|k| !fields.iter().any(|f| f.name == k.as_str())) {
                return Err(format!("`{path}` has no field `{unknown}`"));
            }
            let mut out = Vec::new();
            for field in fields {
                let at = format!("{path}.{}", field.name);
                let v = match object.get(field.name) {
                    Some(v) => to_val(&field.ty, v, &at)?,
                    None if matches!(field.ty, Type::Option(_)) => Val::Option(None),
                    None => return Err(format!("missing field `{at}`")),
                };
                out.push((field.name.to_string(), v));
            }
            Val::Record(out)
        }
        Type::Tuple(tuple) => {
            let items = value.as_array().ok_or_else(|| wrong("an array"))?;
            let types: Vec<Type> = tuple.types().collect();
            if items.len() != types.len() {
                return Err(format!("`{path}` must have {} items, got {}", types.len(), items.len()));
            }
            Val::Tuple(
                types
                    .iter()
                    .zip(items)
                    .enumerate()
                    .map(|(i, (t, v))| to_val(t, v, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Variant(variant) => {
            let cases: Vec<_> = variant.cases().collect();
            let names = cases.iter().map(|c| c.name).collect::<Vec<_>>().join(", ");
            let (name, payload) = match value {
                Value::String(name) => (name.as_str(), None),
                Value::Object(object) if object.len() == 1 => {
                    let (name, payload) = object.iter().next().expect("one entry");
                    (name.as_str(), Some(payload))
                }
                _ => return Err(wrong(&format!("one of {names} (a name, or {{\"case\": payload}})"))),
            };
            let case = cases
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| format!("`{path}` has no case `{name}` (cases: {names})"))?;
            let payload = match (&case.ty, payload) {
                (None, None) => None,
                (Some(ty), Some(p)) => Some(Box::new(to_val(ty, p, &format!("{path}.{name}"))?)),
                (Some(_), None) => return Err(format!("case `{name}` of `{path}` needs a payload")),
                (None, Some(_)) => return Err(format!("case `{name}` of `{path}` takes no payload")),
            };
            Val::Variant(name.to_string(), payload)
        }
        Type::Enum(e) => {
            let names: Vec<&str> = e.names().collect();
            match value.as_str() {
                Some(name) if names.contains(&name) => Val::Enum(name.to_string()),
                _ => return Err(wrong(&format!("one of {}", names.join(", ")))),
            }
        }
        Type::Option(option) => match value {
            Value::Null => Val::Option(None),
            v => Val::Option(Some(Box::new(to_val(&option.ty(), v, path)?))),
        },
        Type::Result(result) => {
            let object = value.as_object().filter(|o| o.len() == 1);
            let (side, payload) = object
                .and_then(|o| o.iter().next())
                .ok_or_else(|| wrong("{\"ok\": …} or {\"err\": …}"))?;
            let convert = |ty: Option<Type>| -> Result<Option<Box<Val>>, String> {
                match ty {
                    Some(ty) => Ok(Some(Box::new(to_val(&ty, payload, &format!("{path}.{side}"))?))),
                    None => Ok(None),
                }
            };
            match side.as_str() {
                "ok" => Val::Result(Ok(convert(result.ok())?)),
                "err" => Val::Result(Err(convert(result.err())?)),
                _ => return Err(wrong("{\"ok\": …} or {\"err\": …}")),
            }
        }
        Type::Flags(flags) => {
            let names: Vec<&str> = flags.names().collect();
            let items = value.as_array().ok_or_else(|| wrong("an array of flag names"))?;
            let mut set = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(flag) if names.contains(&flag) => set.push(flag.to_string()),
                    _ => return Err(format!("`{path}` flags must be among {}, got {item}", names.join(", "))),
                }
            }
            Val::Flags(set)
        }
        Type::Map(_) | Type::Own(_) | Type::Borrow(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(format!("`{path}` has a type with no JSON form"));
        }
    })
}

/// The JSON form of a component value (the inverse of [`to_val`]).
fn to_json(value: &Val) -> Value {
    match value {
        Val::Bool(b) => json!(b),
        Val::S8(n) => json!(n),
        Val::U8(n) => json!(n),
        Val::S16(n) => json!(n),
        Val::U16(n) => json!(n),
        Val::S32(n) => json!(n),
        Val::U32(n) => json!(n),
        Val::S64(n) => json!(n),
        Val::U64(n) => json!(n),
        Val::Float32(n) => json!(n),
        Val::Float64(n) => json!(n),
        Val::Char(c) => json!(c.to_string()),
        Val::String(s) => json!(s),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        Val::Record(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Val::Variant(name, None) | Val::Enum(name) => json!(name),
        Val::Variant(name, Some(payload)) => json!({ name: to_json(payload) }),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => to_json(v),
        Val::Result(Ok(v)) => json!({ "ok": v.as_deref().map_or(Value::Null, to_json) }),
        Val::Result(Err(v)) => json!({ "err": v.as_deref().map_or(Value::Null, to_json) }),
        Val::Flags(flags) => json!(flags),
        Val::Map(entries) => Value::Array(entries.iter().map(|(k, v)| json!([to_json(k), to_json(v)])).collect()),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => Value::Null,
    }
}
