//! Test harness: `spawn_app(db)` starts the real origin on 127.0.0.1:0 with a fresh
//! database (a temp SQLite file, or a new PostgreSQL database) and the tests talk to it
//! over HTTP. `both_databases!` runs each test once per database.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::Connection;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tollgate_core::edge_auth::{sign_edge_request, EDGE_SIGNATURE_HEADER};
use tollgate_origin::secrets::{AdminToken, EdgeSecret};
use tollgate_origin::vault::{MasterKey, MasterKeyring};
use tollgate_origin::{Application, Config};

/// The maintenance database tests create their own databases from.
const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running origin and what a client needs to talk to it.
#[derive(Clone)]
pub struct TestApp {
    pub base: String,
    /// The database this origin uses, for tests that look underneath the API.
    pub database_url: String,
    /// The master key sealing this origin's secrets.
    pub master_key: [u8; 32],
    pub client: reqwest::Client,
    pub admin_token: String,
    pub edge_secret: Vec<u8>,
}

/// What must be cleaned up after a test.
pub struct Running {
    stop: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
    _sqlite_dir: Option<tempfile::TempDir>,
    pg_database: Option<String>,
}

fn pg_admin_url() -> String {
    std::env::var("TOLLGATE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into())
}

pub fn pg_url_for(database: &str) -> String {
    let admin = pg_admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{database}")
}

pub async fn pg_execute(sql: &str) {
    let url = pg_admin_url();
    let mut conn = sqlx::postgres::PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {url} is required for these tests: {e}"));
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.ok();
}

fn rand_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    key
}

/// Starts the origin on a fresh database.
pub async fn spawn_app(db: Db) -> (TestApp, Running) {
    spawn_app_with(db, |_| {}).await
}

/// Starts the origin on a fresh database, with `configure` changing its config first.
pub async fn spawn_app_with(db: Db, configure: impl FnOnce(&mut Config)) -> (TestApp, Running) {
    let admin_token = format!("test-admin-{}", uuid::Uuid::new_v4().simple());
    let edge_secret = format!("test-edge-{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().expect("temp dir");
    let master_key = rand_key();
    let (database_url, sqlite_dir, pg_database) = match db {
        Db::Sqlite => {
            let url = format!("sqlite://{}/tollgate.db", dir.path().display());
            (url, Some(dir), None)
        }
        Db::Postgres => {
            let name = format!("tollgate_t_{}", uuid::Uuid::new_v4().simple());
            pg_execute(&format!("CREATE DATABASE {name}")).await;
            (pg_url_for(&name), Some(dir), Some(name))
        }
    };
    let mut config = Config {
        addr: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        data_dir: sqlite_dir
            .as_ref()
            .map(|d| d.path().to_owned())
            .unwrap_or_default(),
        admin_token: AdminToken::new(admin_token.clone()),
        edge_secret: EdgeSecret::new(edge_secret.clone()),
        master_keys: MasterKeyring::new(MasterKey::from_bytes(master_key), vec![]),
        payments: Default::default(),
    };
    configure(&mut config);
    let app = Application::build(config).await.expect("origin starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        stopped.await.ok();
    }));
    let test_app = TestApp {
        base,
        database_url,
        master_key,
        client: reqwest::Client::new(),
        admin_token,
        edge_secret: edge_secret.into_bytes(),
    };
    let running = Running {
        stop,
        server,
        _sqlite_dir: sqlite_dir,
        pg_database,
    };
    (test_app, running)
}

impl Running {
    /// Stops the server and drops its PostgreSQL database.
    pub async fn teardown(self) {
        self.stop.send(()).ok();
        if let Ok(result) = self.server.await {
            result.expect("server stops cleanly");
        }
        if let Some(name) = self.pg_database {
            pg_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
        }
    }
}

/// Runs one test body against a fresh origin, tearing it down even when the test fails.
pub async fn run<F, Fut>(db: Db, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (app, running) = spawn_app(db).await;
    finish(app, running, test).await;
}

/// [`run`] with a config change before the origin starts.
pub async fn run_with<F, Fut>(db: Db, configure: impl FnOnce(&mut Config), test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (app, running) = spawn_app_with(db, configure).await;
    finish(app, running, test).await;
}

async fn finish<F, Fut>(app: TestApp, running: Running, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(test(app)).await;
    running.teardown().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares `sqlite::name` and `postgres::name` tests for each listed test function.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                $crate::helpers::run($crate::helpers::Db::Sqlite, super::$name).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                $crate::helpers::run($crate::helpers::Db::Postgres, super::$name).await;
            })*
        }
    };
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An admin request with the right token.
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// A GET signed as the edge signs it.
    pub fn edge_get(&self, path_and_query: &str) -> RequestBuilder {
        let signature = sign_edge_request(&self.edge_secret, now_secs(), "GET", path_and_query);
        self.client
            .get(self.url(path_and_query))
            .header(EDGE_SIGNATURE_HEADER, signature)
    }

    /// POSTs JSON to the admin API and returns the status and body.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .admin(Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request");
        read(response).await
    }

    /// GETs from the admin API and returns the status and body.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        read(self.admin(Method::GET, path).send().await.expect("request")).await
    }

    pub async fn create_api(&self, base_path: &str) -> Value {
        let body = json!({"name": "Weather", "base_path": base_path, "upstream_url": "http://127.0.0.1:9090/v1"});
        let (status, api) = self.post("/admin/v1/apis", body).await;
        assert_eq!(status, StatusCode::CREATED, "{api}");
        api
    }

    pub async fn create_consumer(&self) -> Value {
        let body = json!({"name": "Acme", "email": "dev@acme.example"});
        let (status, consumer) = self.post("/admin/v1/consumers", body).await;
        assert_eq!(status, StatusCode::CREATED, "{consumer}");
        consumer
    }

    /// An API, a consumer and a key for them; returns the issued-key answer.
    pub async fn issue_key(&self) -> Value {
        let api = self.create_api("/weather").await;
        let consumer = self.create_consumer().await;
        let body = json!({"consumer_id": consumer["id"], "api_id": api["id"]});
        let (status, key) = self.post("/admin/v1/keys", body).await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        key
    }

    /// The current snapshot.
    pub async fn snapshot(&self) -> Value {
        let response = self
            .edge_get("/edge/v1/snapshot")
            .send()
            .await
            .expect("request");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The status and JSON body (`null` when there is none).
pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

/// Asserts an answer is problem+json with this status, returning the problem.
pub async fn expect_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let (_, body) = read(response).await;
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("https://tollgate.dev/problems/")));
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}
