//! Key material at start: the master key (configured, or generated into the data dir on the
//! embedded default), the key ring for tokens, and the per-instance identity.

use crate::config::{ConfigError, Settings};
use intentgate_proto::keys::{KeyRing, MasterKey};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The keys igd runs with.
#[derive(Debug, Clone)]
pub struct Keys {
    pub master: MasterKey,
    pub ring: KeyRing,
}

/// Resolve the master key: configured value, or `<data dir>/master.key` on the embedded default
/// (generated on first start, mode 0600). With PostgreSQL a configured key is required so that
/// replicas agree.
pub fn load_keys(settings: &Settings) -> Result<Keys, ConfigError> {
    let master = match &settings.master_key {
        Some(value) => MasterKey::parse(value.expose())
            .map_err(|e| ConfigError::new("master_key", e.to_string()))?,
        None if !settings.embedded() => {
            return Err(ConfigError::new(
                "master_key",
                "required with INTENTGATE_POSTGRES_URL (every replica must use the same key)",
            ))
        }
        None => {
            let path = settings.data_dir.join("master.key");
            let text =
                read_or_generate(&path, "master key", MasterKey::generate_hex).map_err(|e| {
                    ConfigError::new("master_key", format!("cannot use {}: {e}", path.display()))
                })?;
            MasterKey::parse(&text).map_err(|e| {
                ConfigError::new(
                    "master_key",
                    format!("{} holds an invalid key: {e}", path.display()),
                )
            })?
        }
    };
    let mut retired = Vec::new();
    for value in &settings.master_keys_retired {
        let key = MasterKey::parse(value.expose())
            .map_err(|e| ConfigError::new("master_keys_retired", e.to_string()))?;
        retired.push(key.token_key());
    }
    let ring = KeyRing::new(master.token_key(), retired);
    Ok(Keys { master, ring })
}

/// Read a secret file, or create it (mode 0600, fsynced) from `generate` on first start.
/// `what` names it in the warnings, which carry the path, never the value.
pub fn read_or_generate(
    path: &Path,
    what: &str,
    generate: impl FnOnce() -> String,
) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "{what} file is readable by others; chmod 600 it");
            }
            Ok(text)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = generate();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            tracing::warn!(path = %path.display(), "generated a new {what} in the data dir (production keys belong outside it; keep a copy)");
            Ok(text)
        }
        Err(e) => Err(e),
    }
}

/// A stable id for this igd instance, kept in the data dir.
pub fn instance_id(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("instance.id");
    match std::fs::read_to_string(&path) {
        Ok(text) if intentgate_proto::ids::is_hex_id(text.trim()) => Ok(text.trim().to_string()),
        _ => {
            let id = intentgate_proto::ids::new_id();
            std::fs::write(&path, &id)?;
            Ok(id)
        }
    }
}
