use super::render::{json_quote, rust_quote, shell_quote};
use super::*;
use serde_json::{json, Value};

fn doc() -> Value {
    json!({
        "openapi": "3.0.3",
        "paths": {
            "/pets/{petId}": {
                "parameters": [{"name": "petId", "in": "path", "required": true, "schema": {"type": "string", "example": "a b/../c"}}],
                "get": {"operationId": "showPet", "summary": "One pet",
                        "parameters": [{"name": "fields", "in": "query", "required": true, "schema": {"type": "string", "enum": ["name", "tag"]}},
                                       {"name": "optional", "in": "query", "schema": {"type": "string"}}]},
                "delete": {"operationId": "deletePet"}
            },
            "/pets": {
                "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}}
            }
        },
        "components": {"schemas": {"Pet": {"type": "object", "properties": {
            "name": {"type": "string", "example": "Rex"}, "age": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "parent": {"$ref": "#/components/schemas/Pet"}}}}}
    })
}

#[test]
fn operations_are_listed_in_path_then_method_order() {
    let ops = operations(&doc());
    let listed: Vec<(&str, &str)> = ops
        .iter()
        .map(|o| (o.method.as_str(), o.path.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("POST", "/pets"),
            ("GET", "/pets/{petId}"),
            ("DELETE", "/pets/{petId}")
        ]
    );
    assert_eq!(ops[1].operation_id.as_deref(), Some("showPet"));
    assert!(operations(&json!({"paths": []})).is_empty());
    assert!(operations(&json!("not a document")).is_empty());
}

#[test]
fn the_example_request_fills_parameters_encoded_and_a_body_from_the_schema() {
    let d = doc();
    let ops = operations(&d);
    let get = example_request(&d, "https://edge.example/pets/v1/", &ops[1], "tg_key");
    assert_eq!(
        get.url,
        "https://edge.example/pets/v1/pets/a%20b%2F..%2Fc?fields=name"
    );
    assert_eq!(
        get.headers,
        vec![("Authorization".to_owned(), "Bearer tg_key".to_owned())]
    );
    assert_eq!(get.body, None);
    let post = example_request(&d, "https://edge.example/pets/v1", &ops[0], "tg_key");
    let body: Value = serde_json::from_str(post.body.as_deref().unwrap()).unwrap();
    assert_eq!(body["name"], "Rex");
    assert_eq!(body["age"], 0);
    assert_eq!(body["tags"], json!(["string"]));
    assert!(
        body["parent"]["parent"].is_object(),
        "recursive schemas stop at a depth"
    );
    assert!(post
        .headers
        .iter()
        .any(|(n, v)| n == "Content-Type" && v == "application/json"));
}

/// Undoes POSIX single quoting of one word (what `sh` does to it).
fn shell_unquote(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    out.push(q);
                }
            }
            '\\' => out.extend(chars.next()),
            other => panic!("unquoted {other:?} in {word}"),
        }
    }
    out
}

const HOSTILE: [&str; 6] = [
    "'; rm -rf / #",
    "\"); os.system('x'); (\"",
    "line\nbreak\r\t\u{0}\u{1b}[31m",
    "back\\slash \\u0041 $(id) `id` ${HOME}",
    "\u{2028}\u{2029}</script>",
    "emoji 🦀 and ü",
];

#[test]
fn hostile_values_stay_inside_their_string_in_every_language() {
    for s in HOSTILE {
        assert_eq!(shell_unquote(&shell_quote(s)), s);
        let js: String = serde_json::from_str(&json_quote(s)).unwrap();
        assert_eq!(js, s);
        let rust = rust_quote(s);
        assert!(rust.starts_with('"') && rust.ends_with('"'));
        let inner = &rust[1..rust.len() - 1];
        let mut escaped = false;
        for c in inner.chars() {
            assert!(escaped || c != '"', "unescaped quote in {rust}");
            assert!(!c.is_control(), "raw control character in {rust}");
            escaped = !escaped && c == '\\';
        }
        assert!(!json_quote(s).chars().any(|c| c.is_control()));
    }
}

#[test]
fn every_language_carries_the_key_quoted() {
    let d = doc();
    let ops = operations(&d);
    let key = "tg_it's\"a\\key\n";
    let r = example_request(&d, "https://edge.example/pets", &ops[0], key);
    let snippets = render_all(&r);
    assert_eq!(snippets.len(), 5);
    let auth = format!("Authorization: Bearer {key}");
    let curl = &snippets[0].code;
    let quoted = shell_quote(&auth);
    assert!(curl.contains(&quoted), "{curl}");
    assert!(curl.starts_with("curl -X POST 'https://edge.example/pets/pets'"));
    assert!(curl.contains("--data '{"));
    for s in &snippets[1..4] {
        assert!(
            s.code.contains(&json_quote(&format!("Bearer {key}"))),
            "{:?}",
            s.language
        );
    }
    assert!(snippets[4]
        .code
        .contains(&rust_quote(&format!("Bearer {key}"))));
    assert!(snippets[3].code.contains("strings.NewReader("));
    let get = render_all(&example_request(&d, "https://e", &ops[2], KEY_PLACEHOLDER));
    assert!(!get[3].code.contains("strings"), "no unused import in Go");
    assert!(get[2].code.contains("\"DELETE\""));
    assert!(get.iter().all(|s| s.code.contains(KEY_PLACEHOLDER)));
}
