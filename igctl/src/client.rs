//! Talking to igd's admin API: over the Unix socket, or over HTTP with the compatibility bearer.
//!
//! Connection precedence (DESIGN §7): flags > `IGCTL_SOCKET` / `IGCTL_URL` / `IGCTL_TOKEN` >
//! `./intentgate-data/admin.sock` if present > `/run/intentgate/admin.sock`.

use crate::error::CliError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use intentgate_proto::api::{ErrorBody, ErrorCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// Where the admin API is.
#[derive(Clone, PartialEq, Eq)]
pub enum Endpoint {
    Socket(PathBuf),
    Http { url: String, token: Option<String> },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Socket(p) => write!(f, "Socket({})", p.display()),
            Endpoint::Http { url, .. } => write!(f, "Http({url}, token: <redacted>)"),
        }
    }
}

/// What the user named on the command line and in the environment.
#[derive(Debug, Default, Clone)]
pub struct ConnectionArgs {
    pub socket: Option<PathBuf>,
    pub url: Option<String>,
    pub token: Option<String>,
}

/// Resolve the endpoint by precedence.
pub fn resolve(
    flags: &ConnectionArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Endpoint, CliError> {
    if flags.socket.is_some() && flags.url.is_some() {
        return Err(CliError::usage(
            "--socket and --url name two daemons; give one",
        ));
    }
    if let Some(s) = &flags.socket {
        return Ok(Endpoint::Socket(s.clone()));
    }
    let env_token = env("IGCTL_TOKEN").filter(|t| !t.is_empty());
    if let Some(url) = &flags.url {
        return http_endpoint(url, flags.token.clone().or(env_token));
    }
    let env_socket = env("IGCTL_SOCKET").filter(|s| !s.is_empty());
    let env_url = env("IGCTL_URL").filter(|s| !s.is_empty());
    match (env_socket, env_url) {
        (Some(_), Some(_)) => {
            return Err(CliError::usage(
                "IGCTL_SOCKET and IGCTL_URL are both set; unset one",
            ))
        }
        (Some(s), None) => return Ok(Endpoint::Socket(PathBuf::from(s))),
        (None, Some(u)) => return http_endpoint(&u, flags.token.clone().or(env_token)),
        (None, None) => {}
    }
    let local = PathBuf::from("./intentgate-data/admin.sock");
    if local.exists() {
        return Ok(Endpoint::Socket(local));
    }
    Ok(Endpoint::Socket(PathBuf::from(
        "/run/intentgate/admin.sock",
    )))
}

fn http_endpoint(url: &str, token: Option<String>) -> Result<Endpoint, CliError> {
    if url.starts_with("https://") {
        return Err(CliError::new(
            ErrorCode::Usage,
            "https:// (mTLS admin) is not supported by this igctl yet; use the Unix socket or http:// on loopback with --token",
        ));
    }
    if !url.starts_with("http://") {
        return Err(CliError::usage(format!(
            "--url {url:?} must start with http://"
        )));
    }
    Ok(Endpoint::Http {
        url: url.trim_end_matches('/').to_string(),
        token,
    })
}

/// A connected admin-API client.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
}

impl Client {
    pub fn new(endpoint: Endpoint) -> Self {
        Client { endpoint }
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
        let bytes = tokio::time::timeout(Duration::from_secs(60), resp.into_body().collect())
            .await
            .map_err(|_| {
                CliError::new(
                    ErrorCode::Unreachable,
                    "igd did not finish its answer within 60 s",
                )
            })?
            .map_err(|e| {
                CliError::new(
                    ErrorCode::Unreachable,
                    format!("connection to igd failed: {e}"),
                )
            })?
            .to_bytes();
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
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
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
            Endpoint::Http { url, token } => {
                let authority = url.trim_start_matches("http://");
                let authority = authority.split('/').next().unwrap_or(authority).to_string();
                builder = builder
                    .uri(format!("{url}{path}"))
                    .header("host", authority.clone());
                if let Some(t) = token {
                    builder = builder.header("authorization", format!("Bearer {t}"));
                }
                let stream = tokio::net::TcpStream::connect(&authority)
                    .await
                    .map_err(|e| {
                        CliError::new(
                            ErrorCode::Unreachable,
                            format!("cannot reach igd at {url}: {e}"),
                        )
                    })?;
                Io::Tcp(stream)
            }
        };
        let request = builder.body(Full::new(payload)).map_err(|e| {
            CliError::new(ErrorCode::Internal, format!("cannot build request: {e}"))
        })?;
        let exchange = async {
            match io {
                Io::Unix(s) => exchange(s, request).await,
                Io::Tcp(s) => exchange(s, request).await,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn precedence() {
        let flags = ConnectionArgs {
            socket: Some("/a.sock".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&flags, &env_of(&[("IGCTL_URL", "http://x")])).unwrap(),
            Endpoint::Socket("/a.sock".into())
        );
        let none = ConnectionArgs::default();
        assert_eq!(
            resolve(
                &none,
                &env_of(&[("IGCTL_URL", "http://127.0.0.1:1"), ("IGCTL_TOKEN", "t")])
            )
            .unwrap(),
            Endpoint::Http {
                url: "http://127.0.0.1:1".into(),
                token: Some("t".into())
            }
        );
        let both = ConnectionArgs {
            socket: Some("/a".into()),
            url: Some("http://b".into()),
            token: None,
        };
        assert_eq!(
            resolve(&both, &env_of(&[])).unwrap_err().code,
            ErrorCode::Usage
        );
        assert_eq!(
            resolve(
                &none,
                &env_of(&[("IGCTL_URL", "http://x"), ("IGCTL_SOCKET", "/s")])
            )
            .unwrap_err()
            .code,
            ErrorCode::Usage
        );
    }
}
