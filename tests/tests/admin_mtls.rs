//! The mTLS admin listener (DESIGN §6, §9), operator API tokens on the agent listener, and
//! igctl's connections to them: `--url https://… --cert --key --ca`, `--url http://… --token`,
//! and the credentials `igctl login` stores (DESIGN §7).

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::pki::{Issued, Pki};
use intentgate_tests::*;
use rcgen::DnType;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The subject the operator's certificate carries (DER order O, CN), as igd renders it.
const SUBJECT: &str = "CN=oncall-1,O=Example";

/// A CA for the admin listener's own certificate and its clients, the listener's certificate,
/// a client certificate from that CA, and one from another CA.
struct Setup {
    pki: Pki,
    server: Issued,
    client: Issued,
    other_pki: Pki,
    stranger: Issued,
}

fn setup() -> Setup {
    let pki = Pki::new("IntentGate admin CA");
    let server = pki.issue("admin-server");
    let client = pki.issue_client(
        "oncall-1",
        &[
            (DnType::OrganizationName, "Example"),
            (DnType::CommonName, "oncall-1"),
        ],
    );
    let other_pki = Pki::new("Somebody else's CA");
    let stranger = other_pki.issue_client(
        "stranger",
        &[
            (DnType::OrganizationName, "Example"),
            (DnType::CommonName, "oncall-1"),
        ],
    );
    Setup {
        pki,
        server,
        client,
        other_pki,
        stranger,
    }
}

