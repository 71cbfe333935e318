//! A Postman collection (format v2.1.0) from an OpenAPI document, for the portal's
//! download: one request per operation, grouped in folders by the operation's first tag,
//! against `{{baseUrl}}` (the version's URL at the edge) with bearer auth from
//! `{{apiKey}}`, path parameters as Postman `:variables` and required query parameters and
//! JSON bodies filled from the document's examples. Schema:
//! <https://schema.getpostman.com/json/collection/v2.1.0/collection.json>.

use crate::snippets::request::{json_body, parameter_example, parameters};
use crate::snippets::{operations, Operation};
use serde_json::{json, Map, Value};

/// The schema URL a v2.1.0 collection names.
pub const SCHEMA: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

fn item(doc: &Value, op: &Operation) -> Value {
    let mut path_vars = Vec::new();
    let mut query = Vec::new();
    for p in parameters(doc, op) {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let description = p.get("description").cloned().unwrap_or(Value::Null);
        let value = parameter_example(doc, &p);
        match p.get("in").and_then(Value::as_str) {
            Some("path") => {
                path_vars.push(json!({"key": name, "value": value, "description": description}))
            }
            Some("query") => {
                let required = p.get("required").and_then(Value::as_bool) == Some(true);
                query.push(json!({"key": name, "value": value, "description": description, "disabled": !required}));
            }
            _ => {}
        }
    }
    // `{petId}` becomes Postman's `:petId`.
    let segments: Vec<String> = op
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(var) => format!(":{var}"),
                None => s.to_owned(),
            },
        )
        .collect();
    let enabled: Vec<String> = query
        .iter()
        .filter(|q| q["disabled"] == false)
        .map(|q| {
            format!(
                "{}={}",
                q["key"].as_str().unwrap_or(""),
                q["value"].as_str().unwrap_or("")
            )
        })
        .collect();
    let mut raw = format!("{{{{baseUrl}}}}/{}", segments.join("/"));
    if !enabled.is_empty() {
        raw = format!("{raw}?{}", enabled.join("&"));
    }
    let mut request = Map::new();
    request.insert("method".into(), json!(op.method));
    request.insert(
        "url".into(),
        json!({"raw": raw, "host": ["{{baseUrl}}"], "path": segments, "query": query, "variable": path_vars}),
    );
    let mut headers = Vec::new();
    if let Some(body) = json_body(doc, &op.object) {
        headers.push(json!({"key": "Content-Type", "value": "application/json"}));
        request.insert(
            "body".into(),
            json!({"mode": "raw", "raw": body, "options": {"raw": {"language": "json"}}}),
        );
    }
    request.insert("header".into(), Value::Array(headers));
    if let Some(d) = op.object.get("description").and_then(Value::as_str) {
        request.insert("description".into(), json!(d));
    }
    let name = op
        .summary
        .clone()
        .or_else(|| op.operation_id.clone())
        .unwrap_or_else(|| format!("{} {}", op.method, op.path));
    json!({"name": name, "request": request})
}

/// The collection of `doc`'s operations, named `name`, calling `server_url`.
pub fn collection(doc: &Value, name: &str, server_url: &str) -> Value {
    let mut folders: Vec<(String, Vec<Value>)> = Vec::new();
    let mut loose = Vec::new();
    for op in operations(doc) {
        let entry = item(doc, &op);
        match op.object.pointer("/tags/0").and_then(Value::as_str) {
            Some(tag) => match folders.iter_mut().find(|(t, _)| t == tag) {
                Some((_, items)) => items.push(entry),
                None => folders.push((tag.to_owned(), vec![entry])),
            },
            None => loose.push(entry),
        }
    }
    let mut items: Vec<Value> = folders
        .into_iter()
        .map(|(tag, item)| json!({"name": tag, "item": item}))
        .collect();
    items.extend(loose);
    json!({
        "info": {
            "name": name,
            "description": doc.pointer("/info/description").cloned().unwrap_or(Value::Null),
            "schema": SCHEMA,
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{apiKey}}", "type": "string"}]},
        "variable": [
            {"key": "baseUrl", "value": server_url.trim_end_matches('/'), "type": "string"},
            {"key": "apiKey", "value": "", "type": "string"},
        ],
        "item": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_become_requests_in_tag_folders_with_variables() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "Pets", "version": "1.0.0"},
            "paths": {
                "/pets/{petId}": {"get": {"tags": ["pets"], "summary": "Info for a pet",
                    "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "string", "example": "42"}},
                                   {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "example": "a&b"}}]}},
                "/pets": {"post": {"tags": ["pets"], "operationId": "createPets",
                    "requestBody": {"content": {"application/json": {"example": {"name": "Rex"}}}}}},
                "/health": {"get": {}}
            }
        });
        let c = collection(&doc, "Pets 1.0.0", "https://edge.example/pets/v1/");
        assert_eq!(c["info"]["schema"], SCHEMA);
        assert_eq!(c["variable"][0]["value"], "https://edge.example/pets/v1");
        assert_eq!(c["auth"]["bearer"][0]["value"], "{{apiKey}}");
        let items = c["item"].as_array().unwrap();
        assert_eq!(items.len(), 2, "one folder and one loose request");
        assert_eq!(items[0]["name"], "pets");
        assert_eq!(items[1]["request"]["url"]["raw"], "{{baseUrl}}/health");
        let get = &items[0]["item"][1]["request"];
        assert_eq!(get["url"]["path"], json!(["pets", ":petId"]));
        assert_eq!(get["url"]["variable"][0]["value"], "42");
        assert_eq!(get["url"]["query"][0]["value"], "a&b");
        let post = &items[0]["item"][0];
        assert_eq!(post["name"], "createPets");
        assert_eq!(post["request"]["method"], "POST");
        let body: Value =
            serde_json::from_str(post["request"]["body"]["raw"].as_str().unwrap()).unwrap();
        assert_eq!(body, json!({"name": "Rex"}));
    }

    #[test]
    fn a_document_without_paths_is_an_empty_collection() {
        let c = collection(&json!({"openapi": "3.1.0"}), "<script>", "http://e");
        assert_eq!(c["item"], json!([]));
        assert_eq!(c["info"]["name"], "<script>");
    }
}
