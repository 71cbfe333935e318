use super::request::BodyInput;
use super::*;
use crate::openapi::{load_document, SourceFormat};
use proptest::prelude::*;
use serde_json::{json, Value};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata");

fn testdata(rel: &str) -> Option<Vec<u8>> {
    std::fs::read(format!("{TESTDATA}/{rel}")).ok()
}

fn load(rel: &str) -> Value {
    let bytes = testdata(rel).unwrap_or_else(|| panic!("missing test document {rel}"));
    let format = if rel.ends_with(".json") {
        SourceFormat::Json
    } else {
        SourceFormat::Yaml
    };
    load_document(&bytes, format)
        .unwrap_or_else(|e| panic!("{rel}: {e:?}"))
        .value
}

fn petstore() -> Validator {
    Validator::new(compile_document(&load("openapi/v3.0/petstore.yaml")).unwrap())
}

/// Checks one request; `None` for the body means no body.
fn check(
    v: &Validator,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Vec<Violation> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let Lookup::Found { op, path_params } = v.lookup(method, path) else {
        panic!("{method} {path} not found");
    };
    let body = body.map_or(BodyInput::Absent, |b| BodyInput::Bytes(b.as_bytes()));
    v.check_request(
        op,
        &path_params,
        RequestParts {
            query,
            headers: &headers,
            body,
        },
    )
}

fn pointers(violations: &[Violation]) -> Vec<&str> {
    violations.iter().map(|v| v.pointer.as_str()).collect()
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// Method, URL, headers, body, the pointers expected.
type Case<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    Option<&'a str>,
    &'a [&'a str],
);

#[test]
fn every_test_document_compiles() {
    let docs = [
        "openapi/v3.0/petstore.yaml",
        "openapi/v3.0/petstore-expanded.yaml",
        "openapi/v3.0/uspto.yaml",
        "openapi/v3.0/api-with-examples.yaml",
        "openapi/v3.0/link-example.yaml",
        "openapi/v3.0/callback-example.yaml",
        "openapi/v3.1/non-oauth-scopes.yaml",
        "openapi/v3.1/tictactoe.yaml",
        "openapi/v3.1/webhook-example.yaml",
        "stripe/spec3.json",
    ];
    for rel in docs {
        let compiled = compile_document(&load(rel)).unwrap_or_else(|e| panic!("{rel}: {e:?}"));
        let back: CompiledValidation =
            serde_json::from_str(&serde_json::to_string(&compiled).unwrap()).unwrap();
        assert_eq!(back, compiled, "{rel} round-trips");
        Validator::new(compiled);
    }
}

#[test]
fn petstore_requests_are_judged_by_the_table() {
    let v = petstore();
    let pet = r#"{"id": 1, "name": "Rex", "tag": "dog"}"#;
    let cases: &[Case] = &[
        ("GET", "/pets", &[], None, &[]),
        ("GET", "/pets?limit=20", &[], None, &[]),
        ("GET", "/pets/", &[], None, &[]),
        ("GET", "/pets?limit=abc", &[], None, &["/query/limit"]),
        ("GET", "/pets?limit=101", &[], None, &["/query/limit"]),
        ("GET", "/pets?limit=2.5", &[], None, &["/query/limit"]),
        ("GET", "/pets?limit=1&limit=2", &[], None, &["/query/limit"]),
        (
            "GET",
            "/pets?limit=99999999999",
            &[],
            None,
            &["/query/limit", "/query/limit"],
        ),
        ("GET", "/pets/42", &[], None, &[]),
        ("GET", "/pets/%E2%9C%93", &[], None, &[]),
        ("POST", "/pets", &[JSON], Some(pet), &[]),
        (
            "POST",
            "/pets",
            &[("content-type", "application/json; charset=utf-8")],
            Some(pet),
            &[],
        ),
        ("POST", "/pets", &[], None, &["/body"]),
        (
            "POST",
            "/pets",
            &[("content-type", "text/plain")],
            Some(pet),
            &["/header/content-type"],
        ),
        ("POST", "/pets", &[], Some(pet), &["/header/content-type"]),
        ("POST", "/pets", &[JSON], Some("{not json"), &["/body"]),
        (
            "POST",
            "/pets",
            &[JSON],
            Some(r#"{"id": "one"}"#),
            &["/body/name", "/body/id"],
        ),
        (
            "POST",
            "/pets",
            &[JSON],
            Some(r#"{"id": 1e400, "name": "x"}"#),
            &["/body"],
        ),
        (
            "POST",
            "/pets",
            &[JSON],
            Some(r#"{"id": 18446744073709551615, "name": "x"}"#),
            &["/body/id"],
        ),
        ("POST", "/pets", &[JSON], Some("[]"), &["/body"]),
    ];
    for (method, url, headers, body, expected) in cases {
        let got = check(&v, method, url, headers, *body);
        assert_eq!(
            pointers(&got),
            *expected,
            "{method} {url} {body:?}: {got:?}"
        );
    }
}

#[test]
fn unknown_paths_and_methods_are_told_apart() {
    let v = petstore();
    assert_eq!(v.lookup("GET", "/owners"), Lookup::UnknownPath);
    assert_eq!(v.lookup("GET", "/pets/1/toys"), Lookup::UnknownPath);
    assert_eq!(
        v.lookup("DELETE", "/pets"),
        Lookup::MethodNotAllowed {
            allowed: vec!["GET", "POST"]
        }
    );
    assert!(matches!(v.lookup("HEAD", "/pets/1"), Lookup::Found { .. }));
}

fn inline(doc: Value) -> Validator {
    Validator::new(compile_document(&doc).unwrap())
}

fn body_doc(schema: Value, version: &str) -> Validator {
    inline(json!({
        "openapi": version, "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"post": {
            "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "required": ["ok"]}}}}}
        }}}
    }))
}

