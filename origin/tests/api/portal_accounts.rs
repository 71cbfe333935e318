//! Portal accounts, part two, on SQLite and PostgreSQL: verification and reset links work
//! once and expire, wrong tokens are refused with a page saying why, the forgot form never
//! tells whether an account exists, mails are throttled, forms need their CSRF token, the
//! outbox is the platform operator's alone, and SMTP delivery (against a receiver in this
//! test) is recorded without ever losing a mail.

use crate::helpers::TestApp;
use crate::portal::{published_api_and_free_plan, Browser};
use crate::tenancy::{member, org};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use tollgate_origin::mail::{Mail, Mailer};

/// The outbox's mails to `to`, newest first.
async fn outbox(app: &TestApp, to: &str) -> Vec<Value> {
    let (status, page) = app
        .get(&format!("/admin/v1/mail/outbox?to={to}&limit=500"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["mails"].as_array().unwrap().clone()
}

/// Waits for the `n`th mail to `to` (reset mails are written after the answer).
async fn nth_mail(app: &TestApp, to: &str, n: usize) -> Value {
    for _ in 0..100 {
        let mails = outbox(app, to).await;
        if mails.len() >= n {
            return mails[mails.len() - n].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail number {n} to {to}");
}

fn token_in(mail: &Value) -> String {
    let body = mail["body"].as_str().expect("a body");
    let at = body.find("token=").expect("a link with a token") + 6;
    body[at..at + 64].to_owned()
}

async fn db(app: &TestApp) -> sqlx::AnyPool {
    tollgate_origin::db::connect(&app.database_url)
        .await
        .unwrap()
}

async fn expire_tokens(app: &TestApp) {
    sqlx::query("UPDATE portal_tokens SET expires_at = 0")
        .execute(&db(app).await)
        .await
        .unwrap();
}

async fn sign_up_mails_a_verification_link_that_works_once(app: TestApp) {
    let (api, _) = published_api_and_free_plan(&app).await;
    let (status, trial) = app
        .post(
            "/admin/v1/plans",
            json!({"name": "Trial", "type": "trial", "trial_days": 14}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{trial}");
    let mut ada = Browser::sign_up(&app, "Ada", "ada@example.com").await;
    let (_, apis) = ada.get("/portal/apis").await;
    assert!(
        apis.contains("id=\"verify-banner\""),
        "unverified: a banner"
    );
    let mails = outbox(&app, "ADA@example.com").await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0]["status"], "outbox");
    assert!(mails[0]["subject"].as_str().unwrap().contains("Verify"));
    let token = token_in(&mails[0]);
    // Unverified: the free plan works (the first-call flow), a trial does not yet.
    let res = ada
        .post(
            &format!("/portal/apis/{api}/subscribe"),
            &[("plan_id", trial["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("Verify your email address"));
    // Careless and hostile links are refused with a page that says why.
    for (bad, why) in [
        ("", "not valid"),
        ("'; DROP TABLE users; --", "not valid"),
        (&"0".repeat(64), "not valid"),
    ] {
        let (status, html) = ada.get(&format!("/portal/verify?token={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(html.contains(why), "{bad}: {html}");
    }
    let (status, html) = ada.get(&format!("/portal/verify?token={token}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Email verified") && !html.contains("verify-banner"));
    let (status, html) = ada.get(&format!("/portal/verify?token={token}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("used already"), "{html}");
    let res = ada
        .post(
            &format!("/portal/apis/{api}/subscribe"),
            &[("plan_id", trial["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "verified: trials open");
    // Resend: CSRF needed, three an hour, then 429 with Retry-After; old links expire.
    let mut grace = Browser::sign_up(&app, "Grace", "grace@example.com").await;
    let good_csrf = grace.csrf.clone();
    grace.csrf = "0".repeat(64);
    let res = grace.post("/portal/verify/resend", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    grace.csrf = good_csrf;
    for _ in 0..3 {
        let res = grace.post("/portal/verify/resend", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = grace.post("/portal/verify/resend", &[]).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(outbox(&app, "grace@example.com").await.len(), 4);
    let newest = token_in(&outbox(&app, "grace@example.com").await[0]);
    expire_tokens(&app).await;
    let (status, html) = grace.get(&format!("/portal/verify?token={newest}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("expired"), "{html}");
    let (_, html) = grace.get("/portal/apis").await;
    assert!(html.contains("verify-banner"), "still unverified");
}

async fn password_reset_is_enumeration_safe_single_use_and_ends_sessions(app: TestApp) {
    let mut signed_in = Browser::sign_up(&app, "Ada", "ada@example.com").await;
    let (status, _) = signed_in.get("/portal/keys").await;
    assert_eq!(status, StatusCode::OK);
    let verification = token_in(&outbox(&app, "ada@example.com").await[0]);
    let mut b = Browser::open(&app).await;
    b.get("/portal/forgot").await;
    // The same answer for an account and for nobody.
    let mut answers = Vec::new();
    for email in ["ada@example.com", "nobody@example.com"] {
        let res = b.post("/portal/forgot", &[("email", email)]).await;
        assert_eq!(res.status(), StatusCode::OK);
        answers.push(res.text().await.unwrap().replace(email, "EMAIL"));
    }
    assert_eq!(answers[0], answers[1]);
    let reset = nth_mail(&app, "ada@example.com", 2).await;
    assert!(reset["subject"].as_str().unwrap().contains("Reset"));
    let token = token_in(&reset);
    assert!(outbox(&app, "nobody@example.com").await.is_empty());
    // Careless input: no email, a verification token used as a reset token, bad CSRF.
    let res = b.post("/portal/forgot", &[("email", "not an email")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, html) = b.get(&format!("/portal/reset?token={verification}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    let (status, html) = b.get(&format!("/portal/reset?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"token\""));
    let csrf = b.csrf.clone();
    b.csrf = "1".repeat(64);
    let res = b
        .post(
            "/portal/reset",
            &[("token", &token), ("password", "a new long password")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    b.csrf = csrf;
    let res = b
        .post("/portal/reset", &[("token", &token), ("password", "short")])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "token not used up"
    );
    let res = b
        .post(
            "/portal/reset",
            &[("token", &token), ("password", "a new long password")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("Password changed"));
    // Every session of the account ended; the old password is gone; the link worked once.
    let (status, _) = signed_in.get("/portal/keys").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out everywhere");
    let res = b
        .post(
            "/portal/reset",
            &[("token", &token), ("password", "another long password")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("used already"));
    let mut login = Browser::open(&app).await;
    login.get("/portal/login").await;
    let res = login
        .post(
            "/portal/login",
            &[
                ("email", "ada@example.com"),
                ("password", "a long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = login
        .post(
            "/portal/login",
            &[
                ("email", "ada@example.com"),
                ("password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = login.get("/portal/apis").await;
    assert!(
        !html.contains("verify-banner"),
        "the reset link proved the address"
    );
    // A newer link replaces the older; an expired one is refused.
    b.post("/portal/forgot", &[("email", "ada@example.com")])
        .await;
    let newer = token_in(&nth_mail(&app, "ada@example.com", 3).await);
    expire_tokens(&app).await;
    let (status, html) = b.get(&format!("/portal/reset?token={newer}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("expired"), "{html}");
    // Three requests an hour per address — for accounts and for nobody alike (ada has
    // asked twice, nobody once), then 429 with Retry-After.
    for (email, left) in [("ada@example.com", 1), ("nobody@example.com", 2)] {
        for _ in 0..left {
            let res = b.post("/portal/forgot", &[("email", email)]).await;
            assert_eq!(res.status(), StatusCode::OK, "{email}");
        }
        let res = b.post("/portal/forgot", &[("email", email)]).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(res.headers().contains_key("retry-after"));
    }
}

async fn the_outbox_is_for_the_platform_operator_only(app: TestApp) {
    Browser::sign_up(&app, "Ada", "ada@example.com").await;
    let (status, page) = app.get("/admin/v1/mail/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["mails"][0]["to"], "ada@example.com");
    for bad in ["limit=0", "limit=501", "limit=abc", "limit=-1"] {
        let (status, problem) = app.get(&format!("/admin/v1/mail/outbox?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
    }
    let acme = org(&app, "Acme").await;
    let owner = member(&app, &acme, "owner@acme.example", "owner").await;
    let (status, _) = owner
        .call(&app, Method::GET, "/admin/v1/mail/outbox", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let res = app
        .client
        .get(app.url("/admin/v1/mail/outbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// What the test SMTP receiver got: one entry per mail, the DATA text.
type Received = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A small SMTP receiver on 127.0.0.1 speaking enough of RFC 5321 for a client: greeting,
/// EHLO, MAIL, RCPT (refused with 550 when `refuse` is set), DATA, RSET, NOOP, QUIT.
async fn smtp_receiver(refuse: bool) -> (u16, Received) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Default::default();
    let store = received.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 receiver ESMTP test\r\n").await.ok();
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250-receiver\r\n250 8BITMIME\r\n",
                        "RCPT" if refuse => b"550 5.1.1 no such mailbox here\r\n",
                        "DATA" => {
                            write.write_all(b"354 go ahead\r\n").await.ok();
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            store.lock().unwrap().push(data);
                            b"250 2.0.0 queued\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, received)
}

/// Sends one mail and waits until its delivery is settled; returns its outbox entry.
async fn send_and_settle(app: &TestApp, mailer: &Mailer, to: &str) -> Value {
    let pool = db(app).await;
    let mail = Mail {
        to: to.into(),
        subject: "Verify your address".into(),
        body: "Open http://127.0.0.1/portal/verify?token=abc to go on.\n".into(),
    };
    let id = mailer.send(&pool, mail).await.unwrap();
    for _ in 0..200 {
        let mails = outbox(app, to).await;
        let entry = mails
            .iter()
            .find(|m| m["id"] == id.as_str())
            .unwrap()
            .clone();
        if entry["status"] != "sending" {
            return entry;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("mail {id} still sending");
}

async fn smtp_delivery_is_recorded_and_failures_keep_the_mail(app: TestApp) {
    let (port, received) = smtp_receiver(false).await;
    let mailer = Mailer::new(
        Some(&format!("smtp://127.0.0.1:{port}")),
        "tollgate <no-reply@example.com>",
    );
    let sent = send_and_settle(&app, &mailer, "ada@example.com").await;
    assert_eq!(sent["status"], "sent", "{sent}");
    assert!(
        sent["body"].is_null(),
        "a delivered mail's links are not kept"
    );
    assert!(sent["sent_at"].is_string());
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("Subject: Verify your address"),
        "{}",
        got[0]
    );
    assert!(got[0].contains("To: ada@example.com"), "{}", got[0]);
    assert!(got[0].contains("verify?token=abc"), "{}", got[0]);
    // The server refuses the recipient: the mail stays, with the server's reason.
    let (port, received) = smtp_receiver(true).await;
    let refusing = Mailer::new(
        Some(&format!("smtp://127.0.0.1:{port}")),
        "no-reply@example.com",
    );
    let failed = send_and_settle(&app, &refusing, "grace@example.com").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("no such mailbox"),
        "{failed}"
    );
    assert!(failed["body"].as_str().unwrap().contains("token=abc"));
    assert!(received.lock().unwrap().is_empty());
    // Nobody listening, and an unusable URL: failed, never lost.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nobody = Mailer::new(
        Some(&format!("smtp://127.0.0.1:{port}")),
        "no-reply@example.com",
    );
    let failed = send_and_settle(&app, &nobody, "linus@example.com").await;
    assert_eq!(failed["status"], "failed");
    let broken = Mailer::new(Some("gopher://mail"), "no-reply@example.com");
    let failed = send_and_settle(&app, &broken, "ken@example.com").await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"]
        .as_str()
        .unwrap()
        .contains("TOLLGATE_SMTP_URL"));
    // Without SMTP the outbox is the mailbox.
    let kept = send_and_settle(&app, &Mailer::new(None, "x@example.com"), "dev@example.com").await;
    assert_eq!(kept["status"], "outbox");
    assert!(kept["body"].is_string());
}

crate::both_databases!(
    smtp_delivery_is_recorded_and_failures_keep_the_mail,
    sign_up_mails_a_verification_link_that_works_once,
    password_reset_is_enumeration_safe_single_use_and_ends_sessions,
    the_outbox_is_for_the_platform_operator_only,
);
