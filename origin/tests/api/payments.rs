//! Payments through Stripe. Against Prism serving Stripe's own OpenAPI document
//! (../shared/testdata/stripe/spec3.json, started once per test binary), a finalized
//! invoice is pushed and every request we send is accepted (Prism answers 422 to a request
//! that breaks the schema, so `synced` proves validity). Against a scriptable fake, a
//! provider failure leaves the invoice finalized with the reason and a retry resumes with
//! the same idempotency keys. Webhooks: signed events pay or annotate the invoice once;
//! hostile ones (bad or missing signature, stale timestamp, not JSON, replays) change nothing.

use crate::helpers::{self, expect_problem, Db, TestApp};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tollgate_core::payment_signature::signature_header;
use tollgate_origin::payments::config::{ProviderSecret, StripeConfig};
use tollgate_origin::payments::PaymentsConfig;

const SECRET_KEY: &str = "sk_test_tollgate";
const WEBHOOK_SECRET: &str = "whsec_tollgate_test";
/// How long Prism may take to parse the document and listen (~15 s seen on 2 busy cores).
const PRISM_START: Duration = Duration::from_secs(120);

fn stripe_config(api_base: &str) -> PaymentsConfig {
    PaymentsConfig {
        stripe: Some(StripeConfig {
            secret_key: ProviderSecret::new(SECRET_KEY),
            api_base: api_base.to_owned(),
            webhook_secret: Some(ProviderSecret::new(WEBHOOK_SECRET)),
        }),
    }
}

// ---- Prism, once per test binary ----

static PRISM: OnceLock<Result<String, String>> = OnceLock::new();

fn refers(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("$ref") || map.values().any(refers),
        Value::Array(items) => items.iter().any(refers),
        _ => false,
    }
}

/// A schema without the members that refer to other schemas.
fn without_refs(schema: &Value) -> Value {
    let mut schema = schema.clone();
    let Some(map) = schema.as_object_mut() else {
        return schema;
    };
    let mut dropped = Vec::new();
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        dropped = props
            .iter()
            .filter(|(_, v)| refers(v))
            .map(|(k, _)| k.clone())
            .collect();
        props.retain(|_, v| !refers(v));
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|r| !dropped.iter().any(|d| r == d));
    }
    for key in ["anyOf", "oneOf", "allOf", "items", "additionalProperties"] {
        if map.get(key).is_some_and(refers) {
            map.remove(key);
        }
    }
    schema
}

/// A response schema one level deep: the object it names, minus its links to others.
fn shallow(schema: &Value, schemas: &Value) -> Value {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return without_refs(&schemas[name]);
    }
    let mut out = schema.clone();
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = schema.get(key) {
            out[key] = Value::Array(options.iter().map(|o| shallow(o, schemas)).collect());
            return out;
        }
    }
    without_refs(schema)
}

/// Drops `required` from an object schema and the objects nested in its properties.
fn unrequire(schema: &mut Value) {
    if schema["type"] == "object" {
        if let Some(map) = schema.as_object_mut() {
            map.remove("required");
        }
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            props.values_mut().for_each(unrequire);
        }
    }
}

