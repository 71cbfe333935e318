//! The issuer: the origin's public URL, from `TOLLGATE_PUBLIC_URL`, else
//! `http://$TOLLGATE_ORIGIN_ADDR` (default `127.0.0.1:8080`). It is the `iss` of every
//! token and the base of the discovery document's URLs.

use crate::config::DEFAULT_ADDR;

/// The public URL without a trailing `/`.
pub fn public_url() -> String {
    public_url_from(|name| std::env::var(name).ok())
}

/// [`public_url`] from any variable look-up.
pub fn public_url_from(lookup: impl Fn(&str) -> Option<String>) -> String {
    let var = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    match var("TOLLGATE_PUBLIC_URL") {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            var("TOLLGATE_ORIGIN_ADDR").unwrap_or_else(|| DEFAULT_ADDR.into())
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_wins_else_the_listen_address() {
        assert_eq!(public_url_from(|_| None), "http://127.0.0.1:8080");
        let addr = |n: &str| (n == "TOLLGATE_ORIGIN_ADDR").then(|| "0.0.0.0:9000".to_owned());
        assert_eq!(public_url_from(addr), "http://0.0.0.0:9000");
        let public =
            |n: &str| (n == "TOLLGATE_PUBLIC_URL").then(|| "https://api.example.com/".to_owned());
        assert_eq!(public_url_from(public), "https://api.example.com");
    }
}
