//! `tollgate diff` and `tollgate apply`: read the file, read the origin, plan, then show
//! the plan (diff) or carry it out step by step (apply), stopping at the first refusal
//! with the origin's explanation and the file line of the item it concerned.

use super::client::{Client, Target};
use super::current::{fetch, Current};
use super::file::read_config;
use super::plan::make_plan;
use super::{print_plan, render_step, Call, ConfigError, Plan};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Exit code of `diff` when the origin differs from the file.
pub const EXIT_CHANGES: i32 = 2;

/// Reads the file and the origin and computes the plan.
pub async fn plan_for(
    target: Target,
    file: &Path,
    prune: bool,
) -> Result<(Client, Plan, Current), ConfigError> {
    let wanted = read_config(file)?;
    let client = Client::new(target);
    let current = fetch(&client)
        .await
        .map_err(|e| ConfigError::at(file, 0, 0, e.to_string()))?;
    let plan = make_plan(&client, file, &wanted, &current, prune).await?;
    Ok((client, plan, current))
}

/// `tollgate diff FILE`: prints the plan; the exit code is 0 without changes, 2 with.
pub async fn run_diff(target: Target, file: &Path, prune: bool) -> Result<i32, ConfigError> {
    let (_, plan, _) = plan_for(target, file, prune).await?;
    print_plan(&plan, file);
    Ok(if plan.steps.is_empty() {
        0
    } else {
        EXIT_CHANGES
    })
}

/// `tollgate apply FILE`: carries out the plan, printing each step as it is done.
pub async fn run_apply(target: Target, file: &Path, prune: bool) -> Result<i32, ConfigError> {
    let (client, plan, current) = plan_for(target, file, prune).await?;
    let mut ids: HashMap<String, String> = current
        .apis
        .iter()
        .filter_map(|a| Some((a.api["base_path"].as_str()?.to_owned(), a.id.clone())))
        .collect();
    for step in &plan.steps {
        for call in &step.calls {
            let answer = send(&client, call, &ids).await.map_err(|message| {
                ConfigError::at(
                    file,
                    step.line.unwrap_or(0),
                    0,
                    format!("{}: {message}", step.what),
                )
            })?;
            if call.path == "/admin/v1/apis" {
                if let (Some(base), Some(id)) =
                    (answer["base_path"].as_str(), answer["id"].as_str())
                {
                    ids.insert(base.to_owned(), id.to_owned());
                }
            }
        }
        println!("{}", render_step(step, file));
    }
    for note in &plan.notes {
        println!("! {note}");
    }
    let done = if plan.steps.is_empty() {
        plan.summary()
    } else {
        plan.summary().replacen("Plan:", "Applied:", 1)
    };
    println!("{done}");
    Ok(0)
}

async fn send(
    client: &Client,
    call: &Call,
    ids: &HashMap<String, String>,
) -> Result<Value, String> {
    let mut path = call.path.clone();
    let mut body = call.body.clone();
    if let Some(base) = &call.api {
        let id = ids
            .get(base)
            .ok_or_else(|| format!("no API has the base_path `{base}` (add it under `apis`)"))?;
        path = path.replace("{api}", id);
        if let Some(Value::Object(o)) = body.as_mut() {
            if path == "/admin/v1/limits" {
                o.insert("api_id".into(), Value::String(id.clone()));
            }
        }
    }
    client
        .call(call.method.clone(), &path, body.as_ref())
        .await
        .map_err(|e| e.to_string())
}