/// Works around a Prism bug in form bodies: a `deepObject` member of `type: object` that
/// the request does not send is deserialised as `{}` (its members undefined), so an
/// optional object with required members (`automatic_tax`, `transfer_data` on
/// `POST /v1/invoices`) fails as if it had been sent empty. Such objects lose `required`;
/// every other constraint stays. Returns how many members were relaxed.
fn relax_absent_form_objects(operation: &mut Value) -> usize {
    let form = &mut operation["requestBody"]["content"]["application/x-www-form-urlencoded"];
    let deep: Vec<String> = form["encoding"]
        .as_object()
        .map(|e| {
            e.iter()
                .filter(|(_, v)| v["style"] == "deepObject")
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut relaxed = 0;
    for name in deep {
        let member = &mut form["schema"]["properties"][name.as_str()];
        if member["type"] == "object" && member.get("required").is_some() {
            unrequire(member);
            relaxed += 1;
        }
    }
    relaxed
}

/// Stripe's document with every request exactly as Stripe specifies it, and response
/// schemas cut to one level. Prism expands shared `$ref`s into a tree before it listens
/// (its `decycle` forgets visited objects), which on Stripe's interlinked responses did
/// not finish in 15 minutes; requests refer to no shared schema, so validating them is
/// unaffected.
fn mock_document(spec: &Value) -> Value {
    let schemas = spec["components"]["schemas"].clone();
    let mut doc = spec.clone();
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for operation in item.values_mut() {
                if operation.get("requestBody").is_some() {
                    relax_absent_form_objects(operation);
                }
                let Some(Value::Object(responses)) = operation.get_mut("responses") else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(Value::Object(content)) = response.get_mut("content") else {
                        continue;
                    };
                    for media in content.values_mut() {
                        if let Some(schema) = media.get("schema") {
                            media["schema"] = shallow(schema, &schemas);
                        }
                    }
                }
            }
        }
    }
    doc["components"] = json!({"securitySchemes": spec["components"]["securitySchemes"]});
    doc
}

