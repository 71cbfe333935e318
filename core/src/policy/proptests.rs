//! Property tests: rewrites never escape the upstream base or produce invalid paths,
//! header edits never emit invalid names or values, query edits keep one value per set name.

use super::headers::{is_header_value, is_managed_header};
use super::rewrite::check_path;
use super::*;
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9._~-]{1,8}",
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just("%2e%2E".to_owned()),
        Just("%2F".to_owned()),
        Just("\\..".to_owned()),
        "[ -~]{1,4}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 0..5).prop_map(|s| format!("/{}", s.join("/")))
}

proptest! {
    #[test]
    fn rewrites_never_escape_or_produce_invalid_paths(from in path(), to in path(), star in any::<bool>(), rest in path()) {
        let suffix = |p: &str| if star { format!("{}/*", p.trim_end_matches('/')) } else { p.to_owned() };
        let rule = PathRewrite { from: suffix(&from), to: suffix(&to) };
        if rule.validate("/path_rewrite").is_ok() {
            if let Ok(out) = rule.apply(&rest) {
                prop_assert!(out.starts_with('/'));
                prop_assert!(check_path(&out).is_ok());
                for seg in out[1..].split('/') {
                    let lower = seg.to_ascii_lowercase().replace("%2e", ".");
                    prop_assert!(lower != "." && lower != "..", "{out}");
                }
            }
        }
    }

    #[test]
    fn header_transforms_never_emit_invalid_names_or_values(
        name in "[ -~]{0,12}", value in "\\PC{0,12}", cr in any::<bool>(),
        existing in prop::collection::vec(("[a-z-]{1,8}", "[ -~]{0,8}"), 0..6),
    ) {
        let value = if cr { format!("{value}\r\n") } else { value };
        let edits = HeaderEdits {
            set: [(name.clone(), value.clone())].into(),
            add: [(name.clone(), value.clone())].into(),
            remove: vec![name.clone()],
            rename: [(name.clone(), format!("{name}-x"))].into(),
        };
        if edits.validate("/h").is_ok() {
            let mut h: Vec<(String, String)> = existing.clone();
            edits.apply(&mut h);
            for (n, v) in &h {
                prop_assert!(is_token(n), "{n:?}");
                prop_assert!(is_header_value(v), "{v:?}");
            }
            prop_assert!(!is_managed_header(&name.to_ascii_lowercase()));
        }
    }

    #[test]
    fn query_edits_keep_a_parseable_query(q in "[ -~]{0,40}", v in "\\PC{0,10}") {
        let edits = QueryEdits { set: [("a".to_owned(), v)].into(), remove: vec!["b".into()], rename: [("c".to_owned(), "d".to_owned())].into() };
        if let Some(out) = edits.apply(Some(&q)) {
            prop_assert!(out.split('&').filter(|p| p.starts_with("a=")).count() == 1);
        }
    }
}
