//! Rebuilds the origin when a migration is added, since `sqlx::migrate!` embeds them, and
//! checks that the portal's third-party assets (uPlot, Swagger UI: npm packages pinned in
//! package-lock.json, embedded by `portal::assets`) are installed, with an error that says how.

use std::path::Path;

/// The npm files the portal embeds, relative to the repository root.
const VENDORED: [&str; 4] = [
    "node_modules/uplot/dist/uPlot.iife.min.js",
    "node_modules/uplot/dist/uPlot.min.css",
    "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
    "node_modules/swagger-ui-dist/swagger-ui.css",
];

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let missing: Vec<&str> = VENDORED
        .into_iter()
        .filter(|file| {
            println!("cargo:rerun-if-changed=../{file}");
            !root.join(file).is_file()
        })
        .collect();
    if !missing.is_empty() {
        panic!(
            "the developer portal embeds npm packages that are not installed: {}\n\
             run `npm ci` at the repository root (or `make tools`), then build again",
            missing.join(", ")
        );
    }
}
