//! Settings: defaults → `igd.toml` → `INTENTGATE_*` environment (DESIGN §9).
//!
//! Secret variables also come from `INTENTGATE_X_FILE` and from `$CREDENTIALS_DIRECTORY/x`
//! (systemd `LoadCredential`); precedence: variable > `_FILE` > credential. Every problem is a
//! [`ConfigError`] naming the variable, which the binary turns into exit 64.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Exit status for a configuration error (EX_CONFIG-like "usage of data" code from sysexits).
pub const EXIT_CONFIG: i32 = 64;

/// The default path of the settings file.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/intentgate/igd.toml";

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        ConfigError {
            variable: env_name(key),
            message: message.into(),
        }
    }
}

/// A secret string: redacted in `Debug`, zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: String) -> Self {
        Secret(Zeroizing::new(s))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How much of a call's arguments is stored beside the audit chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgPersistence {
    Off,
    Scalars,
    Raw,
}

/// Whether each audit group commit is fsynced (`full`) or only survives a process crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditSync {
    Normal,
    Full,
}

/// How igd writes its logs to stdout (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// `INTENTGATE_EXTRACTOR`: the intent classifier (DESIGN §4 step 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractorSetting {
    /// No classifier: `intent: null`.
    Off,
    /// `rules:<file>`: TOML rules matched in process.
    Rules(PathBuf),
    /// `http:<url>`: a sidecar asked over plain HTTP.
    Http(String),
}

/// A `[[budget]]` ceiling from `igd.toml`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetRule {
    pub tenant: String,
    pub subject: String,
    #[serde(default)]
    pub calls_per_hour: Option<u64>,
    #[serde(default)]
    pub calls_per_day: Option<u64>,
    #[serde(default)]
    pub cost_per_day: Option<u64>,
}

/// Every setting igd reads, typed and validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub postgres_url: Option<Secret>,
    /// Most PostgreSQL connections one replica holds.
    pub postgres_pool_size: u32,
    /// PostgreSQL `statement_timeout`, and the longest a call waits for a connection (ms).
    pub postgres_statement_timeout_ms: u64,
    pub master_key: Option<Secret>,
    pub master_keys_retired: Vec<Secret>,
    pub max_token_ttl: u64,
    pub admin_socket: PathBuf,
    /// `INTENTGATE_ADMIN_LISTEN`: the mTLS admin listener (with the three files below, all
    /// required when it is set; none of them without it).
    pub admin_listen: Option<SocketAddr>,
    pub admin_tls_cert: Option<PathBuf>,
    pub admin_tls_key: Option<PathBuf>,
    pub admin_client_ca: Option<PathBuf>,
    pub admin_token: Option<Secret>,
    pub tenant_admins: Vec<(String, Secret)>,
    pub admin_token_step_up: bool,
    /// `INTENTGATE_TOTP_ENCRYPTION_KEY` (validated); `None`: derived from the master key.
    pub totp_encryption_key: Option<Secret>,
    pub admin_uids: Vec<u32>,
    pub upstream_url: Option<String>,
    pub upstream_timeout_ms: u64,
    pub upstream_headers: Vec<(String, Secret)>,
    pub session_idle_timeout: u64,
    /// `initialize` and `DELETE` requests per minute per token (root jti).
    pub session_ops_per_minute: u32,
    pub deployment_id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub forward_methods: Vec<String>,
    pub max_body_bytes: usize,
    /// The most bytes one upstream answer (a JSON body, or a whole SSE stream) may carry.
    pub max_upstream_response_bytes: usize,
    pub header_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub policy_file: Option<PathBuf>,
    /// Drafts, promote and rollback in the state store (`INTENTGATE_POLICY_STORE`; `off`
    /// disables them and the policy file or the embedded default decides).
    pub policy_store: bool,
    pub policy_timeout_ms: u64,
    /// `INTENTGATE_APPROVAL_QUEUE`: escalated calls wait in the state store's approvals queue
    /// (`false`: `off`, escalations refused with −31004).
    pub approval_queue: bool,
    /// `INTENTGATE_APPROVAL_TIMEOUT`: seconds an escalated call waits for a decision.
    pub approval_timeout_secs: u64,
    pub extractor: ExtractorSetting,
    /// The longest igd waits for the intent sidecar, connection included.
    pub extractor_timeout_ms: u64,
    pub audit_persist_arg_values: ArgPersistence,
    pub audit_sync: AuditSync,
    pub audit_unauth_rps: u32,
    pub audit_unauth_max_rows: u64,
    pub audit_unauth_max_bytes: u64,
    pub audit_export_max_rows: u64,
    pub audit_signing_key: Option<PathBuf>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub budgets: Vec<BudgetRule>,
    pub tool_costs: BTreeMap<String, u64>,
    /// `/metrics`, the audit fan-out sinks, OTLP traces (DESIGN §8).
    pub ops: crate::ops_settings::OpsSettings,
}

