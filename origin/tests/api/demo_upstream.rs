//! `tollgate demo-upstream` echoes what it receives.

use crate::helpers::read;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

async fn spawn_echo() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(tollgate_origin::demo_upstream::serve(
        listener,
        std::future::pending(),
    ));
    format!("http://{addr}")
}

#[tokio::test]
async fn echoes_method_path_query_and_headers() {
    let base = spawn_echo().await;
    let response = reqwest::Client::new()
        .delete(format!("{base}/v1/forecast/paris?days=3&unit=c"))
        .header("X-Custom", "yes")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-upstream"], "demo");
    let (status, echo) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(echo["method"], "DELETE");
    assert_eq!(echo["path"], "/v1/forecast/paris");
    assert_eq!(echo["query"], "days=3&unit=c");
    assert_eq!(echo["headers"]["x-custom"], "yes");
    assert_eq!(echo["body_bytes"], 0);
    assert_eq!(echo["body"], "");
}

#[tokio::test]
async fn echoes_the_digest_of_large_bodies() {
    let base = spawn_echo().await;
    let client = reqwest::Client::new();
    for size in [1024 * 1024, 10 * 1024 * 1024] {
        let body: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let digest = hex::encode(Sha256::digest(&body));
        let response = client
            .post(format!("{base}/upload"))
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, echo) = read(response).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(echo["body_bytes"], size);
        assert_eq!(echo["body_sha256"], digest);
        assert!(echo["body"].is_null());
    }
    let response = client
        .put(format!("{base}/text"))
        .body("héllo")
        .send()
        .await
        .unwrap();
    let (_, echo) = read(response).await;
    assert_eq!(echo["body"], "héllo");
}
