//! Validation tests: real documents pass, and broken ones report every error at its pointer.

use super::*;
use crate::openapi::{load_document, SourceFormat};
use serde_json::json;

fn testdata(rel: &str) -> Vec<u8> {
    let path = format!("{}/../../shared/testdata/{rel}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The OpenAPI examples shipped in shared/testdata (3.0 and 3.1).
pub const EXAMPLES: [&str; 9] = [
    "openapi/v3.0/petstore.yaml",
    "openapi/v3.0/petstore-expanded.yaml",
    "openapi/v3.0/uspto.yaml",
    "openapi/v3.0/api-with-examples.yaml",
    "openapi/v3.0/link-example.yaml",
    "openapi/v3.0/callback-example.yaml",
    "openapi/v3.1/non-oauth-scopes.yaml",
    "openapi/v3.1/tictactoe.yaml",
    "openapi/v3.1/webhook-example.yaml",
];

#[test]
fn every_example_and_stripe_validate_cleanly() {
    for rel in EXAMPLES {
        let loaded = load_document(&testdata(rel), SourceFormat::Yaml);
        assert!(loaded.is_ok(), "{rel}: {:?}", loaded.err());
    }
    let stripe = load_document(&testdata("stripe/spec3.json"), SourceFormat::Json);
    assert!(
        stripe.is_ok(),
        "stripe: {:?}",
        stripe
            .err()
            .map(|e| e.into_iter().take(5).collect::<Vec<_>>())
    );
}

fn pointers(doc: serde_json::Value) -> Vec<String> {
    validate(&doc).into_iter().map(|i| i.pointer).collect()
}

#[test]
fn every_error_is_reported_at_its_pointer() {
    let doc = json!({
        "openapi": "3.0.3",
        "info": {"title": 5},
        "paths": {
            "pets": {},
            "/pets/{id}": {
                "get": {
                    "operationId": "getPet",
                    "parameters": [
                        {"name": "id", "in": "path"},
                        {"name": "q", "in": "body", "schema": {}},
                        {"name": "q", "in": "body", "schema": {}}
                    ],
                    "responses": {"200": {}, "abc": {"description": "x"}}
                },
                "put": {"operationId": "getPet", "responses": {}},
                "post": {"responses": {"201": {"$ref": "#/components/responses/Nope"}},
                         "security": [{"oauth": []}]},
                "delete": {"parameters": [{"name": "other", "in": "path", "required": true}]}
            }
        },
        "components": {
            "schemas": {"Bad Name": {}, "A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"},
                        "Ext": {"$ref": "other.yaml#/Pet"}},
            "securitySchemes": {"key": {"type": "apiKey", "in": "body"}}
        }
    });
    let got = pointers(doc);
    for expected in [
        "/info/title",
        "/info/version",
        "/paths/pets",
        "/paths/~1pets~1{id}/get/parameters/0/required",
        "/paths/~1pets~1{id}/get/parameters/1/in",
        "/paths/~1pets~1{id}/get/parameters/2",
        "/paths/~1pets~1{id}/get/responses/200/description",
        "/paths/~1pets~1{id}/get/responses/abc",
        "/paths/~1pets~1{id}/put/operationId",
        "/paths/~1pets~1{id}/put/responses",
        "/paths/~1pets~1{id}/put",
        "/paths/~1pets~1{id}/post/responses/201/$ref",
        "/paths/~1pets~1{id}/post/security/0/oauth",
        "/paths/~1pets~1{id}/delete",
        "/paths/~1pets~1{id}/delete/parameters/0",
        "/components/schemas/Bad Name",
        "/components/schemas/A/$ref",
        "/components/schemas/B/$ref",
        "/components/schemas/Ext/$ref",
        "/components/securitySchemes/key/name",
        "/components/securitySchemes/key/in",
    ] {
        assert!(
            got.iter().any(|p| p == expected),
            "{expected} missing from {got:#?}"
        );
    }
}

#[test]
fn the_openapi_member_names_the_supported_versions() {
    assert_eq!(
        pointers(json!({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}})),
        ["/openapi"]
    );
    assert_eq!(
        pointers(json!({"openapi": "3.2.0", "info": {"title": "t", "version": "1"}, "paths": {}})),
        ["/openapi"]
    );
    assert_eq!(
        pointers(json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}})),
        [""]
    );
    assert!(pointers(
        json!({"openapi": "3.1.1", "info": {"title": "t", "version": "1"}, "webhooks": {}})
    )
    .is_empty());
    assert_eq!(pointers(json!([])), [""]);
}

#[test]
fn issues_are_capped() {
    let paths: serde_json::Map<String, serde_json::Value> =
        (0..500).map(|i| (format!("p{i}"), json!({}))).collect();
    let issues = validate(
        &json!({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": paths}),
    );
    assert_eq!(issues.len(), MAX_ISSUES + 1);
    assert!(issues[MAX_ISSUES].message.contains("300 more"));
}