fn start_prism() -> Result<String, String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("no repository root")?
        .to_owned();
    let prism = root.join("node_modules/.bin/prism");
    if !prism.exists() {
        return Err(format!(
            "{} is missing: run `npm ci` in the repository root (`make test` does) to install \
             @stoplight/prism-cli, which serves Stripe's OpenAPI document for these tests",
            prism.display()
        ));
    }
    let source = root.join("../shared/testdata/stripe/spec3.json");
    let text = std::fs::read_to_string(&source).map_err(|e| {
        format!(
            "{}: {e}; the tests read Stripe's OpenAPI document from the `shared` directory beside the repository",
            source.display()
        )
    })?;
    let spec: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let spec_file = std::env::temp_dir().join(format!("tollgate-stripe-mock-{port}.json"));
    std::fs::write(&spec_file, mock_document(&spec).to_string()).map_err(|e| e.to_string())?;
    let log = std::env::temp_dir().join(format!("tollgate-prism-{port}.log"));
    // A watchdog shell stops Prism when this test process ends (statics are never dropped).
    let script = format!(
        "'{prism}' mock -h 127.0.0.1 -p {port} --errors '{spec}' > '{log}' 2>&1 & p=$!; \
         while kill -0 {me} 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 1; done; kill $p 2>/dev/null; rm -f '{spec}'",
        prism = prism.display(),
        spec = spec_file.display(),
        log = log.display(),
        me = std::process::id(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting prism: {e}"))?;
    let started = Instant::now();
    while started.elapsed() < PRISM_START {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            eprintln!(
                "prism listening after {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(format!("http://127.0.0.1:{port}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let tail = std::fs::read_to_string(&log).unwrap_or_default();
    Err(format!(
        "prism did not listen within {PRISM_START:?}; its log ({}):\n{tail}",
        log.display()
    ))
}

async fn prism_url() -> String {
    tokio::task::spawn_blocking(|| PRISM.get_or_init(start_prism).clone())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"))
}

// ---- A scriptable fake Stripe that records what it is sent ----

#[derive(Debug, Clone)]
struct Sent {
    path: String,
    idempotency_key: String,
    authorization: String,
    content_type: String,
    form: Vec<(String, String)>,
}

#[derive(Default)]
struct FakeState {
    sent: Vec<Sent>,
    /// (path suffix, status): the next request whose path ends so is answered with status.
    failures: Vec<(String, u16)>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<FakeState>>);

impl Fake {
    fn sent(&self) -> Vec<Sent> {
        self.0.lock().unwrap().sent.clone()
    }

    fn fail_next(&self, suffix: &str, status: u16) {
        self.0
            .lock()
            .unwrap()
            .failures
            .push((suffix.to_owned(), status));
    }
}

async fn fake_stripe(
    State(fake): State<Fake>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (AxumStatus, axum::Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let path = uri.path().to_owned();
    let mut state = fake.0.lock().unwrap();
    state.sent.push(Sent {
        path: path.clone(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form: form_urlencoded::parse(&body).into_owned().collect(),
    });
    if let Some(i) = state.failures.iter().position(|(s, _)| path.ends_with(s)) {
        let (_, status) = state.failures.remove(i);
        let status = AxumStatus::from_u16(status).unwrap();
        let error = json!({"error": {"type": "api_error", "message": format!("scripted failure of {path}")}});
        return (status, axum::Json(error));
    }
    let n = state.sent.len();
    let id = match path.as_str() {
        "/v1/customers" => format!("cus_fake{n}"),
        "/v1/invoices" => format!("in_fake{n}"),
        "/v1/invoiceitems" => format!("ii_fake{n}"),
        p => p.split('/').nth(3).unwrap_or("x").to_owned(),
    };
    (AxumStatus::OK, axum::Json(json!({"id": id, "object": "x"})))
}

async fn start_fake() -> (Fake, String) {
    let fake = Fake::default();
    let router = axum::Router::new()
        .fallback(fake_stripe)
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (fake, url)
}

// ---- Invoices to pay ----

async fn created(app: &TestApp, path: &str, body: Value) -> String {
    let (status, value) = app.post(path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {value}");
    value["id"].as_str().unwrap().to_owned()
}

/// A draft invoice for October 2026 with one flat line of $49.00, and its consumer.
async fn draft_invoice(app: &TestApp) -> (String, String) {
    let api = app.create_api("/pay").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"name": "Acme & Co <b>", "email": "billing+stripe@acme.example"});
    let consumer = created(app, "/admin/v1/consumers", body).await;
    let price = json!({"currency": "USD", "amount_minor": 4900, "interval": "month"});
    let plan = created(
        app,
        "/admin/v1/plans",
        json!({"name": "Pro", "type": "paid", "price": price}),
    )
    .await;
    let body = json!({"consumer_id": consumer, "api_id": api, "plan_id": plan});
    let sub = created(app, "/admin/v1/subscriptions", body).await;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let started = tollgate_origin::clock::parse_rfc3339("2026-09-01T00:00:00Z").unwrap();
    sqlx::query(&format!(
        "UPDATE subscriptions SET started_at = {started}, trial_ends_at = NULL WHERE id = '{sub}'"
    ))
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let body = json!({"consumer_id": consumer, "period_start": "2026-10-01T00:00:00Z"});
    let (status, invoice) = app.post("/admin/v1/invoices/generate", body).await;
    assert_eq!(status, StatusCode::OK, "{invoice}");
    assert_eq!(invoice["subtotal_minor"], 4900, "{invoice}");
    (invoice["id"].as_str().unwrap().to_owned(), consumer)
}

async fn finalize(app: &TestApp, invoice: &str) -> Value {
    let (status, body) = app
        .post(&format!("/admin/v1/invoices/{invoice}/finalize"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "finalized", "{body}");
    body
}

async fn sync(app: &TestApp, invoice: &str) -> (StatusCode, Value) {
    app.post(&format!("/admin/v1/invoices/{invoice}/sync"), json!({}))
        .await
}

async fn with_stripe<F, Fut>(db: Db, api_base: String, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    helpers::run_with(db, move |c| c.payments = stripe_config(&api_base), test).await;
}

// ---- Tests ----

async fn finalized_invoices_reach_stripe_in_a_schema_valid_shape(db: Db) {
    let url = prism_url().await;
    with_stripe(db, url, |app| async move {
        let (invoice, _) = draft_invoice(&app).await;
        let finalized = finalize(&app, &invoice).await;
        let payment = &finalized["payment"];
        assert_eq!(payment["sync_state"], "synced", "{finalized}");
        assert_eq!(payment["last_error"], Value::Null, "{finalized}");
        assert!(payment["provider_invoice_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert!(payment["provider_customer_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        assert_eq!(payment["attempts"], 1);
        // Synced is synced: asking again calls nobody and changes nothing.
        let (status, again) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again["payment"]["attempts"], 1);
    })
    .await;
}

/// Prism itself is the witness that validation is on: an invoice item without a customer
/// breaks Stripe's schema and must be answered 422 (else `synced` above would prove nothing).
#[tokio::test]
async fn prism_refuses_a_request_that_breaks_stripes_schema() {
    let url = prism_url().await;
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/invoiceitems"))
        .bearer_auth(SECRET_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("amount=12&currency=usd")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_provider_failure_keeps_the_invoice_and_a_retry_resumes(db: Db) {
    let (fake, url) = start_fake().await;
    let check = fake.clone();
    with_stripe(db, url, |app| async move {
        let (invoice, consumer) = draft_invoice(&app).await;
        check.fail_next("/v1/invoiceitems", 500);
        let finalized = finalize(&app, &invoice).await;
        let payment = &finalized["payment"];
        assert_eq!(payment["sync_state"], "failed", "{finalized}");
        let reason = payment["last_error"].as_str().unwrap();
        assert!(
            reason.contains("HTTP 500") && reason.contains("scripted failure"),
            "{reason}"
        );
        let (_, fetched) = app.get(&format!("/admin/v1/invoices/{invoice}")).await;
        assert_eq!(fetched["status"], "finalized");
        assert_eq!(fetched["payment"]["sync_state"], "failed");

        let (status, retried) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::OK, "{retried}");
        assert_eq!(retried["payment"]["sync_state"], "synced", "{retried}");
        assert_eq!(retried["payment"]["last_error"], Value::Null);
        assert_eq!(retried["payment"]["attempts"], 2);
        let (status, _) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::OK);

        let sent = check.sent();
        let paths: Vec<&str> = sent.iter().map(|s| s.path.as_str()).collect();
        let provider_invoice = retried["payment"]["provider_invoice_id"].as_str().unwrap();
        let finalize_path = format!("/v1/invoices/{provider_invoice}/finalize");
        // The customer and the invoice were created once; the failed line was retried
        // with the same key; nothing after the final sync.
        assert_eq!(
            paths,
            [
                "/v1/customers",
                "/v1/invoices",
                "/v1/invoiceitems",
                "/v1/invoiceitems",
                finalize_path.as_str()
            ]
        );
        assert_eq!(sent[2].idempotency_key, sent[3].idempotency_key);
        let keys: std::collections::HashSet<&str> =
            sent.iter().map(|s| s.idempotency_key.as_str()).collect();
        assert_eq!(keys.len(), 4, "{sent:?}");
        assert!(sent
            .iter()
            .all(|s| s.authorization == format!("Bearer {SECRET_KEY}")));
        assert!(sent
            .iter()
            .all(|s| s.content_type == "application/x-www-form-urlencoded"));
        let form = |i: usize, k: &str| {
            sent[i]
                .form
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(form(0, "name").as_deref(), Some("Acme & Co <b>"));
        assert_eq!(
            form(0, "metadata[tollgate_consumer_id]"),
            Some(consumer.clone())
        );
        assert_eq!(
            form(1, "pending_invoice_items_behavior").as_deref(),
            Some("exclude")
        );
        assert_eq!(
            form(1, "metadata[tollgate_invoice_id]"),
            Some(invoice.clone())
        );
        assert_eq!(form(3, "amount").as_deref(), Some("4900"));
        assert_eq!(form(3, "currency").as_deref(), Some("usd"));
        assert_eq!(form(3, "invoice").as_deref(), Some(provider_invoice));
        let october = tollgate_origin::clock::parse_rfc3339("2026-10-01T00:00:00Z").unwrap() / 1000;
        assert_eq!(form(3, "period[start]"), Some(october.to_string()));
        assert!(form(3, "period[end]").is_some());

        let (status, audit) = app.get("/admin/v1/audit?limit=1000").await;
        assert_eq!(status, StatusCode::OK, "{audit}");
        assert!(audit.to_string().contains("invoice.sync"), "{audit}");
    })
    .await;
}

async fn an_unreachable_provider_is_a_recorded_failure(db: Db) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    with_stripe(db, format!("http://127.0.0.1:{port}"), |app| async move {
        let (invoice, _) = draft_invoice(&app).await;
        let finalized = finalize(&app, &invoice).await;
        assert_eq!(finalized["payment"]["sync_state"], "failed");
        let reason = finalized["payment"]["last_error"].as_str().unwrap();
        assert!(reason.contains("could not be reached"), "{reason}");
        let (status, again) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["payment"]["attempts"], 2);
    })
    .await;
}

async fn without_a_provider_invoices_stay_local(db: Db) {
    helpers::run(db, |app| async move {
        let (invoice, _) = draft_invoice(&app).await;
        let (status, problem) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        let finalized = finalize(&app, &invoice).await;
        assert_eq!(finalized["payment"], Value::Null);
        let (status, problem) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("TOLLGATE_STRIPE_SECRET_KEY"));
        let response = app
            .client
            .post(app.url("/payments/stripe/webhook"))
            .body("{}")
            .send()
            .await
            .unwrap();
        let problem = expect_problem(response, StatusCode::NOT_FOUND).await;
        assert!(problem["detail"]
            .as_str()
            .unwrap()
            .contains("TOLLGATE_STRIPE_WEBHOOK_SECRET"));
    })
    .await;
}

async fn only_finalized_invoices_are_synced(db: Db) {
    let (fake, url) = start_fake().await;
    with_stripe(db, url, |app| async move {
        let (invoice, _) = draft_invoice(&app).await;
        let (status, problem) = sync(&app, &invoice).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("finalize it"));
        let (status, _) = sync(&app, "inv_nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let response = app
            .client
            .post(app.url(&format!("/admin/v1/invoices/{invoice}/sync")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    })
    .await;
    assert!(fake.sent().is_empty());
}

fn event(id: &str, kind: &str, provider_invoice: &str, invoice: &str) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "api_version": "2020-08-27",
        "data": {"object": {"id": provider_invoice, "object": "invoice", "attempt_count": 1,
                 "metadata": {"tollgate_invoice_id": invoice}}}
    })
    .to_string()
}

async fn deliver(app: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/payments/stripe/webhook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(s) = signature {
        request = request.header("Stripe-Signature", s);
    }
    request.send().await.unwrap()
}

fn signed(body: &str, at: i64) -> Option<String> {
    Some(signature_header(
        WEBHOOK_SECRET.as_bytes(),
        at,
        body.as_bytes(),
    ))
}

fn now() -> i64 {
    helpers::now_secs() as i64
}

async fn outcome(response: reqwest::Response) -> String {
    let (status, body) = helpers::read(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["outcome"].as_str().unwrap().to_owned()
}

async fn signed_events_pay_once_and_hostile_ones_change_nothing(db: Db) {
    let (_fake, url) = start_fake().await;
    with_stripe(db, url, |app| async move {
        let (invoice, _) = draft_invoice(&app).await;
        let finalized = finalize(&app, &invoice).await;
        let provider_invoice = finalized["payment"]["provider_invoice_id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Hostile deliveries first: none of them may pay the invoice.
        let paid = event("evt_paid", "invoice.paid", &provider_invoice, &invoice);
        let cases: Vec<(Option<String>, String, &str)> = vec![
            (None, paid.clone(), "missing"),
            (Some("v1=abcd".into()), paid.clone(), "no `t=`"),
            (Some(format!("t={},v1=zz", now())), paid.clone(), "not hex"),
            (
                Some(signature_header(b"whsec_wrong", now(), paid.as_bytes())),
                paid.clone(),
                "no v1 signature matches",
            ),
            (signed(&paid, now() - 3600), paid.clone(), "s old"),
            (signed(&paid, now() + 3600), paid.clone(), "in the future"),
            (
                signed("{not json", now()),
                "{not json".into(),
                "not a JSON event",
            ),
            (signed("[]", now()), "[]".into(), "not a JSON event"),
            (signed("{}", now()), "{}".into(), "no `id`"),
            // Signed for one body, delivered with another.
            (
                signed(&paid, now()),
                paid.replace("evt_paid", "evt_other"),
                "no v1 signature matches",
            ),
        ];
        for (signature, body, reason) in cases {
            let response = deliver(&app, &body, signature.clone()).await;
            let problem = expect_problem(response, StatusCode::BAD_REQUEST).await;
            let detail = problem["detail"].as_str().unwrap();
            assert!(detail.contains(reason), "{signature:?}: {detail}");
        }
        let (_, still) = app.get(&format!("/admin/v1/invoices/{invoice}")).await;
        assert_eq!(still["status"], "finalized");

        let failed = event(
            "evt_failed",
            "invoice.payment_failed",
            &provider_invoice,
            &invoice,
        );
        let said = outcome(deliver(&app, &failed, signed(&failed, now())).await).await;
        assert_eq!(said, "payment failure recorded");
        let (_, fetched) = app.get(&format!("/admin/v1/invoices/{invoice}")).await;
        assert_eq!(fetched["status"], "finalized");
        assert!(fetched["payment"]["payment_error"]
            .as_str()
            .unwrap()
            .contains("attempt 1"));

        let said = outcome(deliver(&app, &paid, signed(&paid, now())).await).await;
        assert_eq!(said, "invoice paid");
        let (_, fetched) = app.get(&format!("/admin/v1/invoices/{invoice}")).await;
        assert_eq!(fetched["status"], "paid", "{fetched}");
        assert!(fetched["paid_at"].is_string());

        // Stripe redelivers: the same event id does nothing again.
        let said = outcome(deliver(&app, &paid, signed(&paid, now())).await).await;
        assert!(said.starts_with("duplicate"), "{said}");
        let again = event("evt_paid_2", "invoice.paid", &provider_invoice, &invoice);
        let said = outcome(deliver(&app, &again, signed(&again, now())).await).await;
        assert_eq!(said, "invoice already paid");
        let other = event("evt_cust", "customer.created", "cus_1", "");
        let said = outcome(deliver(&app, &other, signed(&other, now())).await).await;
        assert!(said.starts_with("ignored"), "{said}");
        let stranger = event("evt_stranger", "invoice.paid", "in_unknown", "inv_unknown");
        let said = outcome(deliver(&app, &stranger, signed(&stranger, now())).await).await;
        assert!(said.contains("no tollgate invoice"), "{said}");

        // Paid through the life cycle, audited as the provider.
        let (_, audit) = app.get("/admin/v1/audit").await;
        let text = audit.to_string();
        assert!(text.contains("stripe-webhook"), "{text}");
        assert!(text.contains("invoice.pay"), "{text}");
    })
    .await;
}

macro_rules! payment_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(crate::helpers::Db::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $name() {
                super::$name(crate::helpers::Db::Postgres).await;
            })*
        }
    };
}

payment_tests!(
    finalized_invoices_reach_stripe_in_a_schema_valid_shape,
    a_provider_failure_keeps_the_invoice_and_a_retry_resumes,
    an_unreachable_provider_is_a_recorded_failure,
    without_a_provider_invoices_stay_local,
    only_finalized_invoices_are_synced,
    signed_events_pay_once_and_hostile_ones_change_nothing,
);
