//! The `tollgate` binary as an operator runs it: secrets generated on first start,
//! the listening line on stdout, a clean exit on SIGTERM.

use crate::helpers::read;
use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

fn tollgate(args: &[&str], data_dir: &std::path::Path) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("TOLLGATE_")) {
        command.env_remove(name);
    }
    command
        .args(args)
        .env("TOLLGATE_DATA_DIR", data_dir)
        .env("TOLLGATE_ORIGIN_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tollgate starts")
}

/// Reads stdout lines until one contains `marker`; returns the lines read.
fn lines_until(stdout: &mut BufReader<ChildStdout>, marker: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "stdout ended before `{marker}`: {lines:?}");
        let done = line.contains(marker);
        lines.push(line.trim_end().to_owned());
        if done {
            return lines;
        }
    }
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
}

#[tokio::test]
async fn serve_generates_secrets_once_prints_its_address_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("state");
    let mut child = tollgate(&[], &data_dir);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = lines_until(&mut stdout, "tollgate origin listening on http://");
    let address = lines.last().unwrap().rsplit(' ').next().unwrap().to_owned();
    let token = std::fs::read_to_string(data_dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("admin token") && l.ends_with(&token)),
        "{lines:?}"
    );
    assert!(data_dir.join("edge-secret").is_file());
    assert!(
        data_dir.join("tollgate.db").is_file(),
        "the default SQLite database is created"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data_dir.join("admin-token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let client = reqwest::Client::new();
    let (status, _) = read(
        client
            .get(format!("{address}/admin/v1/apis"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    terminate(&mut child);

    // A second start reuses the secrets and does not print the token again.
    let mut child = tollgate(&["serve"], &data_dir);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = lines_until(&mut stdout, "tollgate origin listening on http://");
    assert!(!lines.iter().any(|l| l.contains(&token)), "{lines:?}");
    assert_eq!(
        std::fs::read_to_string(data_dir.join("admin-token"))
            .unwrap()
            .trim(),
        token
    );
    terminate(&mut child);
}

#[tokio::test]
async fn demo_upstream_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tollgate(&["demo-upstream", "--addr", "127.0.0.1:0"], dir.path());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let lines = lines_until(&mut stdout, "listening on http://");
    let address = lines.last().unwrap().rsplit(' ').next().unwrap().to_owned();
    let response = reqwest::Client::new()
        .get(format!("{address}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-upstream"], "demo");
    let (status, echo) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(echo["path"], "/ready");
    terminate(&mut child);
}
