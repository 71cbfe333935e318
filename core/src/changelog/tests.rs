//! Changelog tests: every kind of change classified, real specs diffed against themselves
//! and against modified copies (Stripe included), `$ref` cycles and deep nesting.

use super::*;
use crate::openapi::{load_document, SourceFormat};
use proptest::prelude::*;
use serde_json::{json, Value};

fn testdata(rel: &str) -> Value {
    let path = format!("{}/../../shared/testdata/{rel}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let format = if rel.ends_with(".json") {
        SourceFormat::Json
    } else {
        SourceFormat::Yaml
    };
    load_document(&bytes, format).unwrap().value
}

fn codes(log: &Changelog) -> Vec<(String, bool)> {
    log.changes
        .iter()
        .map(|c| (c.code.clone(), c.breaking))
        .collect()
}

fn has(log: &Changelog, code: &str, breaking: bool) -> bool {
    log.changes
        .iter()
        .any(|c| c.code == code && c.breaking == breaking)
}

fn base() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1.0.0"},
        "security": [{"key": []}],
        "paths": {
            "/pets": {
                "get": {
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {
                        "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}}
                },
                "post": {
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}},
                    "responses": {"201": {"description": "made"}}
                }
            },
            "/pets/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {"responses": {"200": {"description": "one"}, "404": {"description": "none"}}},
                "delete": {"responses": {"204": {"description": "gone"}}}
            }
        },
        "components": {
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "Pet": {"type": "object", "required": ["id", "name"], "properties": {
                    "id": {"type": "integer", "format": "int64"},
                    "name": {"type": "string"},
                    "kind": {"type": "string", "enum": ["cat", "dog"]},
                    "parent": {"$ref": "#/components/schemas/Pet"}}},
                "NewPet": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "maxLength": 50},
                    "kind": {"type": "string", "enum": ["cat", "dog"]},
                    "tag": {"type": "string"}}}
            }
        }
    })
}

fn changed(edit: impl FnOnce(&mut Value)) -> Changelog {
    let old = base();
    let mut new = base();
    edit(&mut new);
    diff_documents(&old, &new)
}

#[test]
fn identical_documents_have_no_changes() {
    assert_eq!(diff_documents(&base(), &base()), Changelog::default());
    for rel in crate::openapi::validate::tests::EXAMPLES {
        let doc = testdata(rel);
        assert!(diff_documents(&doc, &doc).changes.is_empty(), "{rel}");
    }
}

#[test]
fn removals_and_new_requirements_are_breaking() {
    let log = changed(|d| {
        d["paths"]["/pets/{id}"]
            .as_object_mut()
            .unwrap()
            .remove("delete");
    });
    assert_eq!(codes(&log), [("operation-removed".into(), true)]);
    assert_eq!(
        log.changes[0].operation.as_deref(),
        Some("DELETE /pets/{id}")
    );
    let log = changed(|d| {
        d["paths"].as_object_mut().unwrap().remove("/pets/{id}");
    });
    assert_eq!(codes(&log), [("path-removed".into(), true)]);
    let log = changed(|d| {
        d["paths"]["/pets"]["get"]["parameters"][0]["required"] = json!(true);
    });
    assert_eq!(codes(&log), [("parameter-became-required".into(), true)]);
    let log = changed(|d| {
        d["paths"]["/pets"]["get"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sort", "in": "query", "required": true}));
        d["paths"]["/pets"]["get"]["parameters"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "q", "in": "query"}));
    });
    assert_eq!(
        codes(&log),
        [
            ("parameter-added".into(), false),
            ("parameter-added-required".into(), true)
        ]
    );
    let log = changed(|d| {
        d["paths"]["/pets"]["get"]["parameters"] = json!([]);
    });
    assert_eq!(codes(&log), [("parameter-removed".into(), true)]);
}

#[test]
fn renaming_a_path_variable_is_not_a_change() {
    let log = changed(|d| {
        let item = d["paths"]
            .as_object_mut()
            .unwrap()
            .remove("/pets/{id}")
            .unwrap();
        d["paths"]["/pets/{petId}"] = item;
        d["paths"]["/pets/{petId}"]["parameters"][0]["name"] = json!("petId");
    });
    assert!(log.changes.is_empty(), "{:?}", codes(&log));
}

