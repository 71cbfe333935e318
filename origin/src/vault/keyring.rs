//! Master keys: the primary one seals, previous ones only open (during a rotation).
//! Taken from `TOLLGATE_MASTER_KEY` (base64, 32 bytes), else `TOLLGATE_MASTER_KEY_FILE`,
//! else `<data dir>/master-key`, generated there once with owner-only permissions.

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// One 256-bit master key and its derived id.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; 32],
    id: String,
}

impl MasterKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        // The id names the key without revealing it: 8 bytes of its hash.
        let id = hex::encode(&Sha256::digest(bytes)[..8]);
        MasterKey { bytes, id }
    }

    /// Parses the base64 text operators keep.
    pub fn parse(text: &str) -> anyhow::Result<MasterKey> {
        let raw = STANDARD
            .decode(text.trim())
            .context("a master key is 32 bytes in base64 (e.g. `openssl rand -base64 32`)")?;
        let bytes: [u8; 32] = raw.try_into().map_err(|v: Vec<u8>| {
            anyhow::anyhow!("a master key is 32 bytes, this one has {}", v.len())
        })?;
        Ok(MasterKey::from_bytes(bytes))
    }

    /// The key's id as it appears in sealed values.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// The primary key plus previous keys kept for opening.
#[derive(Clone, Debug)]
pub struct MasterKeyring {
    primary: MasterKey,
    previous: Vec<MasterKey>,
}

impl MasterKeyring {
    /// A ring sealing with `primary`.
    pub fn new(primary: MasterKey, previous: Vec<MasterKey>) -> MasterKeyring {
        MasterKeyring { primary, previous }
    }

    /// The key new values are sealed with.
    pub fn primary(&self) -> &MasterKey {
        &self.primary
    }

    /// Any configured key by id.
    pub fn find(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.primary)
            .chain(&self.previous)
            .find(|k| k.id == id)
    }

    /// Loads the ring as described in the module docs.
    pub fn load(
        lookup: impl Fn(&str) -> Option<String>,
        data_dir: &Path,
    ) -> anyhow::Result<MasterKeyring> {
        let primary = match (
            lookup("TOLLGATE_MASTER_KEY"),
            lookup("TOLLGATE_MASTER_KEY_FILE"),
        ) {
            (Some(text), _) => MasterKey::parse(&text).context("TOLLGATE_MASTER_KEY")?,
            (None, Some(file)) => read_key_file(Path::new(&file))?,
            (None, None) => load_or_generate(&data_dir.join("master-key"))?,
        };
        let previous = lookup("TOLLGATE_MASTER_KEY_PREVIOUS")
            .map(|list| {
                list.split(',')
                    .filter(|t| !t.trim().is_empty())
                    .map(MasterKey::parse)
                    .collect::<anyhow::Result<Vec<_>>>()
                    .context("TOLLGATE_MASTER_KEY_PREVIOUS (comma-separated base64 keys)")
            })
            .transpose()?
            .unwrap_or_default();
        Ok(MasterKeyring { primary, previous })
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading master key file {}", path.display()))?;
    MasterKey::parse(&text).with_context(|| format!("master key file {}", path.display()))
}

fn load_or_generate(path: &Path) -> anyhow::Result<MasterKey> {
    if path.exists() {
        return read_key_file(path);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    write_private(path, &STANDARD.encode(bytes))?;
    if !path.exists() {
        bail!("could not create {}", path.display());
    }
    Ok(MasterKey::from_bytes(bytes))
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_key_is_generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let none = |_: &str| None;
        let a = MasterKeyring::load(none, dir.path()).unwrap();
        let b = MasterKeyring::load(none, dir.path()).unwrap();
        assert_eq!(a.primary().id(), b.primary().id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master-key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn environment_keys_and_bad_keys() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = STANDARD.encode([1u8; 32]);
        let k2 = STANDARD.encode([2u8; 32]);
        let env: HashMap<&str, String> = [
            ("TOLLGATE_MASTER_KEY", k2.clone()),
            ("TOLLGATE_MASTER_KEY_PREVIOUS", k1.clone()),
        ]
        .into();
        let ring = MasterKeyring::load(|k| env.get(k).cloned(), dir.path()).unwrap();
        assert_eq!(ring.primary().id(), MasterKey::from_bytes([2; 32]).id());
        assert!(ring.find(MasterKey::from_bytes([1; 32]).id()).is_some());
        assert!(!dir.path().join("master-key").exists());
        for bad in ["not base64!", &STANDARD.encode([0u8; 16])] {
            let env: HashMap<&str, String> = [("TOLLGATE_MASTER_KEY", bad.to_string())].into();
            let err = MasterKeyring::load(|k| env.get(k).cloned(), dir.path()).unwrap_err();
            assert!(
                format!("{err:#}").contains("TOLLGATE_MASTER_KEY"),
                "{err:#}"
            );
        }
        assert!(!format!("{:?}", ring.primary()).contains(&k2));
    }
}
