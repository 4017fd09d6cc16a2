//! Harness for the cross-process end-to-end tests: start the real `igd` binary on a free
//! loopback port with a temporary data dir, talk to it over HTTP and through the real `igctl`.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub mod pg;
pub mod pki;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
        .join("debug")
}

static BUILD: Once = Once::new();

/// Make sure the igd and igctl binaries are built (a no-op when they are current).
pub fn ensure_binaries() {
    BUILD.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            // The same selection as .ci/run's build: another package set resolves other
            // dependency features and relinks igd (tens of seconds) on every alternation.
            .args(["build", "--quiet", "--workspace", "--bins"])
            .current_dir(workspace())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building igd and igctl failed");
    });
}

pub fn igd_bin() -> PathBuf {
    ensure_binaries();
    target_dir().join("igd")
}

pub fn igctl_bin() -> PathBuf {
    ensure_binaries();
    target_dir().join("igctl")
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running igd process.
#[derive(Debug)]
pub struct Igd {
    child: Option<Child>,
    pub data_dir: PathBuf,
    pub addr: SocketAddr,
    pub socket: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
    logs: Arc<Mutex<String>>,
    /// PEM of the CA that signed igd's certificate, when it serves TLS.
    ca_pem: Option<Vec<u8>>,
    /// The TOTP enrollment of this test process's uid ([`Igd::enroll_totp`]).
    totp: Arc<Mutex<Option<HarnessTotp>>>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

/// A TOTP enrollment the harness holds: the secret and the steps it has spent.
#[derive(Debug, Default)]
struct HarnessTotp {
    base32: String,
    secret: Vec<u8>,
    recovery_codes: Vec<String>,
    used: std::collections::HashSet<u64>,
}

/// The RFC 6238 code (SHA-1, 6 digits, 30 s) of `secret` at time step `step`.
pub fn totp_at(secret: &[u8], step: u64) -> String {
    totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_vec(),
        None,
        String::new(),
    )
    .generate(step * 30)
}

/// The bytes of a base32 TOTP secret.
pub fn totp_secret_bytes(base32: &str) -> Vec<u8> {
    totp_rs::Secret::Encoded(base32.to_string())
        .to_bytes()
        .expect("base32 secret")
}

fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

impl Igd {
    /// Start igd with a fresh data dir and these extra `INTENTGATE_*` settings.
    pub fn start(env: &[(&str, &str)]) -> Igd {
        Igd::start_inner(env, &[], None)
    }

    /// Start igd with extra settings and command-line arguments (e.g. `--config FILE`).
    pub fn start_with_args(env: &[(&str, &str)], args: &[&str]) -> Igd {
        Igd::start_inner(env, args, None)
    }

    /// Start igd on a chosen loopback port (to know its address before it is ready).
    pub fn start_on_port(env: &[(&str, &str)], port: u16) -> Igd {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let mut igd = Igd::spawn(
            dir.path().join("data"),
            env.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Vec::new(),
            Some(port),
            None,
        );
        igd._dir = Some(dir);
        igd
    }

    /// Start igd serving TLS (`env` names the certificate and key); `ca_pem` verifies it.
    pub fn start_tls(env: &[(&str, &str)], ca_pem: &[u8]) -> Igd {
        Igd::start_inner(env, &[], Some(ca_pem.to_vec()))
    }

    fn start_inner(env: &[(&str, &str)], args: &[&str], ca_pem: Option<Vec<u8>>) -> Igd {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        let data_dir = env
            .iter()
            .find(|(k, _)| *k == "INTENTGATE_DATA_DIR")
            .map(|(_, v)| PathBuf::from(v))
            .unwrap_or_else(|| dir.path().join("data"));
        let mut igd = Igd::spawn(
            data_dir,
            env.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            args.iter().map(|a| a.to_string()).collect(),
            None,
            ca_pem,
        );
        igd._dir = Some(dir);
        igd
    }

    fn spawn(
        data_dir: PathBuf,
        env: Vec<(String, String)>,
        args: Vec<String>,
        port: Option<u16>,
        ca_pem: Option<Vec<u8>>,
    ) -> Igd {
        let port = port.unwrap_or_else(free_port);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let socket = data_dir.join("admin.sock");
        let mut cmd = Command::new(igd_bin());
        cmd.args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("INTENTGATE_LISTEN", addr.to_string())
            .env("INTENTGATE_DATA_DIR", &data_dir)
            .env("LOG_LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn igd");
        let logs = Arc::new(Mutex::new(String::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = logs.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut l) = logs.lock() {
                        l.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        let mut igd = Igd {
            child: Some(child),
            data_dir,
            addr,
            socket,
            env,
            args,
            logs,
            ca_pem,
            totp: Arc::default(),
            _dir: None,
        };
        igd.wait_ready();
        igd
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("igd exited early with {status}; logs:\n{}", self.logs());
                }
            }
            let health = match &self.ca_pem {
                Some(ca) => https(self.addr, ca, "GET", "/healthz", &[], b""),
                None => http(self.addr, "GET", "/healthz", &[], b""),
            };
            if let Ok(r) = health {
                if r.status == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "igd not ready in 30 s; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything igd wrote to stdout and stderr so far.
    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Change one setting for the next [`Igd::kill_and_restart`].
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// SIGKILL igd and start it again on the same data dir and port.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        let mut next = Igd::spawn(
            self.data_dir.clone(),
            self.env.clone(),
            self.args.clone(),
            Some(self.addr.port()),
            self.ca_pem.clone(),
        );
        self.child = next.child.take();
        self.logs = next.logs.clone();
    }

    /// SIGKILL igd.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Send SIGHUP (reload the policy and the TLS certificate).
    pub fn hup(&self) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args(["-HUP", &child.id().to_string()])
                .status();
        }
    }

    /// Wait (at most 30 s) until igd's logs contain `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.logs().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "igd never logged {needle:?}; logs:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM igd and wait for it; returns its exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok().and_then(|s| s.code())
    }

    /// Run igctl against this igd's socket.
    pub fn igctl(&self, args: &[&str]) -> Output {
        let mut full = vec!["--socket".to_string(), self.socket.display().to_string()];
        full.extend(args.iter().map(|s| s.to_string()));
        // Keys pinned on first use go to this igd's own config dir, not the user's.
        let config = self.data_dir.with_file_name("igctl-config");
        igctl(
            &full,
            &[("XDG_CONFIG_HOME", config.to_str().unwrap_or_default())],
        )
    }

    /// One admin-API request over the admin socket (as this process's uid, an admin).
    pub fn admin_http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let stream = std::os::unix::net::UnixStream::connect(&self.socket).expect("admin socket");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        exchange(stream, self.addr, method, path, headers, body).expect("admin request")
    }

    /// Enroll TOTP for this process's uid (igd's own: an admin) through igctl, once per igd;
    /// returns the base32 secret. [`Igd::totp_code`] then gives fresh step-up codes.
    pub fn enroll_totp(&self) -> String {
        let mut state = self.totp.lock().unwrap();
        if state.is_none() {
            *state = Some(self.enroll_new(None));
        }
        state.as_ref().map(|s| s.base32.clone()).unwrap_or_default()
    }

    /// `igctl totp enroll` (with `step_up` when replacing a confirmed enrollment), then
    /// `igctl totp confirm` with the first code.
    fn enroll_new(&self, step_up: Option<String>) -> HarnessTotp {
        let mut args = vec!["totp", "enroll", "-o", "json"];
        if let Some(code) = step_up.as_deref() {
            args.extend(["--totp", code]);
        }
        let out = self.igctl(&args);
        assert!(
            out.status.success(),
            "totp enroll failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("enroll json");
        let base32 = v["secret"].as_str().expect("secret").to_string();
        let mut enrolled = HarnessTotp {
            secret: totp_secret_bytes(&base32),
            base32,
            ..HarnessTotp::default()
        };
        let code = unused_step_code(&mut enrolled).expect("a fresh secret has unused steps");
        let out = self.igctl(&["totp", "confirm", "--code", &code, "-o", "json"]);
        assert!(
            out.status.success(),
            "totp confirm failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("confirm json");
        enrolled.recovery_codes = v["recovery_codes"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        enrolled
    }

    /// A step-up code igd accepts now and this harness has not spent (enrolling first if
    /// needed): a TOTP code for an unused step among t, t+1, t−1; when those are spent, a
    /// recovery code; when only one of those is left, it pays for a re-enrollment (a new
    /// secret: fresh steps and recovery codes). So a test never waits for the clock.
    pub fn totp_code(&self) -> String {
        let mut state = self.totp.lock().unwrap();
        loop {
            let Some(current) = state.as_mut() else {
                *state = Some(self.enroll_new(None));
                continue;
            };
            if let Some(code) = unused_step_code(current) {
                return code;
            }
            if current.recovery_codes.len() > 1 {
                return current.recovery_codes.pop().unwrap_or_default();
            }
            match current.recovery_codes.pop() {
                Some(last) => *state = Some(self.enroll_new(Some(last))),
                None => std::thread::sleep(Duration::from_secs(1)),
            }
        }
    }

    /// A TOTP code for a step this harness has not spent, never a recovery code (those are
    /// stored hashed, not sealed: a test of the sealing key must not be handed one). Waits
    /// for the clock's next step when t−1, t and t+1 are spent (at most ~30 s).
    pub fn totp_step_code(&self) -> String {
        self.enroll_totp();
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            assert!(
                Instant::now() < deadline,
                "no unspent TOTP step within 90 s"
            );
            if let Some(code) = self
                .totp
                .lock()
                .unwrap()
                .as_mut()
                .and_then(unused_step_code)
            {
                return code;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Take one of the recovery codes the enrollment received, for a test to spend itself
    /// ([`Igd::totp_code`] no longer offers it).
    pub fn take_recovery_code(&self) -> Option<String> {
        self.enroll_totp();
        let mut state = self.totp.lock().unwrap();
        let codes = &mut state.as_mut()?.recovery_codes;
        (!codes.is_empty()).then(|| codes.remove(0))
    }

    /// Run igctl against this igd's socket with `--totp` and a fresh step-up code appended
    /// (enrolling this process's uid on first use).
    pub fn igctl_totp(&self, args: &[&str]) -> Output {
        let code = self.totp_code();
        let mut full = args.to_vec();
        full.extend(["--totp", code.as_str()]);
        self.igctl(&full)
    }

    /// [`Igd::igctl_totp`] for the commands [`needs_step_up`] names, else [`Igd::igctl`].
    pub fn igctl_auto(&self, args: &[&str]) -> Output {
        if needs_step_up(args) {
            self.igctl_totp(args)
        } else {
            self.igctl(args)
        }
    }

    /// Mint a token through igctl; returns (token, jti).
    pub fn mint(
        &self,
        tenant: &str,
        subject: &str,
        tools: &str,
        max_calls: u64,
    ) -> (String, String) {
        let out = self.igctl(&[
            "mint",
            "--tenant",
            tenant,
            "--subject",
            subject,
            "--tools",
            tools,
            "--ttl",
            "1h",
            "--max-calls",
            &max_calls.to_string(),
            "-o",
            "json",
        ]);
        assert!(
            out.status.success(),
            "mint failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("mint json");
        (
            v["token"].as_str().unwrap_or_default().to_string(),
            v["jti"].as_str().unwrap_or_default().to_string(),
        )
    }
}

impl Drop for Igd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A code of `state` for an unused step that igd accepts now: t, then t+1, then t−1 while
/// t−1 is safely inside igd's window.
fn unused_step_code(state: &mut HarnessTotp) -> Option<String> {
    let now = unix_now();
    let step = now.as_secs() / 30;
    let left = 30 - now.as_secs() % 30;
    let mut candidates = vec![step, step + 1];
    if left > 3 {
        candidates.push(step - 1);
    }
    let s = candidates.into_iter().find(|s| !state.used.contains(s))?;
    state.used.insert(s);
    Some(totp_at(&state.secret, s))
}

/// Whether igctl `args` name a step-up-gated action (DESIGN §6) without a `--totp` of their
/// own: promote, rollback, `active --clear`, audit erase/prune/rebaseline, announcing a key,
/// minting with `--all-tools`, `unstop`, operator add/remove, `totp disable`, elevate approve.
pub fn needs_step_up(args: &[&str]) -> bool {
    if args.contains(&"--totp") {
        return false;
    }
    let words: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let has = |flag: &str| args.contains(&flag);
    match words.as_slice() {
        ["policy", "promote", ..] | ["policy", "rollback", ..] => true,
        ["policy", "active", ..] => has("--clear"),
        ["audit", "erase", ..] | ["audit", "prune", ..] | ["audit", "rebaseline", ..] => true,
        ["gen-key", ..] => has("--announce"),
        ["mint", ..] => has("--all-tools"),
        ["unstop", ..] => true,
        ["operator", "add", ..] | ["operator", "remove", ..] => true,
        ["totp", "disable", ..] | ["elevate", "approve", ..] => true,
        _ => false,
    }
}

/// Run igctl with `args` and extra environment (no inherited IGCTL_*).
pub fn igctl(args: &[String], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(igctl_bin());
    cmd.args(args)
        .env_remove("IGCTL_SOCKET")
        .env_remove("IGCTL_URL")
        .env_remove("IGCTL_TOKEN")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run igctl")
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A minimal HTTP/1.1 exchange (one request per connection).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    exchange(stream, addr, method, path, headers, body)
}

/// The same over TLS, trusting only `ca_pem`.
pub fn https(
    addr: SocketAddr,
    ca_pem: &[u8],
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    exchange(
        tls_connect(addr, ca_pem)?,
        addr,
        method,
        path,
        headers,
        body,
    )
}

/// A TLS client stream to `addr` (certificate checked for its IP address against `ca_pem`),
/// with the handshake done.
pub fn tls_connect(
    addr: SocketAddr,
    ca_pem: &[u8],
) -> std::io::Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    use rustls::pki_types::pem::PemObject;
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(cert.map_err(|e| invalid(e.to_string()))?)
            .map_err(|e| invalid(e.to_string()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| invalid(e.to_string()))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(stream)
}

/// One HTTP/1.1 request (`Connection: close`) on a stream the caller opened.
pub fn exchange<S: Read + Write>(
    mut stream: S,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut raw = Vec::new();
    match stream.read_to_end(&mut raw) {
        Ok(_) => {}
        // A peer that closes without TLS close_notify after a complete answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse_response(&raw)
}

/// One HTTP/1.1 request read by a test's local receiver (a stand-in for a SaaS endpoint).
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// Header names as sent; [`ReceivedRequest::header`] matches them case-insensitively.
    pub headers: Vec<(String, String)>,
    /// `Content-Length` bytes of body.
    pub body: Vec<u8>,
}

impl ReceivedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target's path (before any `?`).
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The target's query (after the `?`; empty when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// Read the next request of a keep-alive connection; `None` when the peer closed it (or sent
/// something that is not a request with a whole body).
pub fn read_request<R: std::io::BufRead>(reader: &mut R) -> Option<ReceivedRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut request = ReceivedRequest {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    let len: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0u8; len];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

/// Read one response (headers and a `Content-Length` body) from a keep-alive connection.
pub fn read_one_response<S: Read>(stream: &mut S) -> std::io::Result<HttpResponse> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        raw.push(byte[0]);
    }
    let head = parse_response(&raw)?;
    let len: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    Ok(HttpResponse { body, ..head })
}

fn parse_response(raw: &[u8]) -> std::io::Result<HttpResponse> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(pos) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..pos]).trim(), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            let start = pos + 2;
            if rest.len() < start + size {
                break;
            }
            out.extend_from_slice(&rest[start..start + size]);
            rest = &rest[(start + size + 2).min(rest.len())..];
        }
        body = out;
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// Install the real MCP peers (Python `mcp`, npm SDK and server-everything) once per machine.
/// Serialized across test processes with a file lock.
pub fn ensure_peers() {
    static PEERS: Once = Once::new();
    PEERS.call_once(|| {
        let root = workspace().join("tests");
        let lock = std::fs::File::create(root.join(".peers.lock")).expect("lock file");
        lock.lock().expect("lock peers");
        let venv = root.join(".venv");
        if !venv.join("bin/python").exists() || !root.join(".venv/.installed").exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
            run(Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "-r"])
                .arg(root.join("requirements.txt")));
            std::fs::write(root.join(".venv/.installed"), "ok").expect("marker");
        }
        let node = root.join("node");
        if !node.join("node_modules/.installed").exists() {
            run(Command::new("npm")
                .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(&node));
            std::fs::write(node.join("node_modules/.installed"), "ok").expect("marker");
        }
        let _ = lock.unlock();
    });
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run installer");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A real MCP server started for a test.
#[derive(Debug)]
pub struct Upstream {
    child: Child,
    pub url: String,
    /// Python upstream only: one JSON line per tool call that reached it.
    pub call_log: Option<PathBuf>,
    /// [`Upstream::python_recording`] only: every message POSTed to it, one per line.
    pub message_log: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Upstream {
    /// The Python SDK's MCPServer (both eras).
    pub fn python() -> Upstream {
        Upstream::python_with(false)
    }

    /// The Python upstream, also logging every message POSTed to it ([`Upstream::messages`]),
    /// whether or not the server acts on it.
    pub fn python_recording() -> Upstream {
        Upstream::python_with(true)
    }

    fn python_with(record_messages: bool) -> Upstream {
        ensure_peers();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let log = dir.path().join("calls.jsonl");
        let messages = dir.path().join("messages.jsonl");
        let mut cmd = Command::new(workspace().join("tests/.venv/bin/python"));
        cmd.arg(workspace().join("tests/py/upstream_server.py"))
            .arg(port.to_string())
            .env("CALL_LOG", &log)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if record_messages {
            cmd.env("MESSAGE_LOG", &messages);
        }
        let child = cmd.spawn().expect("start python upstream");
        let mut up = Upstream::ready(child, port, Some(log), dir);
        up.message_log = record_messages.then_some(messages);
        up
    }

    /// Messages POSTed to this upstream ([`Upstream::python_recording`] only).
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let Some(p) = &self.message_log else {
            return Vec::new();
        };
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::String(l.to_string())))
            .collect()
    }

    /// `@modelcontextprotocol/server-everything` (2025 era). It binds every interface, so it is
    /// started with a cleared environment (only PORT) and talked to on 127.0.0.1 only.
    pub fn everything() -> Upstream {
        ensure_peers();
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let node = workspace().join("tests/node");
        let child = Command::new("node")
            .arg(node.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
            .arg("streamableHttp")
            .env_clear()
            .env("PORT", port.to_string())
            .current_dir(&node)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server-everything");
        Upstream::ready(child, port, None, dir)
    }

    fn ready(
        mut child: Child,
        port: u16,
        call_log: Option<PathBuf>,
        dir: tempfile::TempDir,
    ) -> Upstream {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(s)) = child.try_wait() {
                panic!("upstream exited early: {s}");
            }
            assert!(Instant::now() < deadline, "upstream on {port} not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        Upstream {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
            call_log,
            message_log: None,
            _dir: dir,
        }
    }

    /// Tool names that reached this upstream (Python upstream only).
    pub fn calls(&self) -> Vec<String> {
        let Some(p) = &self.call_log else {
            return Vec::new();
        };
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["tool"].as_str().map(String::from))
            .collect()
    }
}

