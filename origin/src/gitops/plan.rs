//! The plan: what to create, change and (with `--prune`) delete so the origin matches
//! the file, as admin API calls. Computed the same way for `diff` and `apply`, so what
//! `diff` shows is what `apply` does. Changes the lifecycle does not allow (a new spec
//! for an existing version, a status moving back) are errors at the file's line.

use super::client::Client;
use super::compare::changes;
use super::current::Current;
use super::file::Wanted;
use super::plan_api::{plan_api, plan_new_api};
use super::{Action, Call, ConfigError, Plan, Step};
use reqwest::Method;
use serde_json::Value;
use std::path::Path;

/// A step of the plan.
pub fn step(
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