#[test]
fn body_keywords_report_each_violation_with_its_pointer() {
    let v = body_doc(
        json!({
            "type": "object", "required": ["name", "tags"], "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
                "age": {"type": "integer", "minimum": 0, "exclusiveMaximum": 150, "multipleOf": 1},
                "when": {"type": "string", "format": "date-time"},
                "id": {"type": "string", "format": "uuid"},
                "kind": {"enum": ["cat", "dog"]},
                "note": {"type": "string", "nullable": true},
                "tags": {"type": "array", "minItems": 1, "uniqueItems": true,
                         "items": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}},
                "pick": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "either": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                "never": {"not": {"type": "string"}}
            }
        }),
        "3.0.3",
    );
    let ok = r#"{"name":"rex","tags":[{"name":"a"}],"note":null,"pick":1,"either":true,"never":1}"#;
    assert_eq!(check(&v, "POST", "/x", &[JSON], Some(ok)), vec![]);
    let bad = r#"{"name":"R","age":150,"when":"yesterday","id":"x","kind":"cow","tags":[{"name":1},{"name":1}],
                  "pick":1.5,"either":3,"never":"s","extra":true}"#;
    let got = check(&v, "POST", "/x", &[JSON], Some(bad));
    let mut ptrs = pointers(&got);
    ptrs.sort_unstable();
    assert_eq!(
        ptrs,
        vec![
            "/body/age",
            "/body/either",
            "/body/extra",
            "/body/id",
            "/body/kind",
            "/body/name",
            "/body/name",
            "/body/never",
            "/body/pick",
            "/body/tags",
            "/body/tags/0/name",
            "/body/tags/1/name",
            "/body/when"
        ],
        "{got:#?}"
    );
}

#[test]
fn openapi_31_type_arrays_const_and_numeric_exclusive_bounds() {
    let v = body_doc(
        json!({"type": "object", "properties": {
            "a": {"type": ["integer", "null"]},
            "b": {"const": "x"},
            "c": {"type": "number", "exclusiveMinimum": 0}
        }}),
        "3.1.0",
    );
    assert!(check(
        &v,
        "POST",
        "/x",
        &[JSON],
        Some(r#"{"a":null,"b":"x","c":0.5}"#)
    )
    .is_empty());
    let got = check(
        &v,
        "POST",
        "/x",
        &[JSON],
        Some(r#"{"a":"1","b":"y","c":0}"#),
    );
    assert_eq!(pointers(&got), vec!["/body/a", "/body/b", "/body/c"]);
}

#[test]
fn cycles_in_refs_compile_and_check() {
    let v = inline(json!({
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/tree": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}}},
            "responses": {"200": {"description": "ok"}}
        }}},
        "components": {"schemas": {
            "Node": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}, "n": {"type": "integer"}}},
            "Loop": {"allOf": [{"$ref": "#/components/schemas/Loop"}]}
        }}
    }));
    let deep = r#"{"kids":[{"kids":[{"n":"x"}]}]}"#;
    assert_eq!(
        pointers(&check(&v, "POST", "/tree", &[JSON], Some(deep))),
        vec!["/body/kids/0/kids/0/n"]
    );
    let bomb = format!("{}{}", "{\"kids\":[".repeat(200), "]}".repeat(200));
    let got = check(&v, "POST", "/tree", &[JSON], Some(&bomb));
    assert_eq!(pointers(&got), vec!["/body"]);
    assert!(got[0].reason.contains("deeper"));
}