/// Keys igd knows, lower-case without the prefix. Secrets are marked.
const KEYS: &[(&str, bool)] = &[
    ("listen", false),
    ("tls_cert", false),
    ("tls_key", false),
    ("data_dir", false),
    ("postgres_url", true),
    ("postgres_pool_size", false),
    ("postgres_statement_timeout_ms", false),
    ("master_key", true),
    ("master_keys_retired", true),
    ("max_token_ttl", false),
    ("admin_socket", false),
    ("admin_listen", false),
    ("admin_tls_cert", false),
    ("admin_tls_key", false),
    ("admin_client_ca", false),
    ("admin_token", true),
    ("tenant_admins", true),
    ("admin_token_step_up", false),
    ("admin_uids", false),
    ("upstream_url", false),
    ("upstream_timeout_ms", false),
    ("upstream_headers", true),
    ("session_idle_timeout", false),
    ("session_ops_per_minute", false),
    ("deployment_id", false),
    ("allowed_origins", false),
    ("trusted_proxies", false),
    ("forward_methods", false),
    ("max_body_bytes", false),
    ("max_upstream_response_bytes", false),
    ("header_timeout_ms", false),
    ("body_timeout_ms", false),
    ("idle_timeout_ms", false),
    ("max_connections", false),
    ("max_connections_per_address", false),
    ("policy_file", false),
    ("policy_store", false),
    ("policy_timeout_ms", false),
    ("extractor", false),
    ("extractor_timeout_ms", false),
    ("approval_queue", false),
    ("approval_timeout", false),
    ("audit_persist_arg_values", false),
    ("audit_sync", false),
    ("audit_signing_key", false),
    ("audit_export_max_rows", false),
    ("audit_unauth_rps", false),
    ("audit_unauth_max_rows", false),
    ("audit_unauth_max_bytes", false),
    ("totp_encryption_key", true),
];

/// Settings named without the `INTENTGATE_` prefix (also valid as igd.toml keys).
const UNPREFIXED: &[&str] = &["log_level", "log_format"];

/// Every `INTENTGATE_*` key (this file's and the operations settings').
fn prefixed_keys() -> impl Iterator<Item = (&'static str, bool)> {
    KEYS.iter().chain(crate::ops_settings::KEYS.iter()).copied()
}

fn is_unprefixed(key: &str) -> bool {
    UNPREFIXED.contains(&key) || crate::ops_settings::UNPREFIXED.contains(&key)
}

/// Settings this build parses but does not implement, with the values that mean "not used"
/// (compared case-insensitively) and what to do instead. Any other value is refused with exit
/// 64 rather than accepted and ignored (DESIGN §9). A setting leaves this list with the work that
/// implements it.
const NOT_IMPLEMENTED: &[(&str, &[&str], &str)] = &[];

/// Environment variables outside the `INTENTGATE_` prefix that name a feature this build does
/// not have.
const FOREIGN_NOT_IMPLEMENTED: &[(&str, &str)] = &[];

pub(crate) fn env_name(key: &str) -> String {
    if is_unprefixed(key) {
        key.to_ascii_uppercase()
    } else {
        format!("INTENTGATE_{}", key.to_ascii_uppercase())
    }
}

