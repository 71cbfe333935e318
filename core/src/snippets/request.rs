//! The operations of an OpenAPI document and one example request per operation: the URL
//! with path parameters filled from their examples (percent-encoded), required query
//! parameters, the key header and a JSON body from the request body's example or schema.

use crate::openapi::operations::METHODS;
use crate::openapi::pointer::follow;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

/// Everything but RFC 3986 unreserved characters is encoded in a path or query value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Deepest schema nesting an example body is built to (cycles through `$ref` end here).
const MAX_DEPTH: usize = 6;

/// One operation of a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Upper-case method, one of the OpenAPI path item methods.
    pub method: String,
    /// The path template, as a key of `paths`.
    pub path: String,
    pub operation_id: Option<String>,
    pub summary: Option<String>,
    /// The operation object itself (with `$ref`s unresolved).
    pub object: Value,
    /// The path item's shared parameters.
    pub shared_parameters: Vec<Value>,
}

/// An example request, ready to be written in any language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// JSON text of the body, if the operation takes one.
    pub body: Option<String>,
}

/// The document's operations in path order, methods in the specification's order.
pub fn operations(doc: &Value) -> Vec<Operation> {
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut ops = Vec::new();
    for (path, item) in paths {
        let Ok(item) = follow(doc, item) else {
            continue;
        };
        let shared = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method).filter(|o| o.is_object()) else {
                continue;
            };
            let text = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_owned);
            ops.push(Operation {
                method: method.to_ascii_uppercase(),
                path: path.clone(),
                operation_id: text("operationId"),
                summary: text("summary"),
                object: op.clone(),
                shared_parameters: shared.clone(),
            });
        }
    }
    ops
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An example value of a parameter: its example, its schema's example, default or first
/// enum value, else a placeholder from its type.
pub(crate) fn parameter_example(doc: &Value, p: &Value) -> String {
    let schema = p.get("schema").and_then(|s| follow(doc, s).ok());
    let found = [
        p.get("example"),
        schema.and_then(|s| s.get("example")),
        schema.and_then(|s| s.get("default")),
        schema.and_then(|s| s.get("enum")).and_then(|e| e.get(0)),
    ]
    .into_iter()
    .flatten()
    .find_map(scalar_text);
    found.unwrap_or_else(
        || match schema.and_then(|s| s.get("type")).and_then(Value::as_str) {
            Some("integer") | Some("number") => "1".into(),
            Some("boolean") => "true".into(),
            _ => p
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("value")
                .to_owned(),
        },
    )
}

/// An example instance of a JSON schema, following local `$ref`s up to `MAX_DEPTH`.
pub fn schema_example(doc: &Value, schema: &Value, depth: usize) -> Value {
    let Ok(schema) = follow(doc, schema) else {
        return Value::Null;
    };
    if let Some(v) = schema.get("example").or_else(|| schema.get("default")) {
        return v.clone();
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    if depth >= MAX_DEPTH {
        return Value::Null;
    }
    if let Some(first) = ["allOf", "oneOf", "anyOf"]
        .iter()
        .find_map(|k| schema.get(*k).and_then(|v| v.get(0)))
    {
        return schema_example(doc, first, depth + 1);
    }
    let kind = match schema.get("type") {
        Some(Value::Array(kinds)) => kinds.iter().find_map(Value::as_str).unwrap_or("object"),
        Some(Value::String(k)) => k.as_str(),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    out.insert(name.clone(), schema_example(doc, prop, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => match schema.get("items") {
            Some(items) => Value::Array(vec![schema_example(doc, items, depth + 1)]),
            None => Value::Array(Vec::new()),
        },
        "integer" | "number" => Value::from(0),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => Value::String("string".into()),
    }
}

pub(crate) fn json_body(doc: &Value, op: &Value) -> Option<String> {
    let body = follow(doc, op.get("requestBody")?).ok()?;
    let content = body.get("content")?.as_object()?;
    let (_, media) = content
        .iter()
        .find(|(kind, _)| kind.starts_with("application/json") || kind.ends_with("+json"))?;
    let example = match (media.get("example"), media.get("schema")) {
        (Some(example), _) => example.clone(),
        (None, Some(schema)) => schema_example(doc, schema, 0),
        (None, None) => Value::Object(Map::new()),
    };
    serde_json::to_string_pretty(&example).ok()
}

/// The parameters of an operation: the path item's, then the operation's (`$ref`s
/// resolved; an operation's parameter replaces a shared one of the same name and place).
pub(crate) fn parameters(doc: &Value, op: &Operation) -> Vec<Value> {
    let mut params: Vec<Value> = Vec::new();
    for p in op.shared_parameters.iter().chain(
        op.object
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    ) {
        let Ok(p) = follow(doc, p) else { continue };
        params.retain(|q| q.get("name") != p.get("name") || q.get("in") != p.get("in"));
        params.push(p.clone());
    }
    params
}

/// A path or query component, percent-encoded.
pub(crate) fn encode(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// The example request of `op` against `server_url` (the version's URL at the edge), sent
/// with `key` as a bearer token.
pub fn example_request(doc: &Value, server_url: &str, op: &Operation, key: &str) -> Request {
    let mut path = op.path.clone();
    let mut query = Vec::new();
    for p in &parameters(doc, op) {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        let value = parameter_example(doc, p);
        match p.get("in").and_then(Value::as_str) {
            Some("path") => path = path.replace(&format!("{{{name}}}"), &encode(&value)),
            Some("query") if p.get("required").and_then(Value::as_bool) == Some(true) => {
                query.push(format!("{}={}", encode(name), encode(&value)));
            }
            _ => {}
        }
    }
    let mut url = format!("{}{path}", server_url.trim_end_matches('/'));
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    let body = json_body(doc, &op.object);
    let mut headers = vec![("Authorization".to_owned(), format!("Bearer {key}"))];
    if body.is_some() {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    Request {
        method: op.method.clone(),
        url,
        headers,
        body,
    }
}
