//! Talking to igd's admin API: over the Unix socket, over `https://` with a client certificate
//! (the mTLS admin listener: `--cert`/`--key`), or over HTTP(S) with a bearer (an operator API
//! token or the compatibility bearer). `https://` verifies igd's certificate against `--ca FILE`
//! (only that CA), else the system's root certificates.
//!
//! Connection precedence (DESIGN §7): flags > `IGCTL_SOCKET` / `IGCTL_URL` / `IGCTL_TOKEN` /
//! `IGCTL_CA` / `IGCTL_CERT` / `IGCTL_KEY` > credentials stored by `igctl login`
//! ([`crate::credentials`]) > `./intentgate-data/admin.sock` if present >
//! `/run/intentgate/admin.sock`. A socket and a URL named at the same level is a usage error.
//! A token, CA, certificate or key named at a higher level replaces the stored one.

use crate::error::CliError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use intentgate_proto::api::{ErrorBody, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The largest answer igctl reads into memory (streamed exports are not held).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the admin API is.
#[derive(Clone, PartialEq, Eq)]
pub enum Endpoint {
    Socket(PathBuf),
    /// `http://` or `https://`; `ca` (https only) replaces the system roots; `cert` and `key`
    /// (https only, both or neither) are the client certificate presented to the mTLS admin
    /// listener.
    Http {
        url: String,
        token: Option<String>,
        ca: Option<PathBuf>,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Socket(p) => write!(f, "Socket({})", p.display()),
            Endpoint::Http {
                url, ca, cert, key, ..
            } => {
                write!(
                    f,
                    "Http({url}, token: <redacted>, ca: {ca:?}, cert: {cert:?}, key: {key:?})"
                )
            }
        }
    }
}

/// What the user named on the command line and in the environment.
#[derive(Debug, Default, Clone)]
pub struct ConnectionArgs {
    pub socket: Option<PathBuf>,
    pub url: Option<String>,
    pub token: Option<String>,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// What an `http(s)://` endpoint is reached with, besides its URL.
#[derive(Default, Clone)]
pub struct HttpCredentials {
    pub token: Option<String>,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

impl std::fmt::Debug for HttpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCredentials")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish()
    }
}