/// Where settings come from; the real process environment, or a map in tests.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable name set (to refuse unknown `INTENTGATE_*` ones).
    fn names(&self) -> Vec<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy)]
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn names(&self) -> Vec<String> {
        std::env::vars_os()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

/// Raw string values gathered from the file and the environment, before typing.
struct Sources {
    values: BTreeMap<String, String>,
    budgets: Vec<BudgetRule>,
    tool_costs: BTreeMap<String, u64>,
}

impl Settings {
    /// Load settings. `config_file` = `None` reads the default path if it exists; a named file
    /// must exist.
    pub fn load(
        config_file: Option<&Path>,
        env: &dyn Environment,
    ) -> Result<Settings, ConfigError> {
        let mut sources = Sources {
            values: BTreeMap::new(),
            budgets: Vec::new(),
            tool_costs: BTreeMap::new(),
        };
        let path = config_file.map(Path::to_path_buf).or_else(|| {
            let p = PathBuf::from(DEFAULT_CONFIG_FILE);
            p.exists().then_some(p)
        });
        if let Some(path) = path {
            sources.read_file(&path)?;
        }
        refuse_unknown_variables(env)?;
        for (key, secret) in all_keys() {
            let name = env_name(key);
            if let Some(v) = env.var(&name) {
                sources.values.insert(key.to_string(), v);
                continue;
            }
            if !secret {
                continue;
            }
            if let Some(file) = env.var(&format!("{name}_FILE")) {
                let v = std::fs::read_to_string(&file).map_err(|e| {
                    ConfigError::new(key, format!("cannot read {name}_FILE {file}: {e}"))
                })?;
                sources
                    .values
                    .insert(key.to_string(), v.trim_end().to_string());
                continue;
            }
            if let Some(dir) = env.var("CREDENTIALS_DIRECTORY") {
                let p = Path::new(&dir).join(key);
                if let Ok(v) = std::fs::read_to_string(&p) {
                    sources
                        .values
                        .insert(key.to_string(), v.trim_end().to_string());
                }
            }
        }
        let default_data_dir = env
            .var("STATE_DIRECTORY")
            .map(|s| s.split(':').next().unwrap_or_default().to_string())
            .unwrap_or_else(|| "./intentgate-data".to_string());
        sources.refuse_unimplemented(env)?;
        sources.build(&default_data_dir)
    }

    /// True when igd runs on its embedded SQLite store.
    pub fn embedded(&self) -> bool {
        self.postgres_url.is_none()
    }
}

/// Every key igd reads, with whether it is a secret.
fn all_keys() -> impl Iterator<Item = (&'static str, bool)> {
    prefixed_keys().chain(
        UNPREFIXED
            .iter()
            .chain(crate::ops_settings::UNPREFIXED.iter())
            .map(|k| (*k, false)),
    )
}

/// An `INTENTGATE_*` variable igd does not know (a typo, or a setting of another build) would be
/// ignored: refuse it instead, naming it.
fn refuse_unknown_variables(env: &dyn Environment) -> Result<(), ConfigError> {
    let mut names = env.names();
    names.sort();
    for name in names {
        // OpenTelemetry's own variables: igd reads the endpoint and the protocol; any other
        // (headers, a per-signal endpoint, a sampler) would be ignored, so it is refused.
        if name.starts_with("OTEL_")
            && !crate::ops_settings::UNPREFIXED
                .iter()
                .any(|k| k.eq_ignore_ascii_case(&name))
            && env.var(&name).is_some_and(|v| !v.trim().is_empty())
        {
            return Err(ConfigError {
                variable: name,
                message: "igd does not read this OpenTelemetry variable (only OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL=http/json); unset it".into(),
            });
        }
        let Some(rest) = name.strip_prefix("INTENTGATE_") else {
            continue;
        };
        let key = rest.strip_suffix("_FILE");
        let known = prefixed_keys().any(|(k, secret)| {
            k.eq_ignore_ascii_case(rest)
                || (secret && key.is_some_and(|f| k.eq_ignore_ascii_case(f)))
        });
        if !known {
            let hint = if rest.starts_with("SIEM_") {
                "unknown SIEM setting; see README.md (Splunk, Datadog and Sentinel settings)"
            } else if key.is_some() {
                "unknown setting (only secrets have a _FILE form); see README.md for every variable"
            } else {
                "unknown setting; see README.md for every variable"
            };
            return Err(ConfigError {
                variable: name,
                message: hint.to_string(),
            });
        }
    }
    Ok(())
}

impl crate::ops_settings::Values for Sources {
    fn get(&self, key: &str) -> Option<&str> {
        Sources::get(self, key)
    }
}

impl Sources {
    /// Refuse settings this build does not implement unless they say "not used".
    fn refuse_unimplemented(&self, env: &dyn Environment) -> Result<(), ConfigError> {
        for (key, accepted, message) in NOT_IMPLEMENTED {
            if let Some(v) = self.get(key) {
                let v = v.trim();
                if !accepted.iter().any(|a| a.eq_ignore_ascii_case(v)) {
                    return Err(ConfigError::new(key, *message));
                }
            }
        }
        for (name, message) in FOREIGN_NOT_IMPLEMENTED {
            if env.var(name).is_some_and(|v| !v.trim().is_empty()) {
                return Err(ConfigError {
                    variable: (*name).to_string(),
                    message: (*message).to_string(),
                });
            }
        }
        Ok(())
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            variable: "--config".into(),
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        let table: toml::Table = text.parse().map_err(|e| ConfigError {
            variable: "--config".into(),
            message: format!("{} is not valid TOML: {e}", path.display()),
        })?;
        for (key, value) in table {
            match key.as_str() {
                "budget" => {
                    self.budgets = value.try_into().map_err(|e| ConfigError {
                        variable: "budget".into(),
                        message: format!("[[budget]] entries: {e}"),
                    })?;
                }
                "tool_costs" => {
                    self.tool_costs = value.try_into().map_err(|e| ConfigError {
                        variable: "tool_costs".into(),
                        message: format!("[tool_costs] must map tool names to integers: {e}"),
                    })?;
                }
                k if all_keys().any(|(name, _)| name == k) => {
                    let text = match value {
                        toml::Value::String(s) => s,
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        toml::Value::Array(items) => items
                            .iter()
                            .map(|v| match v {
                                toml::Value::String(s) => s.clone(),
                                toml::Value::Integer(i) => i.to_string(),
                                other => format!("{other:?}"),
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                        other => {
                            return Err(ConfigError {
                                variable: k.to_string(),
                                message: format!("unsupported value {other:?}"),
                            })
                        }
                    };
                    self.values.insert(k.to_string(), text);
                }
                other => {
                    return Err(ConfigError {
                        variable: other.to_string(),
                        message: format!("unknown setting in {}", path.display()),
                    })
                }
            }
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    fn number<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ConfigError::new(key, format!("{v:?} is not a valid number"))),
        }
    }

    /// A number within `min..=max`; a time setting beyond any sane value would overflow the
    /// clock arithmetic it feeds (a panic in a request task), so it is refused at start.
    fn number_in(&self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
        let v = self.number(key, default)?;
        if v < min || v > max {
            return Err(ConfigError::new(
                key,
                format!("{v} is out of range: must be between {min} and {max}"),
            ));
        }
        Ok(v)
    }

    /// `INTENTGATE_FORWARD_METHODS`: only the families DESIGN §2 lets through (`resources/*`,
    /// `prompts/*`, `completion/*`, or one method of them); anything else would be accepted and
    /// do nothing (`*`, `tools/*`), so it is refused.
    fn forward_methods(&self) -> Result<Vec<String>, ConfigError> {
        let methods = self.list("forward_methods");
        for m in &methods {
            let ok = m.split_once('/').is_some_and(|(family, rest)| {
                matches!(family, "resources" | "prompts" | "completion")
                    && !rest.is_empty()
                    && (rest == "*"
                        || rest.split('/').all(|seg| {
                            !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric())
                        }))
            });
            if !ok {
                return Err(ConfigError::new(
                    "forward_methods",
                    format!(
                        "{m:?} is not a resources/, prompts/ or completion/ method or family (e.g. resources/*, prompts/get)"
                    ),
                ));
            }
        }
        Ok(methods)
    }

    /// `INTENTGATE_POLICY_STORE`: unset or `state` keeps drafts and the active pointer in the
    /// state store (SQLite or PostgreSQL, whichever igd uses); `off` disables the policy store.
    fn policy_store(&self) -> Result<bool, ConfigError> {
        match self.get("policy_store").map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(true),
            Some(v) if v == "state" => Ok(true),
            Some(v) if v == "off" => Ok(false),
            Some(v) => Err(ConfigError::new(
                "policy_store",
                format!("{v:?} is not supported: leave it unset (or state) to keep policies in the state store, or set off"),
            )),
        }
    }

    /// `INTENTGATE_APPROVAL_QUEUE`: unset or `state` keeps the queue in the state store;
    /// `off` refuses escalations (−31004, "approvals queue not enabled").
    fn approval_queue(&self) -> Result<bool, ConfigError> {
        match self.get("approval_queue").map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(true),
            Some(v) if v == "state" => Ok(true),
            Some(v) if v == "off" => Ok(false),
            Some(v) => Err(ConfigError::new(
                "approval_queue",
                format!("{v:?} is not supported: leave it unset (or state) to keep the queue in the state store, or set off"),
            )),
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|s| s.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "on" | "true" | "1" | "yes" => Ok(true),
                "off" | "false" | "0" | "no" => Ok(false),
                _ => Err(ConfigError::new(key, format!("{v:?} must be on or off"))),
            },
        }
    }

    fn list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn secret(&self, key: &str) -> Option<Secret> {
        self.get(key).map(|s| Secret::new(s.to_string()))
    }

    /// The TOTP sealing key: 64 hex characters or at least 32 bytes, like the master key.
    fn totp_encryption_key(&self) -> Result<Option<Secret>, ConfigError> {
        let Some(value) = self.secret("totp_encryption_key") else {
            return Ok(None);
        };
        crate::totp::SealingKey::from_configured(value.expose())
            .map_err(|e| ConfigError::new("totp_encryption_key", e.to_string()))?;
        Ok(Some(value))
    }

    /// The agent listener's certificate and key: both or neither, never set but empty.
    fn tls_files(&self) -> Result<(Option<PathBuf>, Option<PathBuf>), ConfigError> {
        for key in ["tls_cert", "tls_key"] {
            // Set to nothing would silently mean plain HTTP.
            if self.values.get(key).is_some_and(|v| v.trim().is_empty()) {
                return Err(ConfigError::new(
                    key,
                    "is set but empty (unset it to serve plain HTTP)",
                ));
            }
        }
        let tls_cert = self.get("tls_cert").map(PathBuf::from);
        let tls_key = self.get("tls_key").map(PathBuf::from);
        if tls_cert.is_some() != tls_key.is_some() {
            return Err(ConfigError::new(
                "tls_cert",
                "INTENTGATE_TLS_CERT and INTENTGATE_TLS_KEY must be set together",
            ));
        }
        Ok((tls_cert, tls_key))
    }

    /// The mTLS admin listener: `INTENTGATE_ADMIN_LISTEN` and its certificate, key and client
    /// CA, all four or none (a file without the listener would be ignored; set but empty would
    /// silently mean no listener). The files are read when the listener is built (at start and
    /// by `igd check-config`).
    #[allow(clippy::type_complexity)]
    fn admin_listener(
        &self,
    ) -> Result<
        (
            Option<SocketAddr>,
            Option<PathBuf>,
            Option<PathBuf>,
            Option<PathBuf>,
        ),
        ConfigError,
    > {
        const FILES: [&str; 3] = ["admin_tls_cert", "admin_tls_key", "admin_client_ca"];
        for key in ["admin_listen"].iter().chain(FILES.iter()) {
            if self.values.get(*key).is_some_and(|v| v.trim().is_empty()) {
                return Err(ConfigError::new(
                    key,
                    "is set but empty (unset it: no mTLS admin listener)",
                ));
            }
        }
        let Some(text) = self.get("admin_listen").map(str::trim) else {
            if let Some(key) = FILES.iter().find(|k| self.get(k).is_some()) {
                return Err(ConfigError::new(
                    key,
                    "is set but INTENTGATE_ADMIN_LISTEN is not: set the listener's host:port too, or unset it",
                ));
            }
            return Ok((None, None, None, None));
        };
        let addr: SocketAddr = text
            .parse()
            .map_err(|_| ConfigError::new("admin_listen", format!("{text:?} is not host:port")))?;
        for key in FILES {
            if self.get(key).is_none() {
                return Err(ConfigError::new(
                    key,
                    "required when INTENTGATE_ADMIN_LISTEN is set (the admin listener is mTLS \
                     only: INTENTGATE_ADMIN_TLS_CERT, INTENTGATE_ADMIN_TLS_KEY and \
                     INTENTGATE_ADMIN_CLIENT_CA)",
                ));
            }
        }
        let file = |key: &str| self.get(key).map(PathBuf::from);
        Ok((
            Some(addr),
            file("admin_tls_cert"),
            file("admin_tls_key"),
            file("admin_client_ca"),
        ))
    }

    /// The global admin bearer token and the per-tenant ones, each at least 32 bytes.
    #[allow(clippy::type_complexity)]
    fn admin_tokens(&self) -> Result<(Option<Secret>, Vec<(String, Secret)>), ConfigError> {
        let admin_token = self.secret("admin_token");
        if let Some(t) = &admin_token {
            if t.expose().len() < 32 {
                return Err(ConfigError::new("admin_token", "must be at least 32 bytes"));
            }
        }
        let mut tenant_admins = Vec::new();
        for item in self.list("tenant_admins") {
            let (tenant, token) = item
                .split_once(':')
                .ok_or_else(|| ConfigError::new("tenant_admins", "entries must be tenant:token"))?;
            if !intentgate_proto::ids::valid_tenant(tenant) {
                return Err(ConfigError::new(
                    "tenant_admins",
                    format!("{tenant:?} is not a valid tenant name"),
                ));
            }
            if token.len() < 32 {
                return Err(ConfigError::new(
                    "tenant_admins",
                    format!("the token for tenant {tenant} must be at least 32 bytes"),
                ));
            }
            tenant_admins.push((tenant.to_string(), Secret::new(token.to_string())));
        }
        Ok((admin_token, tenant_admins))
    }

    /// The upstream URL (http(s):// or `stub`) and the headers igd sends it.
    #[allow(clippy::type_complexity)]
    fn upstream(&self) -> Result<(Option<String>, Vec<(String, Secret)>), ConfigError> {
        let mut upstream_headers = Vec::new();
        if let Some(raw) = self.get("upstream_headers") {
            let map: BTreeMap<String, String> = serde_json::from_str(raw).map_err(|_| {
                ConfigError::new(
                    "upstream_headers",
                    "must be a JSON object of header names to string values",
                )
            })?;
            for (name, value) in map {
                if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                    || hyper::header::HeaderValue::from_str(&value).is_err()
                {
                    return Err(ConfigError::new(
                        "upstream_headers",
                        format!("header {name:?} is not a valid HTTP header"),
                    ));
                }
                upstream_headers.push((name, Secret::new(value)));
            }
        }
        let upstream_url = self.get("upstream_url").map(String::from);
        if let Some(url) = &upstream_url {
            if url != "stub" && !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(ConfigError::new(
                    "upstream_url",
                    "must be an http:// or https:// URL, or stub",
                ));
            }
        }
        Ok((upstream_url, upstream_headers))
    }

    /// `INTENTGATE_EXTRACTOR`: `off` (the default), `rules:<file>` or `http:<url>` (a bare
    /// `http://…` URL is taken as `http:` with that URL). The rules file is read, and the URL
    /// checked, when the extractor is built (at start and by `igd check-config`).
    fn extractor(&self) -> Result<ExtractorSetting, ConfigError> {
        let Some(value) = self.get("extractor").map(str::trim) else {
            return Ok(ExtractorSetting::Off);
        };
        if value.eq_ignore_ascii_case("off") {
            return Ok(ExtractorSetting::Off);
        }
        if let Some(path) = value.strip_prefix("rules:") {
            if path.is_empty() {
                return Err(ConfigError::new(
                    "extractor",
                    "rules: needs a file (rules:/etc/intentgate/intent-rules.toml)",
                ));
            }
            return Ok(ExtractorSetting::Rules(PathBuf::from(path)));
        }
        let url = match value.strip_prefix("http:") {
            Some(rest) if rest.starts_with("http://") || rest.starts_with("https://") => rest,
            Some(_) => value,
            // Refused below with the reason.
            None if value.starts_with("https://") => value,
            None => {
                return Err(ConfigError::new(
                    "extractor",
                    format!("{value:?} must be off, rules:<file> or http:<url> (e.g. http:http://127.0.0.1:9100/intent)"),
                ))
            }
        };
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| ConfigError::new("extractor", format!("{url:?} is not a URL")))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(ConfigError::new(
                "extractor",
                format!("{url:?}: the sidecar must be an http:// URL with a host (https:// is not supported in this build: run the sidecar on loopback)"),
            ));
        }
        Ok(ExtractorSetting::Http(url.to_string()))
    }

    /// `LOG_LEVEL` (a level or filter directive) and `LOG_FORMAT` (pretty on a terminal).
    fn logging(&self) -> Result<(String, LogFormat), ConfigError> {
        let log_level = self.get("log_level").unwrap_or("info").to_string();
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            return Err(ConfigError::new(
                "log_level",
                format!("{log_level:?} is not a level (error, warn, info, debug, trace) or a filter directive"),
            ));
        }
        let log_format = match self
            .get("log_format")
            .map(|s| s.trim().to_ascii_lowercase())
        {
            None => {
                use std::io::IsTerminal;
                if std::io::stdout().is_terminal() {
                    LogFormat::Pretty
                } else {
                    LogFormat::Json
                }
            }
            Some(v) if v == "json" => LogFormat::Json,
            Some(v) if v == "pretty" => LogFormat::Pretty,
            Some(v) => {
                return Err(ConfigError::new(
                    "log_format",
                    format!("{v:?} must be json or pretty"),
                ))
            }
        };
        Ok((log_level, log_format))
    }

    /// A list whose every item parses as `T` (`what` names it in the error).
    fn parsed_list<T: std::str::FromStr>(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Vec<T>, ConfigError> {
        self.list(key)
            .into_iter()
            .map(|item| {
                item.parse()
                    .map_err(|_| ConfigError::new(key, format!("{item:?} is not {what}")))
            })
            .collect()
    }

    /// One of `options` by name; the first is the default.
    fn choice<T: Copy>(&self, key: &str, options: &[(&str, T)]) -> Result<T, ConfigError> {
        let Some(value) = self.get(key) else {
            return Ok(options[0].1);
        };
        match options.iter().find(|(name, _)| *name == value) {
            Some((_, v)) => Ok(*v),
            None => {
                let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                let (last, rest) = names.split_last().unwrap_or((&"", &[]));
                Err(ConfigError::new(
                    key,
                    format!("{value:?} must be {} or {last}", rest.join(", ")),
                ))
            }
        }
    }

    /// A number no smaller than `min` ("must be positive" for 1, else "must be at least").
    fn at_least<T>(&self, key: &str, default: T, min: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Copy + fmt::Display,
    {
        let v = self.number(key, default)?;
        if v < min {
            let message = if min.to_string() == "1" {
                "must be positive".to_string()
            } else {
                format!("must be at least {min}")
            };
            return Err(ConfigError::new(key, message));
        }
        Ok(v)
    }

    fn build(self, default_data_dir: &str) -> Result<Settings, ConfigError> {
        let listen_text = self.get("listen").unwrap_or("127.0.0.1:8080");
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| ConfigError::new("listen", format!("{listen_text:?} is not host:port")))?;
        let data_dir = PathBuf::from(self.get("data_dir").unwrap_or(default_data_dir));
        let admin_socket = self
            .get("admin_socket")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("admin.sock"));
        let (tls_cert, tls_key) = self.tls_files()?;
        let (admin_listen, admin_tls_cert, admin_tls_key, admin_client_ca) =
            self.admin_listener()?;
        let (admin_token, tenant_admins) = self.admin_tokens()?;
        if (admin_token.is_some() || !tenant_admins.is_empty())
            && !listen.ip().is_loopback()
            && tls_cert.is_none()
        {
            return Err(ConfigError::new(
                "admin_token",
                "a bearer admin token on a non-loopback listener requires TLS (INTENTGATE_TLS_CERT)",
            ));
        }
        let admin_uids = self.parsed_list("admin_uids", "a uid")?;
        let (upstream_url, upstream_headers) = self.upstream()?;
        let trusted_proxies = self.parsed_list("trusted_proxies", "an IP address")?;
        if let Some(id) = self.get("deployment_id") {
            if !intentgate_proto::ids::valid_tenant(id) {
                return Err(ConfigError::new(
                    "deployment_id",
                    "must match [a-z0-9][a-z0-9-]{0,62}",
                ));
            }
        }
        let audit_persist_arg_values = self.choice(
            "audit_persist_arg_values",
            &[
                ("off", ArgPersistence::Off),
                ("scalars", ArgPersistence::Scalars),
                ("raw", ArgPersistence::Raw),
            ],
        )?;
        let audit_sync = self.choice(
            "audit_sync",
            &[("normal", AuditSync::Normal), ("full", AuditSync::Full)],
        )?;
        let max_token_ttl = self.at_least("max_token_ttl", 30 * 24 * 3600u64, 1)?;
        let max_body_bytes = self.at_least("max_body_bytes", 1_048_576usize, 1024)?;
        let session_ops_per_minute = self.at_least("session_ops_per_minute", 60u32, 1)?;
        let max_upstream_response_bytes =
            self.at_least("max_upstream_response_bytes", 16_777_216usize, 1024)?;
        let header_timeout_ms = self.at_least("header_timeout_ms", 10_000u64, 1)?;
        let body_timeout_ms = self.at_least("body_timeout_ms", 30_000u64, 1)?;
        let idle_timeout_ms = self.at_least("idle_timeout_ms", 75_000u64, 1)?;
        let max_connections = self.at_least("max_connections", 4096u64, 1)?;
        let max_connections_per_address =
            self.at_least("max_connections_per_address", 256u64, 1)?;
        for rule in &self.budgets {
            if !intentgate_proto::ids::valid_tenant(&rule.tenant) {
                return Err(ConfigError {
                    variable: "budget".into(),
                    message: format!("tenant {:?} is not a valid tenant name", rule.tenant),
                });
            }
        }
        let (log_level, log_format) = self.logging()?;
        let ops = crate::ops_settings::parse(&self)?;
        Ok(Settings {
            ops,
            listen,
            tls_cert,
            tls_key,
            postgres_url: self.secret("postgres_url"),
            postgres_pool_size: self.number_in("postgres_pool_size", 16, 1, 1000)? as u32,
            postgres_statement_timeout_ms: self.number_in(
                "postgres_statement_timeout_ms",
                5000,
                100,
                600_000,
            )?,
            master_key: self.secret("master_key"),
            master_keys_retired: self
                .list("master_keys_retired")
                .into_iter()
                .map(Secret::new)
                .collect(),
            max_token_ttl,
            admin_socket,
            admin_listen,
            admin_tls_cert,
            admin_tls_key,
            admin_client_ca,
            admin_token,
            tenant_admins,
            admin_token_step_up: self.flag("admin_token_step_up", true)?,
            totp_encryption_key: self.totp_encryption_key()?,
            admin_uids,
            upstream_url,
            upstream_timeout_ms: self.number_in("upstream_timeout_ms", 5000, 1, 3_600_000)?,
            upstream_headers,
            session_idle_timeout: self.number_in("session_idle_timeout", 3600, 1, 30 * 86_400)?,
            session_ops_per_minute,
            deployment_id: self.get("deployment_id").map(String::from),
            allowed_origins: self.list("allowed_origins"),
            trusted_proxies,
            forward_methods: self.forward_methods()?,
            max_body_bytes,
            max_upstream_response_bytes,
            header_timeout_ms,
            body_timeout_ms,
            idle_timeout_ms,
            max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
            max_connections_per_address: usize::try_from(max_connections_per_address)
                .unwrap_or(usize::MAX),
            policy_file: self.get("policy_file").map(PathBuf::from),
            policy_store: self.policy_store()?,
            approval_queue: self.approval_queue()?,
            approval_timeout_secs: self.number_in("approval_timeout", 600, 1, 86_400)?,
            policy_timeout_ms: self.number_in("policy_timeout_ms", 50, 1, 60_000)?,
            extractor: self.extractor()?,
            extractor_timeout_ms: self.number_in("extractor_timeout_ms", 200, 1, 60_000)?,
            audit_persist_arg_values,
            audit_sync,
            audit_unauth_rps: self.number("audit_unauth_rps", 100u32)?,
            audit_unauth_max_rows: self.number("audit_unauth_max_rows", 1_000_000u64)?,
            audit_unauth_max_bytes: self.number("audit_unauth_max_bytes", 1u64 << 30)?,
            audit_export_max_rows: self.number("audit_export_max_rows", 200_000u64)?,
            audit_signing_key: self.get("audit_signing_key").map(PathBuf::from),
            log_level,
            log_format,
            budgets: self.budgets,
            tool_costs: self.tool_costs,
            data_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults() {
        let s = Settings::load(None, &env(&[])).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.data_dir, PathBuf::from("./intentgate-data"));
        assert_eq!(
            s.admin_socket,
            PathBuf::from("./intentgate-data/admin.sock")
        );
        assert_eq!(s.max_token_ttl, 2_592_000);
        assert!(s.embedded());
        assert_eq!(
            (
                s.header_timeout_ms,
                s.max_connections,
                s.max_connections_per_address
            ),
            (10_000, 4096, 256)
        );
    }

    #[test]
    fn env_overrides_file_and_file_overrides_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("igd.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9001\"\nmax_token_ttl = 60\n[tool_costs]\nsend = 3\n",
        )
        .unwrap();
        let s = Settings::load(Some(&path), &env(&[("INTENTGATE_MAX_TOKEN_TTL", "120")])).unwrap();
        assert_eq!(s.listen.port(), 9001);
        assert_eq!(s.max_token_ttl, 120);
        assert_eq!(s.tool_costs.get("send"), Some(&3));
    }

    #[test]
    fn secrets_precedence_variable_file_credential() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("admin_token"), "c".repeat(40)).unwrap();
        let file = dir.path().join("tok");
        std::fs::write(&file, format!("{}\n", "f".repeat(40))).unwrap();
        let creds = dir.path().to_str().unwrap();
        let file = file.to_str().unwrap();
        let s = Settings::load(None, &env(&[("CREDENTIALS_DIRECTORY", creds)])).unwrap();
        assert_eq!(s.admin_token.unwrap().expose(), "c".repeat(40));
        let s = Settings::load(
            None,
            &env(&[
                ("CREDENTIALS_DIRECTORY", creds),
                ("INTENTGATE_ADMIN_TOKEN_FILE", file),
            ]),
        )
        .unwrap();
        assert_eq!(s.admin_token.unwrap().expose(), "f".repeat(40));
        let v = "v".repeat(40);
        let s = Settings::load(
            None,
            &env(&[
                ("CREDENTIALS_DIRECTORY", creds),
                ("INTENTGATE_ADMIN_TOKEN_FILE", file),
                ("INTENTGATE_ADMIN_TOKEN", &v),
            ]),
        )
        .unwrap();
        assert_eq!(s.admin_token.unwrap().expose(), v);
    }

    #[test]
    fn errors_name_the_variable() {
        let e = Settings::load(None, &env(&[("INTENTGATE_ADMIN_TOKEN", "short")])).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_ADMIN_TOKEN");
        let e = Settings::load(None, &env(&[("INTENTGATE_LISTEN", "nope")])).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_LISTEN");
        let e = Settings::load(
            None,
            &env(&[
                ("INTENTGATE_LISTEN", "0.0.0.0:8080"),
                ("INTENTGATE_ADMIN_TOKEN", &"x".repeat(32)),
            ]),
        )
        .unwrap_err();
        assert!(e.message.contains("TLS"), "{e}");
        let e = Settings::load(None, &env(&[("INTENTGATE_AUDIT_SYNC", "always")])).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_AUDIT_SYNC");
        for (var, value) in [
            ("INTENTGATE_SESSION_OPS_PER_MINUTE", "0"),
            ("INTENTGATE_MAX_UPSTREAM_RESPONSE_BYTES", "100"),
            ("INTENTGATE_MAX_UPSTREAM_RESPONSE_BYTES", "lots"),
        ] {
            let e = Settings::load(None, &env(&[(var, value)])).unwrap_err();
            assert_eq!(e.variable, var);
        }
        for var in [
            "INTENTGATE_HEADER_TIMEOUT_MS",
            "INTENTGATE_BODY_TIMEOUT_MS",
            "INTENTGATE_IDLE_TIMEOUT_MS",
            "INTENTGATE_MAX_CONNECTIONS",
            "INTENTGATE_MAX_CONNECTIONS_PER_ADDRESS",
        ] {
            for bad in ["0", "ten"] {
                let e = Settings::load(None, &env(&[(var, bad)])).unwrap_err();
                assert_eq!(e.variable, var, "{bad}");
            }
        }
    }

    #[test]
    fn unimplemented_settings_are_refused_unless_off() {
        for (var, value) in [
            ("INTENTGATE_APPROVAL_QUEUE", "redis"),
            ("INTENTGATE_POLICY_STORE", "redis"),
            ("INTENTGATE_METRICS_ENABLED", "sometimes"),
            ("INTENTGATE_METRICS_LISTEN", "127.0.0.1:9090"),
            ("INTENTGATE_SIEM_EVENTS", "all"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer x"),
            (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://127.0.0.1:4318/v1/traces",
            ),
            ("INTENTGATE_NO_SUCH_THING", "1"),
            ("INTENTGATE_MAX_BODY_BYTES_FILE", "/x"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x"),
        ] {
            let e = Settings::load(None, &env(&[(var, value)])).unwrap_err();
            assert_eq!(e.variable, var, "{e}");
        }
        // A sink's settings come together: the error names what is missing.
        for (var, value, named) in [
            (
                "INTENTGATE_WEBHOOK_URL",
                "https://x",
                "INTENTGATE_WEBHOOK_SECRET",
            ),
            (
                "INTENTGATE_SIEM_SPLUNK_TOKEN",
                "t",
                "INTENTGATE_SIEM_SPLUNK_URL",
            ),
            (
                "INTENTGATE_SIEM_SENTINEL_ENDPOINT",
                "https://x",
                "INTENTGATE_SIEM_SENTINEL_DCR_ID",
            ),
        ] {
            let e = Settings::load(None, &env(&[(var, value)])).unwrap_err();
            assert_eq!(e.variable, named, "{e}");
            assert!(e.message.contains(var), "{e}");
        }
        for (var, value) in [
            ("INTENTGATE_EXTRACTOR", "off"),
            ("INTENTGATE_APPROVAL_QUEUE", "Off"),
            ("INTENTGATE_APPROVAL_QUEUE", "state"),
            ("INTENTGATE_POLICY_STORE", "off"),
            ("INTENTGATE_POLICY_STORE", "state"),
            ("INTENTGATE_METRICS_ENABLED", "false"),
            ("INTENTGATE_METRICS_ENABLED", "true"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            ("INTENTGATE_EXTRACTOR", ""),
            (
                "INTENTGATE_ADMIN_TOKEN_FILE",
                "/nonexistent-but-only-read-when-set",
            ),
            ("UNRELATED", "x"),
        ] {
            let r = Settings::load(None, &env(&[(var, value)]));
            if var == "INTENTGATE_ADMIN_TOKEN_FILE" {
                // A known secret's _FILE form is not "unknown": it fails on reading instead.
                assert_eq!(r.unwrap_err().variable, "INTENTGATE_ADMIN_TOKEN");
            } else {
                r.unwrap();
            }
        }
    }

    #[test]
    fn extractor_values() {
        let load = |pairs: &[(&str, &str)]| Settings::load(None, &env(pairs));
        let s = load(&[]).unwrap();
        assert_eq!(
            (s.extractor, s.extractor_timeout_ms),
            (ExtractorSetting::Off, 200)
        );
        for (value, expect) in [
            ("off", ExtractorSetting::Off),
            ("OFF", ExtractorSetting::Off),
            (
                "rules:/etc/r.toml",
                ExtractorSetting::Rules("/etc/r.toml".into()),
            ),
            (
                "http:http://127.0.0.1:9/i",
                ExtractorSetting::Http("http://127.0.0.1:9/i".into()),
            ),
            (
                "http://127.0.0.1:9/i",
                ExtractorSetting::Http("http://127.0.0.1:9/i".into()),
            ),
        ] {
            let s = load(&[("INTENTGATE_EXTRACTOR", value)]).unwrap();
            assert_eq!(s.extractor, expect, "{value}");
        }
        for value in [
            "on",
            "rules:",
            "grpc://x",
            "http:",
            "http:https://127.0.0.1/i",
            "https://127.0.0.1/i",
            "http:http://",
            "http:http://a b/",
        ] {
            let e = load(&[("INTENTGATE_EXTRACTOR", value)]).unwrap_err();
            assert_eq!(e.variable, "INTENTGATE_EXTRACTOR", "{value}: {e}");
        }
        let s = load(&[("INTENTGATE_EXTRACTOR_TIMEOUT_MS", "1500")]).unwrap();
        assert_eq!(s.extractor_timeout_ms, 1500);
        for bad in ["0", "60001", "soon"] {
            let e = load(&[("INTENTGATE_EXTRACTOR_TIMEOUT_MS", bad)]).unwrap_err();
            assert_eq!(e.variable, "INTENTGATE_EXTRACTOR_TIMEOUT_MS", "{bad}");
        }
    }

    #[test]
    fn the_admin_listener_needs_its_certificate_key_and_client_ca() {
        let load = |pairs: &[(&str, &str)]| Settings::load(None, &env(pairs));
        let all = [
            ("INTENTGATE_ADMIN_LISTEN", "127.0.0.1:8443"),
            ("INTENTGATE_ADMIN_TLS_CERT", "/c.pem"),
            ("INTENTGATE_ADMIN_TLS_KEY", "/k.pem"),
            ("INTENTGATE_ADMIN_CLIENT_CA", "/ca.pem"),
        ];
        let s = load(&all).unwrap();
        assert_eq!(s.admin_listen.map(|a| a.port()), Some(8443));
        assert_eq!(s.admin_client_ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!(load(&[]).unwrap().admin_listen, None);
        // Each file missing is named.
        for missing in 1..4 {
            let some: Vec<(&str, &str)> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, p)| *p)
                .collect();
            let e = load(&some).unwrap_err();
            assert_eq!(e.variable, all[missing].0, "{e}");
            assert!(e.message.contains("INTENTGATE_ADMIN_LISTEN"), "{e}");
        }
        // A file without the listener, a bad address, an empty value.
        let e = load(&[("INTENTGATE_ADMIN_CLIENT_CA", "/ca.pem")]).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_ADMIN_CLIENT_CA");
        let e = load(&[("INTENTGATE_ADMIN_LISTEN", "8443")]).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_ADMIN_LISTEN");
        let e = load(&[("INTENTGATE_ADMIN_LISTEN", " ")]).unwrap_err();
        assert_eq!(e.variable, "INTENTGATE_ADMIN_LISTEN");
    }

    #[test]
    fn debug_never_shows_secrets() {
        let t = "t".repeat(40);
        let s = Settings::load(None, &env(&[("INTENTGATE_ADMIN_TOKEN", &t)])).unwrap();
        assert!(!format!("{s:?}").contains(&t));
    }

    #[test]
    fn time_settings_that_would_overflow_the_clock_are_refused() {
        for (var, value) in [
            ("INTENTGATE_UPSTREAM_TIMEOUT_MS", "18446744073709551615"),
            ("INTENTGATE_UPSTREAM_TIMEOUT_MS", "0"),
            ("INTENTGATE_SESSION_IDLE_TIMEOUT", "18446744073709551000"),
            ("INTENTGATE_SESSION_IDLE_TIMEOUT", "0"),
        ] {
            let err = Settings::load(None, &env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(var), "{var}={value}: {err}");
        }
        let s = Settings::load(
            None,
            &env(&[
                ("INTENTGATE_UPSTREAM_TIMEOUT_MS", "3600000"),
                ("INTENTGATE_SESSION_IDLE_TIMEOUT", "2592000"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (s.upstream_timeout_ms, s.session_idle_timeout),
            (3_600_000, 2_592_000)
        );
    }

    #[test]
    fn forward_methods_outside_the_forwardable_families_are_refused() {
        for value in [
            "*",
            "tools/*",
            "tools/call",
            "logging/setLevel",
            "resources/",
            "prompts/../x",
        ] {
            let err =
                Settings::load(None, &env(&[("INTENTGATE_FORWARD_METHODS", value)])).unwrap_err();
            assert!(
                err.to_string().contains("INTENTGATE_FORWARD_METHODS"),
                "{value}: {err}"
            );
        }
        let s = Settings::load(
            None,
            &env(&[(
                "INTENTGATE_FORWARD_METHODS",
                "resources/*,prompts/get,completion/complete,resources/templates/list",
            )]),
        )
        .unwrap();
        assert_eq!(s.forward_methods.len(), 4);
    }
}