impl Upstream {
    /// Every call that reached upstream, as logged: `{"tool": …, "args": {…}}`.
    pub fn call_records(&self) -> Vec<serde_json::Value> {
        let Some(p) = &self.call_log else {
            return Vec::new();
        };
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .collect()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which real client drives a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpClient {
    /// Python `mcp` (2026-07-28 era first).
    Python,
    /// TypeScript `@modelcontextprotocol/sdk` (2025 session era).
    TypeScript,
}

/// Run a client script (see tests/py/client.py) and return one JSON value per step.
pub fn run_client(
    client: McpClient,
    url: &str,
    token: &str,
    steps: &serde_json::Value,
    session: Option<&str>,
) -> Vec<serde_json::Value> {
    run_client_with_env(client, url, token, steps, session, &[])
}

/// [`run_client`] with extra environment for the client process (a CA file for https://).
pub fn run_client_with_env(
    client: McpClient,
    url: &str,
    token: &str,
    steps: &serde_json::Value,
    session: Option<&str>,
    env: &[(&str, &str)],
) -> Vec<serde_json::Value> {
    ensure_peers();
    let root = workspace().join("tests");
    let mut cmd = match client {
        McpClient::Python => {
            let mut c = Command::new(root.join(".venv/bin/python"));
            c.arg(root.join("py/client.py"));
            c
        }
        McpClient::TypeScript => {
            let mut c = Command::new("node");
            c.arg(root.join("node/client.mjs"))
                .current_dir(root.join("node"));
            c
        }
    };
    cmd.arg(url).arg(token).arg(steps.to_string());
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(s) = session {
        cmd.arg(s);
    }
    let out = cmd.output().expect("run client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        !lines.is_empty() || !out.status.success(),
        "client printed nothing; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if lines.is_empty() {
        return vec![
            serde_json::json!({"ok": false, "client_failed": true, "stderr": String::from_utf8_lossy(&out.stderr)}),
        ];
    }
    lines
}

/// A 2026-07-28-era `tools/call` straight over HTTP (headers mirrored as the spec requires).
pub fn call_tool(
    addr: SocketAddr,
    token: &str,
    tool: &str,
    arguments: serde_json::Value,
) -> std::io::Result<HttpResponse> {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments,
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string();
    let auth = format!("Bearer {token}");
    http(
        addr,
        "POST",
        "/v1/mcp",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", tool),
        ],
        body.as_bytes(),
    )
}

/// Write a fresh Ed25519 audit signing key (`igctl gen-key --audit`) to `path`.
pub fn write_audit_key(path: &std::path::Path) {
    let key = igctl(&["gen-key".into(), "--audit".into()], &[]).stdout;
    assert!(!key.is_empty(), "igctl gen-key --audit printed nothing");
    std::fs::write(path, key).expect("write the audit key");
}

/// A hand-made marker claiming a cut at `cut_seq`, sealed onto `prev`.
pub fn forged_marker(
    prev: &intentgate_proto::audit::Entry,
    cut_seq: u64,
) -> intentgate_proto::audit::Entry {
    let mut m = intentgate_proto::audit::Entry {
        tenant: prev.tenant.clone(),
        kind: "marker".into(),
        event_id: "f0".repeat(16),
        ts: prev.ts + 1,
        instance: prev.instance.clone(),
        actor: Some("uid:0".into()),
        action: Some("prune".into()),
        reason: Some("retention".into()),
        cut_seq: Some(cut_seq),
        cut_hash: Some(prev.hash.clone()),
        ..Default::default()
    };
    m.seal(prev.seq, &prev.hash);
    m
}

/// Run `sql` on a SQLite database with the `sqlite3` shell, as someone with write access to the
/// file would; panics on failure. Returns what it printed.
pub fn sqlite3(db: &std::path::Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("run sqlite3");
    assert!(
        out.status.success(),
        "sqlite3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
