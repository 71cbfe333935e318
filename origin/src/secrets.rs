//! The origin's two secrets: the admin token (operators → admin API) and the edge secret
//! (edge → origin signatures). Taken from the environment, else from a file in the data
//! directory, else generated there once with owner-only permissions. Neither type shows
//! its value in `Debug`.

use anyhow::Context;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::Path;
use subtle::ConstantTimeEq;

/// The bearer token that opens the admin API.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    /// Wraps a token value.
    pub fn new(value: impl Into<String>) -> AdminToken {
        AdminToken(value.into())
    }

    /// Constant-time check of a presented token. Both sides are hashed first so the
    /// comparison does not even reveal the token's length.
    pub fn matches(&self, presented: &str) -> bool {
        Sha256::digest(self.0.as_bytes())
            .ct_eq(&Sha256::digest(presented.as_bytes()))
            .into()
    }

    /// The token text, for showing once to the operator who generated it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

/// The HMAC key shared with the edge.
#[derive(Clone)]
pub struct EdgeSecret(Vec<u8>);

impl EdgeSecret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Vec<u8>>) -> EdgeSecret {
        EdgeSecret(value.into())
    }

    /// The key bytes, for computing signatures.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for EdgeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EdgeSecret(…)")
    }
}

/// Where a secret came from, so start-up can tell the operator what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    File,
    Generated,
}

/// 32 random bytes as hex: 256 bits, safe to paste into shells and headers.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Resolves a secret: a non-empty environment value wins, then the file, else a new
/// secret is written to the file (mode 0600, never overwriting an existing file).
pub fn load_or_generate(
    from_env: Option<String>,
    file: &Path,
) -> anyhow::Result<(String, SecretSource)> {
    if let Some(value) = from_env
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    {
        return Ok((value, SecretSource::Environment));
    }
    match std::fs::read_to_string(file) {
        Ok(text) if !text.trim().is_empty() => {
            return Ok((text.trim().to_owned(), SecretSource::File));
        }
        Ok(_) => anyhow::bail!(
            "{} is empty; delete it to have a new secret generated",
            file.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let secret = generate_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut handle = options
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    writeln!(handle, "{secret}").with_context(|| format!("writing {}", file.display()))?;
    Ok((secret, SecretSource::Generated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_tokens_match_only_themselves_and_never_print() {
        let token = AdminToken::new("correct horse");
        assert!(token.matches("correct horse"));
        assert!(!token.matches("correct hors"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("horse"));
        assert!(!format!("{:?}", EdgeSecret::new("s3cret")).contains("s3cret"));
    }

    #[test]
    fn a_secret_is_generated_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested").join("admin-token");
        let (first, source) = load_or_generate(None, &file).unwrap();
        assert_eq!(source, SecretSource::Generated);
        assert_eq!(first.len(), 64);
        let (again, source) = load_or_generate(Some("  ".into()), &file).unwrap();
        assert_eq!(
            (again.as_str(), source),
            (first.as_str(), SecretSource::File)
        );
        let (env, source) = load_or_generate(Some("from-env".into()), &file).unwrap();
        assert_eq!(
            (env.as_str(), source),
            ("from-env", SecretSource::Environment)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_empty_secret_file_is_an_error_not_a_silent_new_secret() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("edge-secret");
        std::fs::write(&file, "\n").unwrap();
        assert!(load_or_generate(None, &file).is_err());
    }
}
