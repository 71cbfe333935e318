//! Catalog benchmark (`make bench-catalog`): route matching at 10,000 routes, the config
//! snapshot for 1,000 APIs / 10,000 versions (size, encode, decode + index), and the
//! changelog diff of the Stripe OpenAPI document against a modified copy. Prints a
//! Markdown table; each figure is the median of several timed runs.
// A benchmark reads the clock by definition; core's logic never does.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use serde_json::json;
use std::hint::black_box;
use std::time::Instant;
use tollgate_core::changelog::diff_documents;
use tollgate_core::{
    ApiId, ApiKey, ApiRoute, AuthPolicy, ConfigSnapshot, RouteTable, VersionRoute, VersionStatus,
};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// Median over `runs` of the mean time per call of `f` over `iters` calls, in ns.
fn time_ns(runs: usize, iters: usize, mut f: impl FnMut(usize)) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                for i in 0..iters {
                    f(i);
                }
                start.elapsed().as_nanos() as f64 / iters as f64
            })
            .collect(),
    )
}

fn api(i: usize) -> ApiRoute {
    ApiRoute {
        id: ApiId(format!("api_{i:032x}")),
        name: format!("api-{i}"),
        base_path: format!("/team-{}/api-{i}", i % 50),
        upstream_url: format!("https://upstream-{i}.example.com/base"),
        auth: AuthPolicy::Key,
        upstream_headers: Vec::new(),
        policies: None,
    }
}

fn version(api: usize, major: usize) -> VersionRoute {
    let status = [
        VersionStatus::Published,
        VersionStatus::Deprecated,
        VersionStatus::Retired,
        VersionStatus::Draft,
    ][major % 4];
    VersionRoute {
        api_id: ApiId(format!("api_{api:032x}")),
        version: format!("{major}.{}.0", major % 3),
        status,
        upstream_url: major
            .is_multiple_of(2)
            .then(|| format!("https://v{major}.upstream-{api}.example.com")),
        deprecated_at: (status == VersionStatus::Deprecated).then_some(1_790_000_000),
        sunset_at: (status == VersionStatus::Deprecated).then_some(1_800_000_000),
        migration_url: (status != VersionStatus::Published)
            .then(|| format!("https://docs.example.com/api-{api}/v{}", major + 1)),
    }
}

fn route_rows() -> Vec<(String, String)> {
    let flat = RouteTable::new((0..10_000).map(api));
    let flat_paths: Vec<String> = (0..10_000)
        .map(|i| format!("/team-{}/api-{i}/items/42?x=1", i % 50))
        .collect();
    let flat_ns = time_ns(9, 200_000, |i| {
        black_box(flat.match_path(black_box(&flat_paths[i % flat_paths.len()])));
    });
    let versioned = RouteTable::with_versions(
        (0..1_000).map(api),
        (0..1_000).flat_map(|a| (1..=10).map(move |m| version(a, m))),
    );
    let versioned_paths: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                "/team-{}/api-{}/v{}/items/42",
                (i / 10) % 50,
                i / 10,
                i % 10 + 1
            )
        })
        .collect();
    let versioned_ns = time_ns(9, 200_000, |i| {
        black_box(versioned.match_path(black_box(&versioned_paths[i % versioned_paths.len()])));
    });
    let miss_ns = time_ns(9, 200_000, |i| {
        black_box(flat.match_path(black_box(if i % 2 == 0 {
            "/nowhere/at/all/x"
        } else {
            "/team-1/none"
        })));
    });
    vec![
        (
            "route match, 10,000 unversioned APIs".into(),
            format!("{flat_ns:.0} ns"),
        ),
        (
            "route match, 1,000 APIs × 10 versions (10,000 routes)".into(),
            format!("{versioned_ns:.0} ns"),
        ),
        (
            "route miss (404), 10,000 routes".into(),
            format!("{miss_ns:.0} ns"),
        ),
    ]
}

fn snapshot_rows() -> Vec<(String, String)> {
    let revoked: Vec<_> = (0..1_000u64)
        .map(|i| {
            let mut state = i;
            ApiKey::generate(move || {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .hash()
        })
        .collect();
    let snapshot = ConfigSnapshot {
        version: 42,
        apis: (0..1_000).map(api).collect(),
        revoked,
        versions: (0..1_000)
            .flat_map(|a| (1..=10).map(move |m| version(a, m)))
            .collect(),
        plans: Vec::new(),
        limits: Vec::new(),
        shedding: Vec::new(),
        entitlements: Vec::new(),
        subscriptions: Vec::new(),
        revoked_oauth_clients: Vec::new(),
        validation: Vec::new(),
        cache: Vec::new(),
        cache_purges: Vec::new(),
    };
    let mut bytes = Vec::new();
    let encode_ms = time_ns(5, 1, |_| {
        bytes = serde_json::to_vec(black_box(&snapshot)).unwrap()
    }) / 1e6;
    let index_ms = time_ns(5, 1, |_| {
        let parsed: ConfigSnapshot = serde_json::from_slice(black_box(&bytes)).unwrap();
        black_box(RouteTable::with_versions(parsed.apis, parsed.versions));
    }) / 1e6;
    let without_revoked = ConfigSnapshot {
        revoked: Vec::new(),
        ..snapshot.clone()
    };
    let bare = serde_json::to_vec(&without_revoked).unwrap().len();
    vec![
        (
            "snapshot size, 1,000 APIs + 10,000 versions".into(),
            format!("{:.0} KiB", bare as f64 / 1024.0),
        ),
        (
            "… plus 1,000 revoked-key hashes (the 24 h feed)".into(),
            format!("{:.0} KiB", bytes.len() as f64 / 1024.0),
        ),
        (
            "snapshot encode (origin, JSON)".into(),
            format!("{encode_ms:.1} ms"),
        ),
        (
            "snapshot decode + route index (edge)".into(),
            format!("{index_ms:.1} ms"),
        ),
    ]
}

fn stripe_rows() -> Vec<(String, String)> {
    let path = format!(
        "{}/../../shared/testdata/stripe/spec3.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(&path).unwrap();
    let parse_ms = time_ns(5, 1, |_| {
        black_box(serde_json::from_slice::<serde_json::Value>(&text).unwrap());
    }) / 1e6;
    let old: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let mut new = old.clone();
    new["paths"]
        .as_object_mut()
        .unwrap()
        .remove("/v1/charges/{charge}/capture");
    new["components"]["schemas"]["customer"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("email");
    new["components"]["schemas"]["charge"]["properties"]["amount"]["type"] = json!("string");
    new["paths"]["/v1/customers"]["get"]["parameters"][0]["required"] = json!(true);
    let mut changes = 0;
    let diff_ms = time_ns(7, 1, |_| {
        changes = black_box(diff_documents(&old, &new)).changes.len()
    }) / 1e6;
    let same_ms = time_ns(7, 1, |_| {
        black_box(diff_documents(&old, &old));
    }) / 1e6;
    vec![
        (
            format!(
                "Stripe spec ({:.1} MiB) parse",
                text.len() as f64 / 1048576.0
            ),
            format!("{parse_ms:.1} ms"),
        ),
        (
            format!("Stripe changelog diff vs modified copy ({changes} changes)"),
            format!("{diff_ms:.1} ms"),
        ),
        (
            "Stripe changelog diff vs itself".into(),
            format!("{same_ms:.1} ms"),
        ),
    ]
}

fn main() {
    let mut rows = route_rows();
    rows.extend(snapshot_rows());
    rows.extend(stripe_rows());
    println!("| measure | value |\n|---|---:|");
    for (what, value) in rows {
        println!("| {what} | {value} |");
    }
}