#[test]
fn schema_changes_are_judged_by_direction() {
    let log = changed(|d| {
        d["components"]["schemas"]["Pet"]["properties"]["id"]["format"] = json!("int32");
    });
    assert_eq!(codes(&log), [("format-changed".into(), true)]);
    assert_eq!(
        log.changes[0].pointer,
        "/components/schemas/Pet/properties/id"
    );
    assert_eq!(
        log.changes[0].location,
        "response 200 application/json body[].id"
    );
    let log = changed(|d| {
        d["components"]["schemas"]["Pet"]["properties"]["id"]["type"] = json!("string");
    });
    assert!(has(&log, "type-changed", true));
    let log = changed(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["kind"]["enum"] = json!(["cat"]);
    });
    assert_eq!(codes(&log), [("enum-narrowed".into(), true)]);
    let log = changed(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["kind"]["enum"] =
            json!(["cat", "dog", "fox"]);
    });
    assert_eq!(codes(&log), [("enum-widened".into(), false)]);
    let log = changed(|d| {
        d["components"]["schemas"]["Pet"]["properties"]["kind"]["enum"] =
            json!(["cat", "dog", "fox"]);
    });
    assert_eq!(codes(&log), [("enum-widened".into(), true)]);
    let log = changed(|d| {
        d["components"]["schemas"]["Pet"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("name");
    });
    assert!(has(&log, "response-property-removed", true));
    let log = changed(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("tag");
    });
    assert_eq!(codes(&log), [("property-removed".into(), true)]);
    let log = changed(|d| {
        d["components"]["schemas"]["NewPet"]["required"] = json!(["name", "tag"]);
    });
    assert_eq!(codes(&log), [("property-became-required".into(), true)]);
    let log = changed(|d| {
        d["components"]["schemas"]["Pet"]["properties"]["age"] = json!({"type": "integer"});
    });
    assert_eq!(codes(&log), [("property-added".into(), false)]);
    let log = changed(|d| {
        d["components"]["schemas"]["NewPet"]["properties"]["name"]["maxLength"] = json!(20);
    });
    assert_eq!(codes(&log), [("constraint-tightened".into(), true)]);
    let log = changed(|d| {
        d["paths"]["/pets"]["get"]["parameters"][0]["schema"]["type"] = json!("number");
    });
    assert_eq!(
        codes(&log),
        [("type-changed".into(), false)],
        "integer → number widens a request"
    );
}

#[test]
fn responses_bodies_and_security() {
    let log = changed(|d| {
        d["paths"]["/pets/{id}"]["get"]["responses"]
            .as_object_mut()
            .unwrap()
            .remove("200");
    });
    assert_eq!(codes(&log), [("response-removed".into(), true)]);
    let log = changed(|d| {
        d["paths"]["/pets/{id}"]["get"]["responses"]
            .as_object_mut()
            .unwrap()
            .remove("404");
    });
    assert_eq!(codes(&log), [("response-removed".into(), false)]);
    let log = changed(|d| {
        d["paths"]["/pets"]["post"]["requestBody"]["content"] = json!({"application/xml": {}});
    });
    assert!(has(&log, "media-type-removed", true) && has(&log, "media-type-added", false));
    let log = changed(|d| {
        d["paths"]["/pets/{id}"]["delete"]["security"] = json!([{"key": []}, {}]);
    });
    assert_eq!(codes(&log), [("security-alternative-added".into(), false)]);
    let log = changed(|d| {
        d["security"] = json!([]);
        d["paths"]["/pets"]["post"]["security"] = json!([{"key": []}]);
    });
    assert!(log
        .changes
        .iter()
        .all(|c| c.code == "security-alternative-added" && !c.breaking));
    let log = changed(|d| {
        d["components"]["securitySchemes"]["key"]["name"] = json!("Authorization");
    });
    assert_eq!(codes(&log), [("security-scheme-changed".into(), true)]);
    let log = changed(|d| {
        d["components"]["securitySchemes"]["oauth"] = json!({"type": "oauth2", "flows": {}});
        d["security"] = json!([{"oauth": ["read"]}]);
    });
    assert_eq!(log.breaking, 4, "{:?}", codes(&log));
}

#[test]
fn ref_cycles_and_deep_nesting_end() {
    let mut old = base();
    old["components"]["schemas"]["A"] = json!({"$ref": "#/components/schemas/B"});
    old["components"]["schemas"]["B"] = json!({"$ref": "#/components/schemas/A"});
    old["components"]["schemas"]["Pet"]["properties"]["loop"] =
        json!({"$ref": "#/components/schemas/A"});
    let mut deep = json!({"type": "string"});
    for _ in 0..120 {
        deep = json!({"type": "object", "properties": {"x": deep}});
    }
    old["components"]["schemas"]["Pet"]["properties"]["deep"] = deep;
    let mut new = old.clone();
    new["components"]["schemas"]["Pet"]["properties"]["parent"]["description"] = json!("x");
    new["components"]["schemas"]["Pet"]["properties"]["name"]["type"] = json!("integer");
    let log = diff_documents(&old, &new);
    assert_eq!(codes(&log), [("type-changed".into(), true)]);
}

