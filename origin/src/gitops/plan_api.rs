//! Planning one API that the file lists: the API's own members, its upstream credential
//! and load-shedding rule, and each of its versions (new ones created and moved to their
//! status; existing ones only moved forward, never given another document).

use super::client::Client;
use super::compare::{changes, covers};
use super::current::CurrentApi;
use super::file::{sunset_ms, WantedApi, WantedVersion, STATUSES};
use super::plan::step;
use super::{Action, Call, ConfigError, Plan};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

fn upstream_calls(api: &WantedApi, base: &str) -> Vec<Call> {
    let mut calls = Vec::new();
    if let Some(u) = &api.upstream_auth {
        calls.push(Call::on_api(
            Method::PUT,
            base,
            "/upstream-auth",
            Some(json!({"header": u.header, "value": u.value})),
        ));
    }
    if let Some(s) = &api.shedding {
        calls.push(Call::on_api(
            Method::PUT,
            base,
            "/shedding",
            Some(s.clone()),
        ));
    }
    calls
}

pub fn plan_new_api(plan: &mut Plan, api: &WantedApi) {
    let base = api.body["base_path"].as_str().unwrap_or_default();
    let mut calls = vec![Call::new(
        Method::POST,
        "/admin/v1/apis",
        Some(api.body.clone()),
    )];
    calls.extend(upstream_calls(api, base));
    plan.push(step(
        Action::Create,
        format!("api {base}"),
        Some(api.line),
        vec![],
        calls,
    ));
    for v in &api.versions {
        plan_new_version(plan, base, v);
    }
}

fn plan_new_version(plan: &mut Plan, base: &str, v: &WantedVersion) {
    let body = json!({"version": v.version, "upstream_url": v.upstream_url, "spec": v.spec_text});
    let mut calls = vec![Call::on_api(Method::POST, base, "/versions", Some(body))];
    calls.extend(lifecycle_calls(base, v, 0));
    let what = format!("version {base} {} ({})", v.version, STATUSES[v.status]);
    plan.push(step(Action::Create, what, Some(v.line), vec![], calls));
}

fn lifecycle_calls(base: &str, v: &WantedVersion, from: usize) -> Vec<Call> {
    (from + 1..=v.status)
        .map(|to| {
            let (verb, body) = match to {
                1 => ("publish", None),
                2 => ("deprecate", Some(json!({"sunset": v.sunset, "migration_url": v.migration_url, "migration_note": v.migration_note}))),
                _ => ("retire", None),
            };
            Call::on_api(Method::POST, base, &format!("/versions/{}/{verb}", v.version), body)
        })
        .collect()
}