/// Resolve the endpoint by precedence; `env` also locates the stored credentials
/// (`XDG_CONFIG_HOME`, `HOME`).
pub fn resolve(
    flags: &ConnectionArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint, CliError> {
    resolve_with(flags, env, &|| crate::credentials::load(env))
}

/// [`resolve`] with the `igctl login` level supplied by `stored` (asked only when neither the
/// flags nor the environment name a daemon).
pub fn resolve_with(
    flags: &ConnectionArgs,
    env: &dyn Fn(&str) -> Option<String>,
    stored: &dyn Fn() -> Result<Option<crate::credentials::Stored>, CliError>,
) -> Result<Endpoint, CliError> {
    if flags.socket.is_some() && flags.url.is_some() {
        return Err(CliError::usage(
            "--socket and --url name two daemons; give one",
        ));
    }
    if let Some(s) = &flags.socket {
        return Ok(Endpoint::Socket(s.clone()));
    }
    let var = |name: &str| env(name).filter(|v| !v.is_empty());
    let path_of =
        |flag: &Option<PathBuf>, name: &str| flag.clone().or_else(|| var(name).map(PathBuf::from));
    let named = HttpCredentials {
        token: flags.token.clone().or_else(|| var("IGCTL_TOKEN")),
        ca: path_of(&flags.ca, "IGCTL_CA"),
        cert: path_of(&flags.cert, "IGCTL_CERT"),
        key: path_of(&flags.key, "IGCTL_KEY"),
    };
    if let Some(url) = &flags.url {
        return http_endpoint(url, named);
    }
    match (var("IGCTL_SOCKET"), var("IGCTL_URL")) {
        (Some(_), Some(_)) => {
            return Err(CliError::usage(
                "IGCTL_SOCKET and IGCTL_URL are both set; unset one",
            ))
        }
        (Some(s), None) => return Ok(Endpoint::Socket(PathBuf::from(s))),
        (None, Some(u)) => return http_endpoint(&u, named),
        (None, None) => {}
    }
    if let Some(login) = stored()? {
        // What the flags or the environment name replaces what was stored.
        let creds = HttpCredentials {
            token: named.token.or(login.token),
            ca: named.ca.or(login.ca),
            cert: named.cert.or(login.cert),
            key: named.key.or(login.key),
        };
        return http_endpoint(&login.url, creds);
    }
    let local = PathBuf::from("./intentgate-data/admin.sock");
    if local.exists() {
        return Ok(Endpoint::Socket(local));
    }
    Ok(Endpoint::Socket(PathBuf::from(
        "/run/intentgate/admin.sock",
    )))
}

/// Check an `http(s)://` endpoint and what it is reached with.
pub fn http_endpoint(url: &str, creds: HttpCredentials) -> Result<Endpoint, CliError> {
    let HttpCredentials {
        token,
        ca,
        cert,
        key,
    } = creds;
    let target = Target::parse(url)?;
    match (&cert, &key) {
        (Some(_), None) => {
            return Err(CliError::usage(
                "--cert needs --key (IGCTL_KEY): the client certificate's private key",
            ))
        }
        (None, Some(_)) => {
            return Err(CliError::usage(
                "--key needs --cert (IGCTL_CERT): the client certificate",
            ))
        }
        _ => {}
    }
    if !target.tls {
        if cert.is_some() {
            return Err(CliError::usage(
                "--cert and --key present a client certificate over https:// only; this URL is http://",
            ));
        }
        if ca.is_some() {
            return Err(CliError::usage(
                "--ca verifies an https:// URL; this URL is http://",
            ));
        }
        // The bearer is a superadmin credential: never in clear text off this machine.
        if token.is_some() && !target.loopback() {
            return Err(CliError::usage(format!(
                "refusing to send the admin bearer in clear text to {}; use https://",
                target.host
            )));
        }
    }
    Ok(Endpoint::Http {
        url: url.trim_end_matches('/').to_string(),
        token,
        ca,
        cert,
        key,
    })
}

/// Scheme, host and port of an admin URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    tls: bool,
    /// Without brackets for IPv6 literals.
    host: String,
    port: u16,
    /// A path prefix in front of `/v1/admin/…`, when igd sits under one.
    prefix: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, CliError> {
        let bad = || {
            CliError::usage(format!(
                "--url {url:?} must be http://HOST:PORT or https://HOST:PORT"
            ))
        };
        let uri: hyper::Uri = url.parse().map_err(|_| bad())?;
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad()),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let prefix = uri.path().trim_end_matches('/').to_string();
        Ok(Target {
            tls,
            host,
            port,
            prefix,
        })
    }

    fn loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// The `Host` header value.
    fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A client certificate chain (leaf first) and its private key, checked to belong together.
/// Anything unreadable or unusable is a usage error naming the file.
#[allow(clippy::type_complexity)]
fn client_identity(
    cert: &Path,
    key: &Path,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<
    (
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
    CliError,
> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let pem = std::fs::read(cert)
        .map_err(|e| CliError::usage(format!("cannot read --cert {}: {e}", cert.display())))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            CliError::usage(format!(
                "--cert {} is not a PEM certificate file: {e}",
                cert.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(CliError::usage(format!(
            "--cert {} holds no PEM certificate",
            cert.display()
        )));
    }
    let key_pem = std::fs::read(key)
        .map_err(|e| CliError::usage(format!("cannot read --key {}: {e}", key.display())))?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        CliError::usage(format!(
            "--key {} is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            key.display()
        ))
    })?;
    let signer = provider
        .key_provider
        .load_private_key(key_der.clone_key())
        .map_err(|e| {
            CliError::usage(format!(
                "--key {}: unsupported private key: {e}",
                key.display()
            ))
        })?;
    let certified = rustls::sign::CertifiedKey::new(chain.clone(), signer);
    match certified.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(e) => {
            return Err(CliError::usage(format!(
                "--key {} does not belong to --cert {} ({e})",
                key.display(),
                cert.display()
            )))
        }
    }
    Ok((chain, key_der))
}