#[test]
fn real_documents_diffed_against_changed_copies() {
    let old = testdata("openapi/v3.0/petstore-expanded.yaml");
    let mut new = old.clone();
    new["paths"]["/pets/{id}"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    new["components"]["schemas"]["NewPet"]["required"] = json!(["name", "tag"]);
    let log = diff_documents(&old, &new);
    assert!(
        has(&log, "operation-removed", true) && has(&log, "property-became-required", true),
        "{:?}",
        codes(&log)
    );

    let stripe = testdata("stripe/spec3.json");
    assert!(diff_documents(&stripe, &stripe).changes.is_empty());
    let mut changed = stripe.clone();
    changed["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v1/charges/{charge}/capture");
    changed["components"]["schemas"]["customer"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("email");
    changed["components"]["schemas"]["charge"]["properties"]["amount"]["type"] = json!("string");
    let log = diff_documents(&stripe, &changed);
    assert!(has(&log, "path-removed", true));
    assert!(log
        .changes
        .iter()
        .any(|c| c.code == "response-property-removed"
            && c.pointer == "/components/schemas/customer/properties/email"));
    assert!(log
        .changes
        .iter()
        .any(|c| c.code == "type-changed"
            && c.pointer == "/components/schemas/charge/properties/amount"));
    let guide = migration_guide("Stripe", "1.0.0", "2.0.0", &log, true);
    assert!(
        guide.contains("## Breaking changes") && guide.contains("/v1/charges/{charge}/capture"),
        "{guide}"
    );
}

#[test]
fn the_guide_groups_breaking_changes_and_warns_about_the_number() {
    let log = changed(|d| {
        d["paths"]["/pets/{id}"]
            .as_object_mut()
            .unwrap()
            .remove("delete");
        d["paths"]["/toys"] = json!({});
    });
    let guide = migration_guide("Pets", "1.0.0", "1.1.0", &log, false);
    assert!(
        guide.starts_with("# Migrating Pets from 1.0.0 to 1.1.0"),
        "{guide}"
    );
    assert!(guide.contains("### `DELETE /pets/{id}`"), "{guide}");
    assert!(guide.contains("**Warning:**"), "{guide}");
    assert!(
        guide.contains("## Other changes") && guide.contains("`/toys` was added"),
        "{guide}"
    );
    assert_eq!(log.required_bump(), Bump::Major);
    let none = migration_guide("Pets", "1.0.0", "1.0.1", &Changelog::default(), false);
    assert!(none.contains("nothing to migrate"));
}

proptest! {
    #[test]
    fn removing_any_operation_is_exactly_one_breaking_change(pick in 0usize..4) {
        let ops = [("/pets", "get"), ("/pets", "post"), ("/pets/{id}", "get"), ("/pets/{id}", "delete")];
        let (path, method) = ops[pick];
        let old = base();
        let mut new = base();
        new["paths"][path].as_object_mut().unwrap().remove(method);
        let log = diff_documents(&old, &new);
        prop_assert_eq!(log.breaking, 1);
        prop_assert_eq!(log.non_breaking, 0);
        let back = diff_documents(&new, &old);
        prop_assert_eq!(codes(&back), vec![("operation-added".to_owned(), false)]);
    }

    #[test]
    fn any_document_diffed_with_itself_is_empty(doc in arbitrary_json(4)) {
        prop_assert!(diff_documents(&doc, &doc).changes.is_empty());
    }
}

/// Arbitrary JSON shaped loosely like OpenAPI (keys that the diff looks at).
fn arbitrary_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|i| json!(i)),
        "[a-z/{}#]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("paths".to_owned()),
                    Just("/p/{x}".to_owned()),
                    Just("get".to_owned()),
                    Just("parameters".to_owned()),
                    Just("schema".to_owned()),
                    Just("properties".to_owned()),
                    Just("$ref".to_owned()),
                    Just("responses".to_owned()),
                    Just("items".to_owned()),
                    "[a-z]{1,3}"
                ],
                inner,
                0..5,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
