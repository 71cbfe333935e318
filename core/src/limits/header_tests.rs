//! The RateLimit fields against the draft's own examples
//! (../shared/testdata/ratelimit-headers) and the Structured Fields library against the
//! httpwg conformance vectors (read in place from ../shared/testdata/structured-fields).

use super::check::Grant;
use super::headers::*;
use super::*;
use sfv::{FieldType, Item, List, Parser};

fn same_list(ours: &str, example: &str) {
    let a: List = Parser::new(ours).parse().unwrap();
    let b: List = Parser::new(example).parse().unwrap();
    assert_eq!(a, b, "{ours} vs {example}");
}

fn item<'a>(name: &'a str, q: u64, w: Option<u64>) -> PolicyItem<'a> {
    PolicyItem {
        name,
        quota: q,
        unit: None,
        window_secs: w,
        partition_key: None,
        burst: None,
    }
}

fn limit(name: &str, r: u64, t: Option<u64>, pk: Option<&'static [u8]>) -> String {
    ratelimit_field(&[ServiceLimit {
        name,
        remaining: Some(r),
        reset_secs: t,
        partition_key: pk,
    }])
    .unwrap()
}

#[test]
fn policy_fields_match_the_drafts_examples() {
    let one = ratelimit_policy_field(&[item("default", 100, Some(10))]).unwrap();
    assert_eq!(one, r#""default";q=100;w=10"#);
    let two = ratelimit_policy_field(&[
        item("permin", 50, Some(60)),
        item("perhr", 1000, Some(3600)),
    ])
    .unwrap();
    same_list(&two, r#""permin";q=50;w=60,"perhr";q=1000;w=3600"#);
    assert_eq!(two, r#""permin";q=50;w=60, "perhr";q=1000;w=3600"#);
    let windows = ratelimit_policy_field(&[
        item("hour", 1000, Some(3600)),
        item("day", 5000, Some(86400)),
    ])
    .unwrap();
    assert_eq!(windows, r#""hour";q=1000;w=3600, "day";q=5000;w=86400"#);
    let bytes = PolicyItem {
        unit: Some("content-bytes"),
        partition_key: Some(b"App-999"),
        ..item("peruser", 65535, Some(10))
    };
    assert_eq!(
        ratelimit_policy_field(&[bytes]).unwrap(),
        r#""peruser";q=65535;qu="content-bytes";w=10;pk=:QXBwLTk5OQ==:"#
    );
    assert_eq!(ratelimit_policy_field(&[]), None);
}

#[test]
fn ratelimit_fields_match_the_drafts_examples() {
    assert_eq!(
        limit("default", 50, Some(30), None),
        r#""default";r=50;t=30"#
    );
    assert_eq!(
        limit("default", 999, None, Some(b"trial121323")),
        r#""default";r=999;pk=:dHJpYWwxMjEzMjM=:"#
    );
    assert_eq!(
        limit("default", 300_000_000, Some(60), Some(b"App-999")),
        r#""default";r=300000000;t=60;pk=:QXBwLTk5OQ==:"#
    );
    assert_eq!(
        limit("dayLimit", 100, Some(36000), None),
        r#""dayLimit";r=100;t=36000"#
    );
    assert_eq!(limit("basic", 60, Some(58), None), r#""basic";r=60;t=58"#);
}

#[test]
fn policies_describe_themselves_and_hostile_names_are_dropped() {
    let p = LimitPolicy {
        id: "plan_1.rate".into(),
        name: "basic".into(),
        algorithm: Algorithm::Gcra {
            requests: 100,
            period_ms: 60_000,
            burst: 150,
        },
        subject: Subject::Key,
        mode: Mode::Strict,
        fail: FailMode::Open,
        hide_headers: false,
    };
    assert_eq!(
        ratelimit_policy_field(&[policy_item(&p)]).unwrap(),
        r#""basic";q=100;w=60;tollgate-burst=150"#
    );
    let g = Grant {
        granted: 1,
        remaining: 60,
        reset_ms: 57_001,
        ..Grant::default()
    };
    assert_eq!(
        ratelimit_field(&[service_limit(&p, &g)]).unwrap(),
        r#""basic";r=60;t=58"#
    );
    for hostile in ["bad\"quote\\", "caf\u{e9}", "new\nline"] {
        let out = ratelimit_policy_field(&[item(hostile, 1, None), item("ok", 2, None)]);
        match out {
            Some(text) => {
                let parsed: List = Parser::new(&text).parse().unwrap();
                assert!(!parsed.is_empty(), "{text}");
            }
            None => panic!("the valid item was dropped too"),
        }
    }
    assert_eq!(retry_after_secs(0), 1);
    assert_eq!(retry_after_secs(1_001), 2);
    assert_eq!(
        ratelimit_field(&[ServiceLimit {
            name: "huge",
            remaining: Some(u64::MAX),
            reset_secs: None,
            partition_key: None
        }])
        .unwrap(),
        r#""huge";r=999999999999999"#
    );
}

#[derive(serde::Deserialize)]
struct Vector {
    name: String,
    raw: Vec<String>,
    header_type: String,
    #[serde(default)]
    must_fail: bool,
    #[serde(default)]
    can_fail: bool,
    #[serde(default)]
    canonical: Option<Vec<String>>,
}

#[test]
fn the_structured_fields_library_passes_the_httpwg_vectors() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/testdata/structured-fields"
    );
    let mut checked = 0;
    for file in [
        "list.json",
        "param-list.json",
        "string.json",
        "token.json",
        "number.json",
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let vectors: Vec<Vector> = serde_json::from_str(&text).unwrap();
        for v in vectors {
            let raw = v.raw.join(", ");
            let serialized = match v.header_type.as_str() {
                "list" => Parser::new(&raw)
                    .parse::<List>()
                    .map(|l| l.serialize().unwrap_or_default()),
                _ => Parser::new(&raw).parse::<Item>().map(|i| i.serialize()),
            };
            match serialized {
                Err(_) if v.must_fail || v.can_fail => {}
                Err(e) => panic!("{file}: {}: {e}", v.name),
                Ok(s) => {
                    assert!(!v.must_fail, "{file}: {} should fail", v.name);
                    let want = v.canonical.as_ref().unwrap_or(&v.raw).join(", ");
                    assert_eq!(s, want, "{file}: {}", v.name);
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 88);
}