/// The TLS client configuration for `https://`: `ca` alone when given, else the system roots;
/// with `identity` (certificate, key) a client certificate for the mTLS admin listener.
fn tls_config(
    ca: Option<&Path>,
    identity: Option<(&Path, &Path)>,
) -> Result<Arc<rustls::ClientConfig>, CliError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The client's own files first: a typo in them is named before anything else is tried.
    let identity = match identity {
        Some((cert, key)) => Some(client_identity(cert, key, &provider)?),
        None => None,
    };
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                CliError::usage(format!("cannot read --ca {}: {e}", path.display()))
            })?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    CliError::usage(format!(
                        "--ca {} is not a PEM certificate file: {e}",
                        path.display()
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(CliError::usage(format!(
                    "--ca {} holds no usable certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(CliError::usage(
                    "no trusted root certificates found on this system; name igd's CA with --ca FILE",
                ));
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| CliError::new(ErrorCode::Internal, format!("TLS set-up failed: {e}")))?
        .with_root_certificates(roots);
    let mut config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| CliError::usage(format!("unusable --cert/--key: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A connected admin-API client.
#[derive(Clone)]
pub struct Client {
    endpoint: Endpoint,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// A TOTP code for a step-up action, sent as `X-IntentGate-TOTP` (never logged).
    step_up: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Client {
    /// A client for `endpoint`; for `https://` this loads the trusted roots now.
    pub fn new(endpoint: Endpoint) -> Result<Self, CliError> {
        let tls = match &endpoint {
            Endpoint::Http {
                url, ca, cert, key, ..
            } if Target::parse(url)?.tls => {
                let identity = cert.as_deref().zip(key.as_deref());
                Some(tls_config(ca.as_deref(), identity)?)
            }
            _ => None,
        };
        Ok(Client {
            endpoint,
            tls,
            step_up: None,
        })
    }

    /// Send `code` with every request as the step-up proof (`X-IntentGate-TOTP`).
    pub fn with_step_up(mut self, code: Option<String>) -> Self {
        self.step_up = code;
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Send a request and parse the JSON answer, mapping error envelopes to [`CliError`].
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, CliError> {
        let (status, bytes) = self.raw(method, path, body).await?;
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => CliError::new(e.error.code, e.error.message),
                Err(_) => CliError::new(
                    ErrorCode::from_status(status),
                    format!("igd answered HTTP {status}"),
                ),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            CliError::new(
                ErrorCode::Internal,
                format!("unexpected answer from igd: {e}"),
            )
        })
    }

    /// Send a request; return status and body.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<(u16, Bytes), CliError> {
        let resp = self.send(method, path, body).await?;
        let status = resp.status().as_u16();
        let bytes = read_answer(resp.into_body()).await?;
        Ok((status, bytes))
    }

    /// GET a streamed answer, handing each chunk to `sink` as it arrives. Returns the response
    /// headers' `(status, total rows, truncated)`.
    pub async fn stream(
        &self,
        path: &str,
        mut sink: impl FnMut(&[u8]) -> Result<(), CliError>,
        mut on_headers: impl FnMut(Option<u64>, bool),
    ) -> Result<(), CliError> {
        let resp = self.send(Method::GET, path, None::<&()>).await?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes = read_answer(resp.into_body()).await.unwrap_or_default();
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => CliError::new(e.error.code, e.error.message),
                Err(_) => CliError::new(
                    ErrorCode::from_status(status),
                    format!("igd answered HTTP {status}"),
                ),
            });
        }
        let total = resp
            .headers()
            .get("x-intentgate-total-rows")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let truncated = resp.headers().get("x-intentgate-truncated").is_some();
        on_headers(total, truncated);
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                CliError::new(
                    ErrorCode::Unreachable,
                    format!("connection to igd failed: {e}"),
                )
            })?;
            if let Ok(data) = frame.into_data() {
                sink(&data)?;
            }
        }
        Ok(())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, CliError> {
        let payload = match body {
            Some(b) => Bytes::from(serde_json::to_vec(b).map_err(|e| {
                CliError::new(ErrorCode::Internal, format!("cannot encode request: {e}"))
            })?),
            None => Bytes::new(),
        };
        let mut builder = Request::builder()
            .method(method)
            .header("content-type", "application/json");
        if let Some(code) = &self.step_up {
            builder = builder.header("x-intentgate-totp", code.as_str());
        }
        let io = match &self.endpoint {
            Endpoint::Socket(path_buf) => {
                builder = builder.uri(path).header("host", "localhost");
                let stream = tokio::net::UnixStream::connect(path_buf).await.map_err(|e| {
                    CliError::new(
                        ErrorCode::Unreachable,
                        format!(
                            "cannot reach igd at {}: {e} (is igd running? set --socket or IGCTL_SOCKET)",
                            path_buf.display()
                        ),
                    )
                })?;
                Io::Unix(stream)
            }
            Endpoint::Http { url, token, .. } => {
                let target = Target::parse(url)?;
                let authority = target.authority();
                builder = builder
                    .uri(format!("{}{path}", target.prefix))
                    .header("host", authority);
                if let Some(t) = token {
                    builder = builder.header("authorization", format!("Bearer {t}"));
                }
                let connect = async {
                    let stream =
                        tokio::net::TcpStream::connect((target.host.as_str(), target.port))
                            .await
                            .map_err(|e| {
                                CliError::new(
                                    ErrorCode::Unreachable,
                                    format!("cannot reach igd at {url}: {e}"),
                                )
                            })?;
                    let _ = stream.set_nodelay(true);
                    let Some(config) = &self.tls else {
                        return Ok(Io::Tcp(stream));
                    };
                    let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                        .map_err(|_| {
                            CliError::usage(format!(
                                "{:?} is not a valid TLS server name",
                                target.host
                            ))
                        })?;
                    let tls = tokio_rustls::TlsConnector::from(config.clone())
                        .connect(name, stream)
                        .await
                        .map_err(|e| {
                            CliError::new(
                                ErrorCode::Unreachable,
                                format!(
                                    "TLS handshake with igd at {url} failed: {e} (is igd's certificate signed by the CA given with --ca, and issued for {}?)",
                                    target.host
                                ),
                            )
                        })?;
                    Ok(Io::Tls(Box::new(tls)))
                };
                tokio::time::timeout(CONNECT_TIMEOUT, connect)
                    .await
                    .map_err(|_| {
                        CliError::new(
                            ErrorCode::Unreachable,
                            format!(
                                "cannot reach igd at {url}: no connection within {} s",
                                CONNECT_TIMEOUT.as_secs()
                            ),
                        )
                    })??
            }
        };
        let request = builder.body(Full::new(payload)).map_err(|e| {
            CliError::new(ErrorCode::Internal, format!("cannot build request: {e}"))
        })?;
        let exchange = async {
            match io {
                Io::Unix(s) => exchange(s, request).await,
                Io::Tcp(s) => exchange(s, request).await,
                Io::Tls(s) => exchange(*s, request).await,
            }
        };
        match tokio::time::timeout(Duration::from_secs(60), exchange).await {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => Err(CliError::new(
                ErrorCode::Unreachable,
                format!("connection to igd failed: {e}"),
            )),
            Err(_) => Err(CliError::new(
                ErrorCode::Unreachable,
                "igd did not answer within 60 s",
            )),
        }
    }
}