/// igd with the mTLS admin listener on a free loopback port; returns it and that address.
fn start(s: &Setup, extra: &[(&str, &str)]) -> (Igd, SocketAddr) {
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let listen = admin.to_string();
    let ca = s.pki.ca_file();
    let mut env = vec![
        ("INTENTGATE_ADMIN_LISTEN", listen.as_str()),
        ("INTENTGATE_ADMIN_TLS_CERT", s.server.cert.to_str().unwrap()),
        ("INTENTGATE_ADMIN_TLS_KEY", s.server.key.to_str().unwrap()),
        ("INTENTGATE_ADMIN_CLIENT_CA", ca.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
    ];
    env.extend_from_slice(extra);
    let igd = Igd::start(&env);
    (igd, admin)
}

/// One request to the admin listener over TLS (`tls12`: only TLS 1.2), presenting `identity`
/// as the client certificate when given. An error when the handshake or the exchange fails.
fn mtls(
    addr: SocketAddr,
    ca_pem: &[u8],
    identity: Option<&Issued>,
    tls12: bool,
    method: &str,
    path: &str,
) -> std::io::Result<HttpResponse> {
    let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(cert.map_err(|e| invalid(e.to_string()))?)
            .map_err(|e| invalid(e.to_string()))?;
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12 {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .map_err(|e| invalid(e.to_string()))?
    .with_root_certificates(roots);
    let config = match identity {
        Some(id) => {
            let chain = CertificateDer::pem_file_iter(&id.cert)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(&id.key).unwrap();
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| invalid(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| invalid(e.to_string()))?;
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    exchange(stream, addr, method, path, &[], b"")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", text(out)))
}

/// igctl with exactly this environment (besides PATH) and working directory: no inherited
/// IGCTL_*, HOME or XDG_CONFIG_HOME.
fn igctl_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(igctl_bin());
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Add operator `oncall-1` for the client certificate (admin over the socket, with step-up).
fn add_certificate_operator(igd: &Igd) {
    let out = igd.igctl_totp(&[
        "operator",
        "add",
        "oncall-1",
        "--cert-subject",
        SUBJECT,
        "--role",
        "operator",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "operator add: {}", text(&out));
}

/// Add an operator with an API token; returns the token (igo_…).
fn add_token_operator(igd: &Igd, name: &str) -> String {
    let out = igd.igctl_totp(&[
        "operator",
        "add",
        name,
        "--role",
        "operator",
        "--issue-token",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "operator add: {}", text(&out));
    let token = json_of(&out)["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(token.starts_with("igo_"), "{}", text(&out));
    token
}

#[test]
fn the_admin_listener_requires_a_client_certificate_from_its_ca() {
    let s = setup();
    let (igd, admin) = start(&s, &[]);
    let ca = s.pki.ca_pem();

    // No client certificate, or one from another CA: refused at the handshake (TLS 1.2 fails
    // the handshake itself; TLS 1.3 refuses before any request is answered).
    for tls12 in [true, false] {
        let none = mtls(admin, &ca, None, tls12, "GET", "/v1/admin/tenants");
        assert!(
            none.is_err(),
            "answered without a client certificate: {none:?}"
        );
        let other = mtls(
            admin,
            &ca,
            Some(&s.stranger),
            tls12,
            "GET",
            "/v1/admin/tenants",
        );
        assert!(
            other.is_err(),
            "answered another CA's certificate: {other:?}"
        );
    }
    // Plain HTTP is never answered on the admin port.
    let plain = http(admin, "GET", "/v1/admin/tenants", &[], b"");
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    // A valid certificate without an account: 403, naming the subject as igd reads it.
    let health = mtls(admin, &ca, Some(&s.client), false, "GET", "/healthz").unwrap();
    assert_eq!(health.status, 200, "{}", health.text());
    for tls12 in [true, false] {
        let r = mtls(
            admin,
            &ca,
            Some(&s.client),
            tls12,
            "GET",
            "/v1/admin/tenants",
        )
        .unwrap();
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(r.json()["error"]["code"], "forbidden", "{}", r.text());
        assert!(r.text().contains(SUBJECT), "{}", r.text());
    }

    // With an account it acts as that operator, through igctl.
    add_certificate_operator(&igd);
    let url = format!("https://{admin}");
    let (cert, key, ca_file) = (
        s.client.cert.to_str().unwrap(),
        s.client.key.to_str().unwrap(),
        s.pki.ca_file(),
    );
    let ca_file = ca_file.to_str().unwrap();
    let with_cert = |extra: &[&str]| {
        let mut args = vec!["--url", &url, "--cert", cert, "--key", key, "--ca", ca_file];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        igctl(&args, &[])
    };
    let out = with_cert(&["whoami", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let me = json_of(&out);
    assert_eq!(me["identity"], "oncall-1", "{me}");
    assert_eq!(me["via"], "certificate", "{me}");
    assert_eq!(me["role"], "operator", "{me}");
    let out = with_cert(&[
        "mint",
        "--tenant",
        "acme",
        "--subject",
        "agent-m",
        "--tools",
        "echo",
        "--max-calls",
        "3",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let jti = json_of(&out)["jti"].as_str().unwrap().to_string();
    // The audit entry names the operator as the actor.
    let out = igd.igctl(&["audit", "list", "--tenant", "acme", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let entries = json_of(&out)["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        entries
            .iter()
            .any(|e| e["actor"] == "oncall-1" && e.to_string().contains(&jti)),
        "no entry by oncall-1 for {jti}: {entries:?}"
    );

    // igctl with the other CA's certificate is refused.
    let (scert, skey) = (
        s.stranger.cert.to_str().unwrap(),
        s.stranger.key.to_str().unwrap(),
    );
    let args: Vec<String> = [
        "--url", &url, "--cert", scert, "--key", skey, "--ca", ca_file, "whoami",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let out = igctl(&args, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    // Files igctl cannot read are usage errors naming them.
    let args: Vec<String> = [
        "--url",
        &url,
        "--cert",
        "/nonexistent/oncall.crt",
        "--key",
        key,
        "--ca",
        ca_file,
        "whoami",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let out = igctl(&args, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("/nonexistent/oncall.crt"),
        "{}",
        text(&out)
    );
    let args: Vec<String> = [
        "--url",
        &url,
        "--cert",
        cert,
        "--key",
        s.stranger.key.to_str().unwrap(),
        "--ca",
        ca_file,
        "whoami",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    let out = igctl(&args, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("does not belong"), "{}", text(&out));
}

#[test]
fn sighup_reloads_the_admin_client_ca() {
    let s = setup();
    let ca_copy = s.pki.path("client-ca.pem");
    std::fs::copy(s.pki.ca_file(), &ca_copy).unwrap();
    let (igd, admin) = start(
        &s,
        &[("INTENTGATE_ADMIN_CLIENT_CA", ca_copy.to_str().unwrap())],
    );
    let ca = s.pki.ca_pem();
    assert!(mtls(
        admin,
        &ca,
        Some(&s.stranger),
        true,
        "GET",
        "/v1/admin/tenants"
    )
    .is_err());
    // Trust the other CA as well, then reload.
    let mut both = std::fs::read(s.pki.ca_file()).unwrap();
    both.extend(std::fs::read(s.other_pki.ca_file()).unwrap());
    std::fs::write(&ca_copy, both).unwrap();
    igd.hup();
    igd.wait_for_log("admin TLS certificate and client CA reloaded");
    let r = mtls(
        admin,
        &ca,
        Some(&s.stranger),
        true,
        "GET",
        "/v1/admin/tenants",
    )
    .unwrap();
    assert_eq!(r.status, 403, "{}", r.text());
    // A client CA file that no longer loads keeps the current one in force.
    std::fs::write(&ca_copy, "not a certificate\n").unwrap();
    igd.hup();
    igd.wait_for_log("admin TLS reload failed");
    let r = mtls(
        admin,
        &ca,
        Some(&s.client),
        false,
        "GET",
        "/v1/admin/tenants",
    )
    .unwrap();
    assert_eq!(r.status, 403, "{}", r.text());
}

#[test]
fn operator_api_tokens_work_on_a_loopback_agent_listener() {
    // No INTENTGATE_ADMIN_TOKEN: /v1/admin/ is served on the loopback agent listener for
    // operator API tokens.
    let igd = Igd::start(&[]);
    let token = add_token_operator(&igd, "bot-1");
    let url = format!("http://127.0.0.1:{}", igd.addr.port());
    let run = |token: &str, extra: &[&str]| {
        let mut args: Vec<String> =
            vec!["--url".into(), url.clone(), "--token".into(), token.into()];
        args.extend(extra.iter().map(|a| a.to_string()));
        igctl(&args, &[])
    };
    let out = run(&token, &["whoami", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let me = json_of(&out);
    assert_eq!(me["identity"], "bot-1", "{me}");
    assert_eq!(me["via"], "operator-token", "{me}");
    let out = run(&token, &["tenants", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    // A token nobody holds: 401 (exit 4); repeated failures are throttled.
    let out = run("igo_not-a-real-token", &["whoami", "-o", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(json_of(&out)["error"]["code"], "unauthenticated");
    let mut last = 0;
    for _ in 0..12 {
        last = http(
            igd.addr,
            "GET",
            "/v1/admin/whoami",
            &[("Authorization", "Bearer igo_wrong")],
            b"",
        )
        .unwrap()
        .status;
    }
    assert_eq!(last, 429);
}

#[test]
fn login_stores_credentials_that_later_commands_use() {
    let s = setup();
    let (igd, admin) = start(&s, &[]);
    let token = add_token_operator(&igd, "bot-1");
    add_certificate_operator(&igd);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    let env = [
        ("HOME", home.path().to_str().unwrap()),
        ("XDG_CONFIG_HOME", config.to_str().unwrap()),
    ];
    let cwd = home.path();
    let creds = config.join("intentgate/credentials.toml");
    let agent_url = format!("http://127.0.0.1:{}", igd.addr.port());

    // A token igd refuses is not stored.
    let out = igctl_in(
        cwd,
        &env,
        &["login", "--url", &agent_url, "--token", "igo_wrong"],
    );
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(!creds.exists());

    // Token login: the token goes to the keyring when one is usable, else to the 0600 file
    // with a warning.
    let out = igctl_in(
        cwd,
        &env,
        &[
            "login", "--url", &agent_url, "--token", &token, "-o", "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let answer = json_of(&out);
    assert_eq!(answer["identity"], "bot-1", "{answer}");
    let mode = std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "credentials file mode {mode:o}");
    let stored = std::fs::read_to_string(&creds).unwrap();
    assert!(stored.contains(&agent_url), "{stored}");
    match answer["token_in"].as_str() {
        Some("keyring") => assert!(!stored.contains(&token), "token in the file: {stored}"),
        Some("file") => {
            assert!(stored.contains(&token), "{stored}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("warning"),
                "{}",
                text(&out)
            );
        }
        other => panic!("token_in {other:?}: {answer}"),
    }
    // A command without flags uses the stored credentials.
    let out = igctl_in(cwd, &env, &["whoami", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_of(&out)["identity"], "bot-1");
    // The environment still comes first.
    let socket = igd.socket.to_str().unwrap();
    let mut with_socket = env.to_vec();
    with_socket.push(("IGCTL_SOCKET", socket));
    let out = igctl_in(cwd, &with_socket, &["whoami", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_ne!(json_of(&out)["identity"], "bot-1");

    // Certificate login replaces it: paths stored, never the key itself.
    let admin_url = format!("https://{admin}");
    let out = igctl_in(
        cwd,
        &env,
        &[
            "login",
            "--url",
            &admin_url,
            "--cert",
            s.client.cert.to_str().unwrap(),
            "--key",
            s.client.key.to_str().unwrap(),
            "--ca",
            s.pki.ca_file().to_str().unwrap(),
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stored = std::fs::read_to_string(&creds).unwrap();
    assert!(
        stored.contains(&admin_url) && stored.contains("oncall-1.key"),
        "{stored}"
    );
    assert!(
        !stored.contains("PRIVATE KEY") && !stored.contains(&token),
        "{stored}"
    );
    let mode = std::fs::metadata(&creds).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out = igctl_in(cwd, &env, &["whoami", "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let me = json_of(&out);
    assert_eq!(
        (me["identity"].as_str(), me["via"].as_str()),
        (Some("oncall-1"), Some("certificate"))
    );

    // Logout removes them: igctl falls back to the default socket (not running here).
    let out = igctl_in(cwd, &env, &["logout"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!creds.exists());
    let out = igctl_in(cwd, &env, &["whoami", "-o", "json"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_ne!(json_of(&out)["identity"], "oncall-1");
    // Login with nothing to log in with is a usage error.
    let out = igctl_in(cwd, &env, &["login", "--url", &agent_url]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

fn check_config(env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(igd_bin());
    cmd.arg("check-config")
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path().join("data"))
        .env("INTENTGATE_MASTER_KEY", "7".repeat(64));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), text(&out))
}

#[test]
fn the_admin_listener_settings_are_checked_at_start() {
    let s = setup();
    let cert = s.server.cert.to_str().unwrap();
    let key = s.server.key.to_str().unwrap();
    let ca = s.pki.ca_file();
    let ca = ca.to_str().unwrap();
    let garbage = s.pki.path("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let listen = ("INTENTGATE_ADMIN_LISTEN", "127.0.0.1:1");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![listen], "INTENTGATE_ADMIN_TLS_CERT"),
        (
            vec![
                listen,
                ("INTENTGATE_ADMIN_TLS_CERT", cert),
                ("INTENTGATE_ADMIN_TLS_KEY", key),
            ],
            "INTENTGATE_ADMIN_CLIENT_CA",
        ),
        (
            vec![
                listen,
                ("INTENTGATE_ADMIN_TLS_CERT", cert),
                ("INTENTGATE_ADMIN_CLIENT_CA", ca),
            ],
            "INTENTGATE_ADMIN_TLS_KEY",
        ),
        (
            vec![("INTENTGATE_ADMIN_CLIENT_CA", ca)],
            "INTENTGATE_ADMIN_CLIENT_CA",
        ),
        (
            vec![
                listen,
                ("INTENTGATE_ADMIN_TLS_CERT", cert),
                ("INTENTGATE_ADMIN_TLS_KEY", key),
                ("INTENTGATE_ADMIN_CLIENT_CA", garbage),
            ],
            "INTENTGATE_ADMIN_CLIENT_CA",
        ),
        (
            vec![
                listen,
                ("INTENTGATE_ADMIN_TLS_CERT", cert),
                ("INTENTGATE_ADMIN_TLS_KEY", s.client.key.to_str().unwrap()),
                ("INTENTGATE_ADMIN_CLIENT_CA", ca),
            ],
            "INTENTGATE_ADMIN_TLS_KEY",
        ),
        (
            vec![
                listen,
                ("INTENTGATE_ADMIN_TLS_CERT", "/nonexistent/admin.crt"),
                ("INTENTGATE_ADMIN_TLS_KEY", key),
                ("INTENTGATE_ADMIN_CLIENT_CA", ca),
            ],
            "INTENTGATE_ADMIN_TLS_CERT",
        ),
    ];
    for (env, named) in cases {
        let (code, out) = check_config(&env);
        assert_eq!(code, 64, "{env:?}: {out}");
        assert!(out.contains(named), "{env:?} should name {named}: {out}");
    }
    let (code, out) = check_config(&[
        listen,
        ("INTENTGATE_ADMIN_TLS_CERT", cert),
        ("INTENTGATE_ADMIN_TLS_KEY", key),
        ("INTENTGATE_ADMIN_CLIENT_CA", ca),
    ]);
    assert_eq!(code, 0, "{out}");
    // Starting, not only check-config, refuses a listener without its files.
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(igd_bin())
        .env_clear()
        .env("INTENTGATE_DATA_DIR", dir.path().join("data"))
        .env("INTENTGATE_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("INTENTGATE_ADMIN_LISTEN", "127.0.0.1:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert!(
        text(&out).contains("INTENTGATE_ADMIN_TLS_CERT"),
        "{}",
        text(&out)
    );
}