#[test]
fn parameters_follow_style_and_explode() {
    let v = inline(json!({
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/items/{ids}": {
            "parameters": [{"name": "ids", "in": "path", "required": true, "schema": {"type": "array", "items": {"type": "integer"}}}],
            "get": {
                "parameters": [
                    {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}},
                    {"name": "csv", "in": "query", "explode": false, "schema": {"type": "array", "items": {"type": "integer"}, "maxItems": 2}},
                    {"name": "flag", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "X-Request-Id", "in": "header", "required": true, "schema": {"type": "string", "format": "uuid"}},
                    {"name": "filter", "in": "query", "content": {"application/json": {"schema": {"type": "object", "required": ["q"]}}}}
                ],
                "responses": {"200": {"description": "ok"}}
            }
        }}
    }));
    let id = ("x-request-id", "123e4567-e89b-12d3-a456-426614174000");
    let url = "/items/1,2?tag=a&tag=b&csv=1,2&flag=true&filter=%7B%22q%22%3A1%7D";
    assert_eq!(check(&v, "GET", url, &[id], None), vec![]);
    let got = check(
        &v,
        "GET",
        "/items/1,x?tag=c&csv=1,2,3&flag=yes&filter={}",
        &[("x-request-id", "nope")],
        None,
    );
    assert_eq!(
        pointers(&got),
        vec![
            "/path/ids/1",
            "/query/tag/0",
            "/query/csv",
            "/query/flag",
            "/header/x-request-id",
            "/query/filter/q"
        ]
    );
    assert_eq!(
        pointers(&check(&v, "GET", "/items/1", &[], None)),
        vec!["/header/x-request-id"]
    );
}

#[test]
fn bad_documents_are_refused_with_locations() {
    let doc = json!({
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "pattern": "(?=look)ahead"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "strange"}}}}}
        }}}
    });
    let issues = compile_document(&doc).unwrap_err();
    let at: Vec<&str> = issues.iter().map(|i| i.pointer.as_str()).collect();
    assert!(
        at.contains(&"/paths/~1x/get/parameters/0/schema/pattern"),
        "{issues:?}"
    );
    assert!(
        at.contains(&"/paths/~1x/get/responses/200/content/application~1json/schema/type"),
        "{issues:?}"
    );
}

#[test]
fn responses_are_checked_by_status_range_and_default() {
    let v = body_doc(json!({}), "3.0.3");
    let Lookup::Found { op, .. } = v.lookup("POST", "/x") else {
        panic!()
    };
    assert!(v.check_response(op, 200, br#"{"ok":1}"#).is_empty());
    assert_eq!(
        pointers(&v.check_response(op, 200, b"{}")),
        vec!["/response/ok"]
    );
    assert!(v.check_response(op, 404, b"{}").is_empty());
    let pet = petstore();
    let Lookup::Found { op, .. } = pet.lookup("GET", "/pets/1") else {
        panic!()
    };
    assert_eq!(
        pointers(&pet.check_response(op, 500, br#"{"code":"x"}"#)),
        vec!["/response/message", "/response/code"]
    );
}

#[test]
fn violations_are_capped() {
    let v = body_doc(
        json!({"type": "array", "items": {"type": "string"}}),
        "3.0.3",
    );
    let many = format!("[{}1]", "1,".repeat(500));
    assert_eq!(
        check(&v, "POST", "/x", &[JSON], Some(&many)).len(),
        MAX_VIOLATIONS
    );
}

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in "[\\[\\]{}\":,0-9a-z.e+-]{0,200}") {
        let v = petstore();
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        let Lookup::Found { op, path_params } = v.lookup("POST", "/pets") else { panic!() };
        for body in [bytes.as_slice(), text.as_bytes()] {
            let got = v.check_request(op, &path_params, RequestParts { query: "", headers: &headers, body: BodyInput::Bytes(body) });
            prop_assert!(got.len() <= MAX_VIOLATIONS);
        }
    }

    #[test]
    fn arbitrary_queries_and_paths_never_panic(query in "[a-z=&%0-9+,.]{0,80}", path in "/[a-z0-9%{}/.]{0,40}") {
        let v = petstore();
        if let Lookup::Found { op, path_params } = v.lookup("GET", &path) {
            let got = v.check_request(op, &path_params, RequestParts { query: &query, headers: &[], body: BodyInput::Absent });
            prop_assert!(got.len() <= MAX_VIOLATIONS);
        }
    }
}
