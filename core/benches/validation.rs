//! Request validation benchmark (`make bench-validation`, first table): the cost of
//! checking typical petstore requests against the compiled document, next to baselines
//! measured in the same run — matching the operation alone and parsing the JSON body
//! alone — plus the compiled size of the petstore and Stripe documents. Prints Markdown;
//! each figure is the median of several timed runs.
// A benchmark reads the clock by definition; core's logic never does.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;
use tollgate_core::openapi::{load_document, SourceFormat};
use tollgate_core::validation::{compile_document, BodyInput, Lookup, RequestParts, Validator};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// Median over `runs` of the mean time per call of `f` over `iters` calls, in ns.
fn time_ns(runs: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..iters {
                    f();
                }
                start.elapsed().as_nanos() as f64 / iters as f64
            })
            .collect(),
    )
}

fn load(rel: &str, format: SourceFormat) -> serde_json::Value {
    let path = format!("{}/../../shared/testdata/{rel}", env!("CARGO_MANIFEST_DIR"));
    load_document(&std::fs::read(path).unwrap(), format)
        .unwrap()
        .value
}

fn main() {
    let doc = load("openapi/v3.0/petstore.yaml", SourceFormat::Yaml);
    let compiled = compile_document(&doc).unwrap();
    let petstore_bytes = serde_json::to_vec(&compiled).unwrap().len();
    let v = Validator::new(compiled);
    let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    let pet = br#"{"id": 10, "name": "Rex", "tag": "dog"}"#;

    let lookup_ns = time_ns(11, 200_000, || {
        black_box(v.lookup(black_box("GET"), black_box("/pets")));
    });
    let query_ns = time_ns(11, 200_000, || {
        let Lookup::Found { op, path_params } = v.lookup("GET", black_box("/pets")) else {
            panic!()
        };
        let parts = RequestParts {
            query: black_box("limit=20"),
            headers: &headers,
            body: BodyInput::Absent,
        };
        assert!(v.check_request(op, &path_params, parts).is_empty());
    });
    let parse_ns = time_ns(11, 200_000, || {
        black_box(serde_json::from_slice::<serde_json::Value>(black_box(pet)).unwrap());
    });
    let body_ns = time_ns(11, 200_000, || {
        let Lookup::Found { op, path_params } = v.lookup("POST", black_box("/pets")) else {
            panic!()
        };
        let parts = RequestParts {
            query: "",
            headers: &headers,
            body: BodyInput::Bytes(black_box(pet)),
        };
        assert!(v.check_request(op, &path_params, parts).is_empty());
    });

    let stripe_doc = load("stripe/spec3.json", SourceFormat::Json);
    let started = Instant::now();
    let stripe = compile_document(&stripe_doc).unwrap();
    let stripe_compile_ms = started.elapsed().as_secs_f64() * 1e3;
    let stripe_json = serde_json::to_vec(&stripe).unwrap();
    let stripe_source = serde_json::to_vec(&stripe_doc).unwrap().len();
    let started = Instant::now();
    let stripe_ops = stripe.operations.len();
    let stripe_schemas = stripe.schemas.len();
    black_box(Validator::new(stripe));
    let stripe_prepare_ms = started.elapsed().as_secs_f64() * 1e3;

    println!("| measure | value | vs baseline |");
    println!("|---|---:|---:|");
    println!("| baseline: operation look-up (`GET /pets`) | {lookup_ns:.0} ns | 1.00× |");
    println!("| `GET /pets?limit=20`: look-up + path/query/header checks | {query_ns:.0} ns | {:.2}× look-up |", query_ns / lookup_ns);
    println!(
        "| baseline: JSON parse of a Pet body ({} bytes) | {parse_ns:.0} ns | 1.00× |",
        pet.len()
    );
    println!("| `POST /pets` with a Pet: look-up + content type + parse + schema | {body_ns:.0} ns | {:.2}× parse |", body_ns / parse_ns);
    println!("| petstore compiled (JSON in the snapshot) | {petstore_bytes} B | |");
    println!("| Stripe: {stripe_ops} operations, {stripe_schemas} schemas, compiled | {} KiB | {:.2}× the {} KiB source |", stripe_json.len() / 1024, stripe_json.len() as f64 / stripe_source as f64, stripe_source / 1024);
    println!("| Stripe: compile at the origin / prepare at the edge | {stripe_compile_ms:.1} ms / {stripe_prepare_ms:.1} ms | |");
}
