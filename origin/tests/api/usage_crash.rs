//! Crash safety of usage ingestion with the real `tollgate` binary: batches are posted
//! concurrently, the process is killed with SIGKILL while they are being ingested, it is
//! restarted on the same database, every batch is redelivered, and the ledger holds
//! exactly one count per event (nothing lost, nothing doubled), on SQLite and PostgreSQL.

use crate::helpers::{now_secs, pg_execute, pg_url_for, read};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_core::usage::time::format_rfc3339_ms;

const BATCHES: usize = 24;
const PER_BATCH: usize = 1_000;
const ADMIN: &str = "crash-test-admin-token";
const EDGE: &str = "crash-test-edge-secret";

/// Starts `tollgate serve`; returns the child and its base URL.
fn start(data_dir: &std::path::Path, database_url: Option<&str>) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TOLLGATE_")) {
        command.env_remove(name);
    }
    if let Some(url) = database_url {
        command.env("TOLLGATE_DATABASE_URL", url);
    }
    let mut child = command
        .arg("serve")
        .env("TOLLGATE_DATA_DIR", data_dir)
        .env("TOLLGATE_ORIGIN_ADDR", "127.0.0.1:0")
        .env("TOLLGATE_ADMIN_TOKEN", ADMIN)
        .env("TOLLGATE_EDGE_SECRET", EDGE)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tollgate starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut address = None;
    let mut line = String::new();
    while address.is_none() && stdout.read_line(&mut line).unwrap_or(0) > 0 {
        address = line
            .trim_end()
            .split("listening on ")
            .nth(1)
            .map(str::to_owned);
        line.clear();
    }
    let Some(address) = address else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("tollgate printed no listening line");
    };
    // Keep reading, so a later line never meets a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, address)
}

fn batch(consumer: &str, b: usize, now: i64) -> String {
    let events: Vec<Value> = (0..PER_BATCH)
        .map(|i| {
            json!({
                "specversion": "1.0", "id": format!("crash-{b}-{i}"), "source": "tollgate-edge/test",
                "type": "dev.tollgate.request", "time": format_rfc3339_ms(now),
                "data": {"api_id": "api_crash", "consumer_id": consumer,
                         "key_id": format!("key_{}", i % 7), "status": if i % 10 == 0 { 500 } else { 200 }}
            })
        })
        .collect();
    Value::Array(events).to_string()
}

async fn post(client: &reqwest::Client, base: &str, body: String) -> reqwest::Result<Value> {
    let sig = sign_edge_request(EDGE.as_bytes(), now_secs(), "POST", "/edge/v1/usage");
    client
        .post(format!("{base}/edge/v1/usage"))
        .header(EDGE_SIGNATURE_HEADER, sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

async fn kill_during_ingestion_then_redeliver(database_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start(dir.path(), database_url);
    let client = reqwest::Client::new();
    let (status, consumer) = read(
        client
            .post(format!("{base}/admin/v1/consumers"))
            .bearer_auth(ADMIN)
            .json(&json!({"name": "Crash", "email": "crash@example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{consumer}");
    let con = consumer["id"].as_str().unwrap().to_owned();
    let now = tollgate_origin::clock::now_ms();
    let bodies: Vec<String> = (0..BATCHES).map(|b| batch(&con, b, now)).collect();

    // All batches at once; SIGKILL as soon as the first one is answered.
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    for body in bodies.clone() {
        let (client, base, done) = (client.clone(), base.clone(), done_tx.clone());
        tokio::spawn(async move {
            let _ = done.send(post(&client, &base, body).await.is_ok());
        });
    }
    drop(done_tx);
    assert!(done_rx.recv().await.unwrap(), "the first batch is answered");
    let killed = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap();
    let mut answered = 1;
    while let Some(ok) = done_rx.recv().await {
        answered += usize::from(ok);
    }
    assert!(
        answered < BATCHES,
        "the kill came after every batch was answered; nothing was interrupted"
    );

    let (mut child, base) = start(dir.path(), database_url);
    let mut accepted = 0;
    let mut duplicates = 0;
    for body in bodies {
        let result = post(&client, &base, body).await.unwrap();
        accepted += result["accepted"].as_u64().unwrap();
        duplicates += result["duplicates"].as_u64().unwrap();
    }
    let total = (BATCHES * PER_BATCH) as u64;
    assert_eq!(accepted + duplicates, total);
    assert!(
        duplicates >= (PER_BATCH as u64),
        "the answered batch was kept"
    );
    let (status, usage) = read(
        client
            .get(format!("{base}/admin/v1/usage?consumer_id={con}"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(usage["billable_requests"], total * 9 / 10, "{usage}");
    let day = now - now.rem_euclid(86_400_000);
    let (_, report) = read(
        client
            .get(format!(
                "{base}/admin/v1/usage/reconciliation?consumer_id={con}&from={}&to={}",
                format_rfc3339_ms(day),
                format_rfc3339_ms(day + 86_400_000)
            ))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let rows = report["days"].as_array().unwrap();
    let sum = |f: &str| rows.iter().map(|r| r[f].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum("events_received"), total, "{report}");
    assert_eq!(sum("billable_units"), total * 9 / 10);
    assert_eq!(sum("rolled_up_units"), total * 9 / 10);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_during_ingestion_loses_and_doubles_nothing() {
    kill_during_ingestion_then_redeliver(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_9_during_ingestion_loses_and_doubles_nothing() {
    let name = format!("tollgate_crash_{}", uuid::Uuid::new_v4().simple());
    pg_execute(&format!("CREATE DATABASE {name}")).await;
    kill_during_ingestion_then_redeliver(Some(&pg_url_for(&name))).await;
    pg_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
}
