//! Credentials stored by `igctl login` (DESIGN §7), used when neither the flags nor the
//! environment name a daemon.
//!
//! - The URL, and the paths of the client certificate, key and CA (never the key's contents),
//!   go to `$XDG_CONFIG_HOME/intentgate/credentials.toml` (else
//!   `~/.config/intentgate/credentials.toml`), written 0600 in a 0700 directory.
//! - A bearer token goes to the OS keyring (on Linux the kernel keyring, keyutils) under service
//!   `intentgate`, user = the URL. Where no keyring is usable (keyutils refused, as in many
//!   containers) it goes into the 0600 file instead, with a warning.
//! - Read order for the token: the keyring, then the file. The kernel keyring forgets after a
//!   reboot (and after days unused): then `igctl login` again.

use crate::error::CliError;
use intentgate_proto::api::ErrorCode;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The keyring service the token is stored under (the user is the URL).
pub const KEYRING_SERVICE: &str = "intentgate";

/// What `igctl login` stored, the token already read from wherever it was.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Stored {
    pub url: String,
    pub token: Option<String>,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish()
    }
}

/// The file as written.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileContents {
    url: String,
    /// `keyring` or `file`: where the token went (absent: no token).
    #[serde(default)]
    token_in: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    ca: Option<String>,
    #[serde(default)]
    cert: Option<String>,
    #[serde(default)]
    key: Option<String>,
}

/// Where the token went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenPlace {
    /// No token (a client certificate login).
    None,
    Keyring,
    /// Into the 0600 file, because the keyring was not usable (why).
    File(String),
}

/// What [`save`] did.
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    pub token: TokenPlace,
}

/// The credentials file: `$XDG_CONFIG_HOME/intentgate/credentials.toml`, else
/// `$HOME/.config/intentgate/credentials.toml`; `None` when neither is set.
pub fn path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |name: &str| env(name).filter(|v| !v.is_empty());
    nonempty("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| nonempty("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|base| base.join("intentgate").join("credentials.toml"))
}

fn read_file(path: &Path) -> Result<Option<(FileContents, u32)>, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot read the stored credentials {}: {e}",
                path.display()
            )))
        }
    };
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0);
    let contents: FileContents = toml::from_str(&text).map_err(|e| {
        CliError::usage(format!(
            "{} is not a credentials file igctl login wrote ({e}); run igctl logout, then igctl login",
            path.display()
        ))
    })?;
    Ok(Some((contents, mode)))
}

/// The stored credentials, if `igctl login` stored any.
pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Stored>, CliError> {
    let Some(path) = path(env) else {
        return Ok(None);
    };
    let Some((file, mode)) = read_file(&path)? else {
        return Ok(None);
    };
    if file.token.is_some() && mode & 0o077 != 0 {
        return Err(CliError::usage(format!(
            "{} holds a token and is readable by other users (mode {:o}): chmod 600 it, or run igctl login again",
            path.display(),
            mode & 0o777
        )));
    }
    let token = match file.token_in.as_deref() {
        None => None,
        // The keyring first, then the file.
        Some(_) => match keyring_get(&file.url).or_else(|| file.token.clone()) {
            Some(t) => Some(t),
            None => {
                return Err(CliError::new(
                    ErrorCode::Unauthenticated,
                    format!(
                        "the token igctl login stored for {} is no longer in the keyring (the kernel keyring forgets it after a reboot or days unused): run igctl login again",
                        file.url
                    ),
                ))
            }
        },
    };
    Ok(Some(Stored {
        url: file.url,
        token,
        ca: file.ca.map(PathBuf::from),
        cert: file.cert.map(PathBuf::from),
        key: file.key.map(PathBuf::from),
    }))
}

/// Store `creds` (replacing an earlier login): the token in the keyring when it is usable,
/// else in the file; the rest in the file.
pub fn save(env: &dyn Fn(&str) -> Option<String>, creds: &Stored) -> Result<Saved, CliError> {
    let path = path(env).ok_or_else(|| {
        CliError::usage("neither XDG_CONFIG_HOME nor HOME is set: nowhere to store credentials")
    })?;
    // An earlier login's token for another URL does not stay behind in the keyring.
    if let Ok(Some((old, _))) = read_file(&path) {
        if old.url != creds.url && old.token_in.is_some() {
            let _ = keyring_delete(&old.url);
        }
    }
    let token = match &creds.token {
        None => {
            let _ = keyring_delete(&creds.url);
            TokenPlace::None
        }
        Some(t) => match keyring_set(&creds.url, t) {
            Ok(()) => TokenPlace::Keyring,
            Err(why) => TokenPlace::File(why),
        },
    };
    let text = render(creds, &token)?;
    write_private(&path, &text)?;
    Ok(Saved { path, token })
}