enum Io {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>),
}

/// Read a whole answer: at most [`MAX_ANSWER_BYTES`], within 60 s.
async fn read_answer(body: hyper::body::Incoming) -> Result<Bytes, CliError> {
    let limited = http_body_util::Limited::new(body, MAX_ANSWER_BYTES);
    match tokio::time::timeout(Duration::from_secs(60), limited.collect()).await {
        Err(_) => Err(CliError::new(
            ErrorCode::Unreachable,
            "igd did not finish its answer within 60 s",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(CliError::new(
            ErrorCode::Internal,
            format!(
                "igd's answer exceeds {} MiB; narrow the request (--limit, --tenant, a time range)",
                MAX_ANSWER_BYTES / (1024 * 1024)
            ),
        )),
        Ok(Err(e)) => Err(CliError::new(
            ErrorCode::Unreachable,
            format!("connection to igd failed: {e}"),
        )),
    }
}

/// One HTTP/1.1 request on a fresh connection.
async fn exchange<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender.send_request(request).await
}

/// An open `text/event-stream` answer, read chunk by chunk as igd sends it (no size or time
/// limit of its own: the reader decides how long it waits and how much it buffers).
pub struct EventStream {
    body: hyper::body::Incoming,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventStream")
    }
}

impl EventStream {
    /// The next chunk of data; `None` when igd closed the stream.
    pub async fn next_chunk(&mut self) -> Option<Result<Bytes, CliError>> {
        loop {
            let frame = match self.body.frame().await? {
                Ok(frame) => frame,
                Err(e) => {
                    return Some(Err(CliError::new(
                        ErrorCode::Unreachable,
                        format!("connection to igd failed: {e}"),
                    )))
                }
            };
            if let Ok(data) = frame.into_data() {
                return Some(Ok(data));
            }
        }
    }
}

