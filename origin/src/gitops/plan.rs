//! The plan: what to create, change and (with `--prune`) delete so the origin matches
//! the file, as admin API calls. Computed the same way for `diff` and `apply`, so what
//! `diff` shows is what `apply` does. Changes the lifecycle does not allow (a new spec
//! for an existing version, a status moving back) are errors at the file's line.

use super::client::Client;
use super::compare::{changes, covers};
use super::current::{Current, CurrentApi};
use super::file::{sunset_ms, Wanted, WantedApi, WantedVersion, STATUSES};
use super::{Action, Call, ConfigError, Plan, Step};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

fn step(
    action: Action,
    what: String,
    line: Option<usize>,
    details: Vec<String>,
    calls: Vec<Call>,
) -> Step {
    Step {
        action,
        what,
        line,
        details,
        calls,
    }
}

/// Computes the plan for `wanted` against `current`.
pub async fn make_plan(
    client: &Client,
    file: &Path,
    wanted: &Wanted,
    current: &Current,
    prune: bool,
) -> Result<Plan, ConfigError> {
    let mut plan = Plan::default();
    for item in &wanted.plans {
        let stored = current
            .plans
            .iter()
            .find(|p| p["name"] == item.name.as_str());
        let what = format!("plan \"{}\"", item.name);
        match stored {
            None => plan.push(step(
                Action::Create,
                what,
                Some(item.line),
                vec![],
                vec![Call::new(
                    Method::POST,
                    "/admin/v1/plans",
                    Some(item.body.clone()),
                )],
            )),
            Some(s) => {
                let lines = changes(&item.body, s, &["rate_limit", "quota"]);
                let path = format!("/admin/v1/plans/{}", s["id"].as_str().unwrap_or_default());
                plan.changed_or_not(step(
                    Action::Update,
                    what,
                    Some(item.line),
                    lines,
                    vec![Call::new(Method::PUT, &path, Some(item.body.clone()))],
                ));
            }
        }
    }
    for api in &wanted.apis {
        let base = api.body["base_path"].as_str().unwrap_or_default();
        match current.apis.iter().find(|c| c.api["base_path"] == base) {
            None => plan_new_api(&mut plan, api),
            Some(c) => plan_api(client, file, &mut plan, api, c).await?,
        }
    }
    for limit in &wanted.limits {
        if let Some(base) = &limit.api {
            let known = wanted
                .apis
                .iter()
                .any(|a| a.body["base_path"] == base.as_str())
                || current
                    .apis
                    .iter()
                    .any(|a| a.api["base_path"] == base.as_str());
            if !known {
                let (line, column) = limit.api_at;
                return Err(ConfigError::at(
                    file,
                    line,
                    column,
                    format!("no API has the base_path `{base}`; add it under `apis`"),
                ));
            }
        }
        let what = format!("limit \"{}\"", limit.name);
        let mut create = Call::new(Method::POST, "/admin/v1/limits", Some(limit.body.clone()));
        create.api = limit.api.clone();
        let stored: Vec<&Value> = current
            .limits
            .iter()
            .filter(|l| l["name"] == limit.name.as_str())
            .collect();
        let Some(s) = stored.first() else {
            plan.push(step(
                Action::Create,
                what,
                Some(limit.line),
                vec![],
                vec![create],
            ));
            continue;
        };
        let mut lines = changes(&limit.body, s, &["rate_limit", "quota", "concurrency"]);
        let stored_api = s["api_id"].as_str().and_then(|id| current.base_path_of(id));
        if stored_api != limit.api.as_deref() {
            lines.push(format!(
                "api: {} → {}",
                stored_api.unwrap_or("(every API)"),
                limit.api.as_deref().unwrap_or("(every API)")
            ));
        }
        if limit.body.get("subject").is_none_or(Value::is_null) && s["subject"] != "key" {
            lines.push(format!("subject: {} → key", s["subject"]));
        }
        if stored.len() > 1 {
            lines.push(format!(
                "{} limits have this name; all are replaced by one",
                stored.len()
            ));
        }
        if !lines.is_empty() {
            lines.push(
                "limits cannot be edited: it is removed and created again, so its counters restart"
                    .into(),
            );
        }
        let mut calls: Vec<Call> = stored
            .iter()
            .map(|s| {
                Call::new(
                    Method::DELETE,
                    &format!("/admin/v1/limits/{}", s["id"].as_str().unwrap_or_default()),
                    None,
                )
            })
            .collect();
        calls.push(create);
        plan.changed_or_not(step(Action::Update, what, Some(limit.line), lines, calls));
    }
    plan_leftovers(&mut plan, wanted, current, prune)?;
    Ok(plan)
}

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

fn plan_new_api(plan: &mut Plan, api: &WantedApi) {
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

async fn plan_api(
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

fn plan_leftovers(
    plan: &mut Plan,
    wanted: &Wanted,
    current: &Current,
    prune: bool,
) -> Result<(), ConfigError> {
    let mut leftovers = Vec::new();
    for s in &current.limits {
        if !wanted.limits.iter().any(|l| s["name"] == l.name.as_str()) {
            let path = format!("/admin/v1/limits/{}", s["id"].as_str().unwrap_or_default());
            leftovers.push((
                format!("limit \"{}\"", s["name"].as_str().unwrap_or_default()),
                Call::new(Method::DELETE, &path, None),
                0,
            ));
        }
    }
    for c in &current.apis {
        let base = c.api["base_path"].as_str().unwrap_or_default();
        if !wanted.apis.iter().any(|a| a.body["base_path"] == base) {
            let path = format!("/admin/v1/apis/{}?cascade=true", c.id);
            leftovers.push((
                format!("api {base} (with its {} version(s))", c.versions.len()),
                Call::new(Method::DELETE, &path, None),
                c.keys,
            ));
        }
    }
    for s in &current.plans {
        if !wanted.plans.iter().any(|p| s["name"] == p.name.as_str()) {
            let path = format!("/admin/v1/plans/{}", s["id"].as_str().unwrap_or_default());
            leftovers.push((
                format!("plan \"{}\"", s["name"].as_str().unwrap_or_default()),
                Call::new(Method::DELETE, &path, None),
                0,
            ));
        }
    }
    for (what, call, keys) in leftovers {
        if !prune {
            plan.notes.push(format!(
                "{what} is not in the file; `--prune` would delete it"
            ));
        } else if keys > 0 {
            plan.notes.push(format!("{what} is not in the file but {keys} key(s) use it, so it is kept; revoke them, then `DELETE /admin/v1/apis/{{id}}?cascade=true` removes it"));
        } else {
            plan.push(step(Action::Delete, what, None, vec![], vec![call]));
        }
    }
    Ok(())
}