/// Remove the stored credentials (file and keyring entry). `None` when nothing was stored;
/// else the URL they were for (empty when the file did not parse).
pub fn remove(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, CliError> {
    let Some(path) = path(env) else {
        return Ok(None);
    };
    let url = match read_file(&path) {
        Ok(Some((file, _))) => Some(file.url),
        Ok(None) => return Ok(None),
        // Unreadable as TOML: still removed.
        Err(_) => None,
    };
    if let Some(url) = &url {
        if let Err(why) = keyring_delete(url) {
            crate::output::eprint(&format!(
                "igctl: warning: could not remove the keyring entry for {url}: {why}\n"
            ));
        }
    }
    std::fs::remove_file(&path).or_else(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Ok(()),
        _ => Err(CliError::usage(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    })?;
    Ok(url.or_else(|| Some(String::new())))
}

/// The file's text: TOML, each value a basic string (JSON string escapes are valid TOML ones).
fn render(creds: &Stored, token: &TokenPlace) -> Result<String, CliError> {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let path_text = |p: &Path, what: &str| {
        p.to_str().map(quote).ok_or_else(|| {
            CliError::usage(format!(
                "the {what} path {} is not UTF-8; igctl login cannot store it",
                p.display()
            ))
        })
    };
    let mut out = String::from(
        "# Written by igctl login; removed by igctl logout. Paths only: the private key stays\n\
         # where it is. A token is in the OS keyring (service \"intentgate\", user = url) unless\n\
         # token_in = \"file\".\n",
    );
    out.push_str(&format!("url = {}\n", quote(&creds.url)));
    match (token, &creds.token) {
        (TokenPlace::Keyring, _) => out.push_str("token_in = \"keyring\"\n"),
        (TokenPlace::File(_), Some(t)) => {
            out.push_str("token_in = \"file\"\n");
            out.push_str(&format!("token = {}\n", quote(t)));
        }
        _ => {}
    }
    for (name, value) in [
        ("ca", &creds.ca),
        ("cert", &creds.cert),
        ("key", &creds.key),
    ] {
        if let Some(p) = value {
            out.push_str(&format!("{name} = {}\n", path_text(p, name)?));
        }
    }
    Ok(out)
}

/// Write `text` to `path` with mode 0600 (directory 0700), replacing it atomically.
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    let fail = |what: &Path, e: std::io::Error| {
        CliError::usage(format!("cannot write {}: {e}", what.display()))
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.is_dir() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail(dir, e))?;
    }
    let tmp = dir.join(format!(".credentials.toml.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| fail(&tmp, e))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        // The umask cannot widen 0600, but a file left by someone else could be wider.
        .and_then(|()| std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(path, e));
    }
    Ok(())
}

fn entry(url: &str) -> Result<keyring::Entry, String> {
    keyring::Entry::new(KEYRING_SERVICE, url).map_err(|e| e.to_string())
}

/// Store the token in the keyring and read it back through a new handle (a keyring that
/// accepts but does not keep it is not usable).
fn keyring_set(url: &str, token: &str) -> Result<(), String> {
    // Probe with a value that is not a secret first: a keyring that half-stores (kernel
    // keyrings where linking to the persistent keyring fails leave an unreachable copy in the
    // session keyring) must never be handed the token.
    let probe =
        keyring::Entry::new(KEYRING_SERVICE, "igctl-keyring-probe").map_err(|e| e.to_string())?;
    let usable = probe
        .set_password("probe")
        .map_err(|e| e.to_string())
        .and_then(|()| probe.get_password().map_err(|e| e.to_string()));
    let _ = probe.delete_credential();
    if let Err(why) = usable {
        return Err(format!("the keyring is not usable here: {why}"));
    }
    let kept = entry(url)?
        .set_password(token)
        .map_err(|e| e.to_string())
        .and_then(|()| match entry(url)?.get_password() {
            Ok(t) if t == token => Ok(()),
            Ok(_) => Err("the keyring gave back another token".into()),
            Err(e) => Err(format!("the keyring did not keep the token: {e}")),
        });
    if kept.is_err() {
        // A half-done store (kernel keyrings: added to the session keyring, not linked to the
        // persistent one) does not leave the token behind.
        let _ = keyring_delete(url);
    }
    kept
}

fn keyring_get(url: &str) -> Option<String> {
    entry(url).ok()?.get_password().ok()
}

/// Delete the keyring entry; `Ok(false)` when there was none.
fn keyring_delete(url: &str) -> Result<bool, String> {
    match entry(url)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_lives_under_the_config_dir() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            path(&env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/intentgate/credentials.toml"))
        );
        assert_eq!(
            path(&env(&[("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")])),
            Some(PathBuf::from("/h/.config/intentgate/credentials.toml"))
        );
        assert_eq!(path(&env(&[])), None);
    }

    #[test]
    fn rendered_files_parse_back_and_never_hold_a_keyring_token() {
        let creds = Stored {
            url: "https://igd.example:9443".into(),
            token: Some("igo_secret\"quoted\\".into()),
            ca: Some("/etc/ca.pem".into()),
            cert: Some("/home/o/c.pem".into()),
            key: Some("/home/o/k.pem".into()),
        };
        let keyring = render(&creds, &TokenPlace::Keyring).unwrap();
        assert!(!keyring.contains("igo_secret"), "{keyring}");
        let parsed: FileContents = toml::from_str(&keyring).unwrap();
        assert_eq!(parsed.token_in.as_deref(), Some("keyring"));
        assert_eq!(parsed.key.as_deref(), Some("/home/o/k.pem"));
        let file = render(&creds, &TokenPlace::File("no keyring".into())).unwrap();
        let parsed: FileContents = toml::from_str(&file).unwrap();
        assert_eq!(parsed.token.as_deref(), Some("igo_secret\"quoted\\"));
        let none = render(
            &Stored {
                token: None,
                ..creds
            },
            &TokenPlace::None,
        )
        .unwrap();
        let parsed: FileContents = toml::from_str(&none).unwrap();
        assert_eq!((parsed.token_in, parsed.token), (None, None));
    }
}