impl Client {
    /// GET a server-sent event stream (`/v1/admin/approvals/stream`). An error answer is read
    /// and mapped like [`Client::call`]'s.
    pub async fn event_stream(&self, path: &str) -> Result<EventStream, CliError> {
        let resp = self.send(Method::GET, path, None::<&()>).await?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let bytes = read_answer(resp.into_body()).await.unwrap_or_default();
            return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => CliError::new(e.error.code, e.error.message),
                Err(_) => CliError::new(
                    ErrorCode::from_status(status),
                    format!("igd answered HTTP {status}"),
                ),
            });
        }
        Ok(EventStream {
            body: resp.into_body(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::Stored;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn no_login() -> Result<Option<Stored>, CliError> {
        Ok(None)
    }

    fn http(url: &str, token: Option<&str>, ca: Option<&str>) -> Endpoint {
        Endpoint::Http {
            url: url.into(),
            token: token.map(String::from),
            ca: ca.map(PathBuf::from),
            cert: None,
            key: None,
        }
    }

    #[test]
    fn precedence() {
        let flags = ConnectionArgs {
            socket: Some("/a.sock".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_with(&flags, &env_of(&[("IGCTL_URL", "http://x")]), &no_login).unwrap(),
            Endpoint::Socket("/a.sock".into())
        );
        let none = ConnectionArgs::default();
        assert_eq!(
            resolve_with(
                &none,
                &env_of(&[("IGCTL_URL", "http://127.0.0.1:1"), ("IGCTL_TOKEN", "t")]),
                &no_login,
            )
            .unwrap(),
            http("http://127.0.0.1:1", Some("t"), None)
        );
        let both = ConnectionArgs {
            socket: Some("/a".into()),
            url: Some("http://b".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_with(&both, &env_of(&[]), &no_login)
                .unwrap_err()
                .code,
            ErrorCode::Usage
        );
        assert_eq!(
            resolve_with(
                &none,
                &env_of(&[("IGCTL_URL", "http://x"), ("IGCTL_SOCKET", "/s")]),
                &no_login,
            )
            .unwrap_err()
            .code,
            ErrorCode::Usage
        );
    }

    #[test]
    fn stored_credentials_come_after_flags_and_environment() {
        let login = || {
            Ok(Some(Stored {
                url: "https://igd.example:8443".into(),
                token: Some("stored".into()),
                ca: Some("/stored-ca.pem".into()),
                cert: None,
                key: None,
            }))
        };
        let none = ConnectionArgs::default();
        // Nothing named: the login is used.
        assert_eq!(
            resolve_with(&none, &env_of(&[]), &login).unwrap(),
            http(
                "https://igd.example:8443",
                Some("stored"),
                Some("/stored-ca.pem")
            )
        );
        // A socket or a URL named above it wins; the login is not even read.
        let refuse = || -> Result<Option<Stored>, CliError> { panic!("login level read") };
        assert_eq!(
            resolve_with(&none, &env_of(&[("IGCTL_SOCKET", "/s")]), &refuse).unwrap(),
            Endpoint::Socket("/s".into())
        );
        let flags = ConnectionArgs {
            url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_with(&flags, &env_of(&[]), &refuse).unwrap(),
            http("http://127.0.0.1:9", None, None)
        );
        // A token named in the environment replaces the stored one.
        assert_eq!(
            resolve_with(&none, &env_of(&[("IGCTL_TOKEN", "env")]), &login).unwrap(),
            http(
                "https://igd.example:8443",
                Some("env"),
                Some("/stored-ca.pem")
            )
        );
        // No login: the sockets, as before.
        assert!(matches!(
            resolve_with(&none, &env_of(&[]), &no_login).unwrap(),
            Endpoint::Socket(_)
        ));
    }

    #[test]
    fn client_certificates_need_both_files_and_https() {
        let args = |url: &str, cert: Option<&str>, key: Option<&str>| ConnectionArgs {
            url: Some(url.into()),
            cert: cert.map(PathBuf::from),
            key: key.map(PathBuf::from),
            ..Default::default()
        };
        let ok = resolve_with(
            &args("https://igd.example:9443", Some("/c.pem"), Some("/k.pem")),
            &env_of(&[]),
            &no_login,
        )
        .unwrap();
        assert!(
            matches!(
                &ok,
                Endpoint::Http {
                    cert: Some(_),
                    key: Some(_),
                    ..
                }
            ),
            "{ok:?}"
        );
        let from_env = resolve_with(
            &args("https://igd.example:9443", None, None),
            &env_of(&[("IGCTL_CERT", "/c.pem"), ("IGCTL_KEY", "/k.pem")]),
            &no_login,
        )
        .unwrap();
        assert_eq!(from_env, ok);
        for (url, cert, key) in [
            ("https://igd.example:9443", Some("/c.pem"), None),
            ("https://igd.example:9443", None, Some("/k.pem")),
            ("http://127.0.0.1:9443", Some("/c.pem"), Some("/k.pem")),
        ] {
            let e = resolve_with(&args(url, cert, key), &env_of(&[]), &no_login).unwrap_err();
            assert_eq!(e.code, ErrorCode::Usage, "{url} {cert:?} {key:?}");
        }
        // Files that cannot be read are named, as usage errors.
        let e = Client::new(ok).unwrap_err();
        assert_eq!(e.code, ErrorCode::Usage);
        assert!(e.message.contains("--cert /c.pem"), "{}", e.message);
    }

    #[test]
    fn urls_and_the_clear_text_bearer() {
        let https = ConnectionArgs {
            url: Some("https://igd.example:8443/".into()),
            ca: Some("/ca.pem".into()),
            token: Some("t".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve_with(&https, &env_of(&[]), &no_login).unwrap(),
            http("https://igd.example:8443", Some("t"), Some("/ca.pem"))
        );
        let from_env = ConnectionArgs::default();
        let e = resolve_with(
            &from_env,
            &env_of(&[("IGCTL_URL", "https://[::1]:9"), ("IGCTL_CA", "/c")]),
            &no_login,
        )
        .unwrap();
        assert!(matches!(e, Endpoint::Http { ca: Some(_), .. }), "{e:?}");
        for (url, token, ca) in [
            ("http://igd.example:8080", Some("t"), None),
            ("http://10.0.0.1:8080", Some("t"), None),
            ("http://127.0.0.1:8080", None, Some("/ca.pem")),
            ("ftp://127.0.0.1:8080", None, None),
            ("127.0.0.1:8080", None, None),
        ] {
            let args = ConnectionArgs {
                url: Some(url.into()),
                token: token.map(String::from),
                ca: ca.map(PathBuf::from),
                ..Default::default()
            };
            assert_eq!(
                resolve_with(&args, &env_of(&[]), &no_login)
                    .unwrap_err()
                    .code,
                ErrorCode::Usage,
                "{url}"
            );
        }
        for url in ["http://localhost:1", "http://[::1]:1", "http://127.0.0.2:1"] {
            let args = ConnectionArgs {
                url: Some(url.into()),
                token: Some("t".into()),
                ..Default::default()
            };
            assert!(
                resolve_with(&args, &env_of(&[]), &no_login).is_ok(),
                "{url}"
            );
        }
        let t = Target::parse("https://[::1]:8443").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.authority().as_str()),
            ("::1", 8443, "[::1]:8443")
        );
    }
}