pub async fn plan_api(
    client: &Client,
    file: &Path,
    plan: &mut Plan,
    api: &WantedApi,
    c: &CurrentApi,
) -> Result<(), ConfigError> {
    let base = api.body["base_path"].as_str().unwrap_or_default();
    let mut lines = changes(&api.body, &c.api, &[]);
    let mut calls = Vec::new();
    if !lines.is_empty() {
        calls.push(Call::on_api(Method::PUT, base, "", Some(api.body.clone())));
    }
    match (&api.upstream_auth, &c.upstream_header) {
        (Some(u), _) => {
            let check = json!({"header": u.header, "value": u.value});
            let path = format!("/admin/v1/apis/{}/upstream-auth/check", c.id);
            let answer = client
                .call(Method::POST, &path, Some(&check))
                .await
                .map_err(|e| ConfigError::at(file, api.line, 1, e.to_string()))?;
            if answer["matches"] != true {
                lines.push(format!(
                    "upstream_auth: {} (value not shown) → {} (new value)",
                    c.upstream_header.as_deref().unwrap_or("(none)"),
                    u.header
                ));
                calls.push(Call::on_api(
                    Method::PUT,
                    base,
                    "/upstream-auth",
                    Some(check),
                ));
            }
        }
        (None, Some(header)) => {
            lines.push(format!("upstream_auth: {header} → (none)"));
            calls.push(Call::on_api(Method::DELETE, base, "/upstream-auth", None));
        }
        (None, None) => {}
    }
    match (&api.shedding, &c.shedding) {
        (Some(w), Some(s)) if covers(w, s) => {}
        (Some(w), s) => {
            lines.push(format!(
                "shedding: {} → {w}",
                s.as_ref().map_or("(none)".into(), Value::to_string)
            ));
            calls.push(Call::on_api(
                Method::PUT,
                base,
                "/shedding",
                Some(w.clone()),
            ));
        }
        (None, Some(s)) => {
            lines.push(format!("shedding: {s} → (none)"));
            calls.push(Call::on_api(Method::DELETE, base, "/shedding", None));
        }
        (None, None) => {}
    }
    plan.changed_or_not(step(
        Action::Update,
        format!("api {base}"),
        Some(api.line),
        lines,
        calls,
    ));
    for v in &api.versions {
        match c
            .versions
            .iter()
            .find(|s| s["version"] == v.version.as_str())
        {
            None => plan_new_version(plan, base, v),
            Some(s) => plan_version(client, file, plan, base, c, v, s).await?,
        }
    }
    for s in &c.versions {
        if !api
            .versions
            .iter()
            .any(|v| s["version"] == v.version.as_str())
        {
            plan.notes.push(format!("version {base} {} is not in the file; versions are never deleted (retire it instead)", s["version"].as_str().unwrap_or_default()));
        }
    }
    Ok(())
}

async fn plan_version(
    client: &Client,
    file: &Path,
    plan: &mut Plan,
    base: &str,
    c: &CurrentApi,
    v: &WantedVersion,
    s: &Value,
) -> Result<(), ConfigError> {
    let fail = |message: String| ConfigError::at(file, v.line, 1, message);
    let spec = client
        .get(&format!(
            "/admin/v1/apis/{}/versions/{}/spec",
            c.id, v.version
        ))
        .await
        .map_err(|e| fail(e.to_string()))?;
    if spec != v.spec {
        return Err(fail(format!("version {base} {} exists with a different spec; versions are immutable, so add a new version (e.g. a higher patch or minor) for this document", v.version)));
    }
    if s["upstream_url"].as_str() != v.upstream_url.as_deref() {
        return Err(fail(format!("version {base} {}: upstream_url cannot change once a version exists; add a new version", v.version)));
    }
    let from = STATUSES.iter().position(|x| s["status"] == *x).unwrap_or(0);
    let what = format!("version {base} {}", v.version);
    if v.status < from {
        return Err(fail(format!(
            "{what} is {} and cannot go back to {}; the lifecycle only moves forward",
            STATUSES[from], STATUSES[v.status]
        )));
    }
    if from >= 2 {
        let mut drift = Vec::new();
        if v.sunset.as_deref().and_then(sunset_ms) != s["sunset_at"].as_str().and_then(sunset_ms) {
            drift.push("sunset");
        }
        if v.migration_url.is_some()
            && s["migration_url"].as_str()
                != v.migration_url.as_deref().map(|u| u.trim_end_matches('/'))
        {
            drift.push("migration_url");
        }
        if v.migration_note.is_some()
            && s["migration_note"].as_str() != v.migration_note.as_deref().map(str::trim)
        {
            drift.push("migration_note");
        }
        if !drift.is_empty() {
            return Err(fail(format!(
                "{what} is already {}; its {} cannot change",
                STATUSES[from],
                drift.join(", ")
            )));
        }
    }
    let details = if v.status > from {
        vec![format!(
            "status: {} → {}",
            STATUSES[from], STATUSES[v.status]
        )]
    } else {
        vec![]
    };
    plan.changed_or_not(step(
        Action::Update,
        what,
        Some(v.line),
        details,
        lifecycle_calls(base, v, from),
    ));
    Ok(())
}
