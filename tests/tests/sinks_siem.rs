//! The SIEM sinks end to end (DESIGN §8): a real igd delivers its audit chains to local
//! receivers that check each vendor's documented request (Splunk HEC's envelope and
//! `Authorization: Splunk`, Datadog's v2 intake with `DD-API-KEY`, Azure Monitor's Logs
//! Ingestion API with an OAuth2 client-credentials bearer) and answer as the vendor does.
//! Every entry of every chain must arrive at each receiver exactly once, with its fields;
//! findings mode filters; an outage loses nothing; settings that would leak a key are refused.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const POLICY: &str = "package intentgate.policy\n\ndecision := {\"allow\": input.tool == \"echo\", \"reason\": \"echo only\"}\n";

const SPLUNK_TOKEN: &str = "11111111-2222-3333-4444-555555555555";
const DD_KEY: &str = "dd0123456789abcdef0123456789abcd";
const DCR: &str = "dcr-00112233445566778899aabbccddeeff";
const STREAM: &str = "Custom-IntentGate_CL";
const AZ_TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AZ_CLIENT: &str = "app-0001";
// Characters a form body must escape, so the receiver sees whether igd encoded them.
const AZ_SECRET: &str = "s3cr&t=+/ with space~";
const AZ_SCOPE: &str = "https://monitor.azure.com//.default";

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 receiver: one request per connection, answered with `Connection: close`.

type Request = ReceivedRequest;

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type", "application/json; charset=UTF-8".into())],
        body: body.to_string().into_bytes(),
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

fn serve(handler: Handler) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = handler.clone();
            std::thread::spawn(move || {
                let _ = handle(stream, &*handler);
            });
        }
    });
    addr
}

fn handle(mut stream: TcpStream, handler: &dyn Fn(&Request) -> Reply) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let Some(req) = read_request(&mut std::io::BufReader::new(&stream)) else {
        return Ok(());
    };
    let answer = match req.header("content-length").map(str::parse::<usize>) {
        Some(Ok(_)) => handler(&req),
        _ => reply(411, json!({"error": "Content-Length required"})),
    };
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        answer.body.len()
    );
    for (k, v) in &answer.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    stream.write_all(out.as_bytes())?;
    stream.write_all(&answer.body)?;
    stream.flush()
}

/// What a receiver saw: the audit entries it accepted (one per event, in arrival order),
/// request counts, and any way a request broke the vendor's documented shape.
#[derive(Debug, Default)]
struct Seen {
    /// The entry each accepted event carries, and the event itself.
    accepted: Vec<(Value, Value)>,
    requests: usize,
    violations: Vec<String>,
    /// Answer this many more requests with 503 (a vendor outage).
    fail_next: usize,
    failed: usize,
    /// Sentinel: tokens issued, in order; tokens the ingestion endpoint now refuses.
    tokens: Vec<String>,
    revoked: HashSet<String>,
    /// Sentinel: the bearer of every accepted ingestion request.
    bearers: Vec<String>,
}

type State = Arc<Mutex<Seen>>;

/// Count a request; answer 503 (with the vendor's body) while an outage is scheduled.
fn outage(state: &State, body: Value) -> Option<Reply> {
    let mut s = state.lock().unwrap();
    s.requests += 1;
    if s.fail_next == 0 {
        return None;
    }
    s.fail_next -= 1;
    s.failed += 1;
    let mut r = reply(503, body);
    r.headers.push(("Retry-After", "1".into()));
    Some(r)
}

fn violation(state: &State, what: String) {
    state.lock().unwrap().violations.push(what);
}

// ---------------------------------------------------------------------------------------------
// Splunk HTTP Event Collector.

fn splunk_receiver(index: Option<&'static str>) -> (SocketAddr, State) {
    let state = State::default();
    let st = state.clone();
    let addr = serve(Arc::new(move |req: &Request| {
        if req.method != "POST" || req.path() != "/services/collector/event" {
            violation(&st, format!("Splunk: {} {}", req.method, req.target));
            return reply(
                404,
                json!({"text": "The requested URL was not found on this server.", "code": 404}),
            );
        }
        match req.header("authorization") {
            None => return reply(401, json!({"text": "Token is required", "code": 2})),
            Some(a) if !a.starts_with("Splunk ") => {
                violation(&st, format!("Splunk authorization scheme: {a}"));
                return reply(401, json!({"text": "Invalid authorization", "code": 3}));
            }
            Some(a) if a != format!("Splunk {SPLUNK_TOKEN}") => {
                violation(&st, "Splunk: wrong token".into());
                return reply(403, json!({"text": "Invalid token", "code": 4}));
            }
            Some(_) => {}
        }
        if let Some(r) = outage(&st, json!({"text": "Server is busy", "code": 9})) {
            return r;
        }
        let text = String::from_utf8_lossy(&req.body).into_owned();
        let mut events = Vec::new();
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            match check_splunk_envelope(line, index) {
                Ok(e) => events.push(e),
                Err(why) => {
                    violation(&st, format!("Splunk event {i}: {why}: {line}"));
                    return reply(
                        400,
                        json!({"text": "Invalid data format", "code": 6, "invalid-event-number": i}),
                    );
                }
            }
        }
        if events.is_empty() {
            return reply(400, json!({"text": "No data", "code": 5}));
        }
        let mut s = st.lock().unwrap();
        for e in events {
            s.accepted.push((e["event"].clone(), e));
        }
        reply(200, json!({"text": "Success", "code": 0}))
    }));
    (addr, state)
}

fn check_splunk_envelope(line: &str, index: Option<&str>) -> Result<Value, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("not an object")?;
    let mut keys: BTreeSet<&str> = obj.keys().map(String::as_str).collect();
    let mut want: BTreeSet<&str> = ["time", "host", "source", "sourcetype", "event"].into();
    if index.is_some() {
        want.insert("index");
    }
    keys.retain(|k| !want.contains(k));
    if !keys.is_empty() || want.iter().any(|k| !obj.contains_key(*k)) {
        return Err(format!(
            "envelope keys {:?}",
            obj.keys().collect::<Vec<_>>()
        ));
    }
    if !v["time"].is_number() || !v["host"].is_string() || !v["event"].is_object() {
        return Err("time, host or event of the wrong type".into());
    }
    if v["source"] != "intentgate" || v["sourcetype"] != "_json" {
        return Err("source or sourcetype".into());
    }
    if index.is_some_and(|i| v["index"] != i) {
        return Err("index".into());
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------------
// Datadog Logs intake (v2).

fn datadog_receiver(tags: &'static [&'static str]) -> (SocketAddr, State) {
    let state = State::default();
    let st = state.clone();
    let addr = serve(Arc::new(move |req: &Request| {
        if req.method != "POST" || req.path() != "/api/v2/logs" {
            violation(&st, format!("Datadog: {} {}", req.method, req.target));
            return reply(404, json!({"errors": ["Not found"]}));
        }
        match req.header("dd-api-key") {
            None => {
                violation(&st, "Datadog: no DD-API-KEY".into());
                return reply(401, json!({"errors": ["Unauthorized"]}));
            }
            Some(k) if k != DD_KEY => {
                violation(&st, "Datadog: wrong API key".into());
                return reply(403, json!({"errors": ["Forbidden"]}));
            }
            Some(_) => {}
        }
        if !req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            violation(
                &st,
                format!("Datadog content type {:?}", req.header("content-type")),
            );
            return reply(400, json!({"errors": ["Bad request"]}));
        }
        if req.body.len() > 5_000_000 {
            violation(&st, format!("Datadog payload of {} bytes", req.body.len()));
            return reply(413, json!({"errors": ["Payload too large"]}));
        }
        if let Some(r) = outage(&st, json!({"errors": ["Service Unavailable"]})) {
            return r;
        }
        let logs: Vec<Value> = match serde_json::from_slice(&req.body) {
            Ok(Value::Array(a)) if !a.is_empty() && a.len() <= 1000 => a,
            _ => {
                violation(
                    &st,
                    "Datadog: body is not an array of 1 to 1000 logs".into(),
                );
                return reply(400, json!({"errors": ["Bad request"]}));
            }
        };
        for log in &logs {
            if let Err(why) = check_datadog_log(log, tags) {
                violation(&st, format!("Datadog log: {why}: {log}"));
                return reply(400, json!({"errors": ["Bad request"]}));
            }
        }
        let mut s = st.lock().unwrap();
        for log in logs {
            s.accepted.push((log["audit"].clone(), log));
        }
        reply(202, json!({}))
    }));
    (addr, state)
}

fn check_datadog_log(log: &Value, tags: &[&str]) -> Result<(), String> {
    let audit = &log["audit"];
    if log["ddsource"] != "intentgate" || log["service"] != "igd" {
        return Err("ddsource or service".into());
    }
    if !log["hostname"].is_string() || !log["message"].is_string() || !audit.is_object() {
        return Err("hostname, message or audit".into());
    }
    let status = log["status"].as_str().unwrap_or_default();
    let want = match (audit["kind"].as_str(), audit["decision"].as_str()) {
        (Some("decision"), Some("block")) => "error",
        (Some("decision"), Some("escalate")) => "warn",
        _ => "info",
    };
    if status != want {
        return Err(format!("status {status:?}, want {want:?}"));
    }
    let ddtags: Vec<&str> = log["ddtags"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .collect();
    let mut need = vec![
        format!("tenant:{}", audit["tenant"].as_str().unwrap_or_default()),
        format!("kind:{}", audit["kind"].as_str().unwrap_or_default()),
    ];
    if let Some(d) = audit["decision"].as_str() {
        need.push(format!("decision:{d}"));
    }
    need.extend(tags.iter().map(|t| t.to_string()));
    if let Some(missing) = need.iter().find(|t| !ddtags.contains(&t.as_str())) {
        return Err(format!("ddtags lack {missing}"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Entra ID's token endpoint and Azure Monitor's Logs Ingestion API.

fn form_decode(s: &str) -> BTreeMap<String, String> {
    let decode = |v: &str| {
        let bytes = v.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
                    match u8::from_str_radix(hex, 16) {
                        Ok(b) => out.push(b),
                        Err(_) => out.push(b'%'),
                    }
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    s.split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn sentinel_receiver() -> (SocketAddr, State) {
    let state = State::default();
    let st = state.clone();
    let token_path = format!("/{AZ_TENANT}/oauth2/v2.0/token");
    let ingest_path = format!("/dataCollectionRules/{DCR}/streams/{STREAM}");
    let addr = serve(Arc::new(move |req: &Request| {
        if req.method == "POST" && req.path() == token_path {
            return token_endpoint(&st, req);
        }
        if req.method != "POST" || req.path() != ingest_path {
            violation(&st, format!("Sentinel: {} {}", req.method, req.target));
            return reply(404, json!({"error": {"code": "NotFound"}}));
        }
        if req.query() != "api-version=2023-01-01" {
            violation(&st, format!("Sentinel query {:?}", req.query()));
            return reply(400, json!({"error": {"code": "InvalidApiVersion"}}));
        }
        let bearer = req
            .header("authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_string();
        {
            let s = st.lock().unwrap();
            if !s.tokens.contains(&bearer) || s.revoked.contains(&bearer) {
                return reply(
                    401,
                    json!({"error": {"code": "InvalidToken", "message": "The provided token is invalid or expired."}}),
                );
            }
        }
        if !req
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
        {
            violation(&st, "Sentinel content type".into());
            return reply(415, json!({"error": {"code": "UnsupportedMediaType"}}));
        }
        if req.body.len() > 1_000_000 {
            violation(&st, format!("Sentinel call of {} bytes", req.body.len()));
            return reply(
                413,
                json!({"error": {"code": "ContentLengthLimitExceeded"}}),
            );
        }
        if let Some(r) = outage(&st, json!({"error": {"code": "ServiceUnavailable"}})) {
            return r;
        }
        let records: Vec<Value> = match serde_json::from_slice(&req.body) {
            Ok(Value::Array(a)) if !a.is_empty() => a,
            _ => {
                violation(&st, "Sentinel: body is not a JSON array".into());
                return reply(400, json!({"error": {"code": "InvalidPayload"}}));
            }
        };
        for r in &records {
            let flat = r
                .as_object()
                .is_some_and(|o| o.values().all(|v| !v.is_object()));
            if !flat || !r["TimeGenerated"].is_string() || !r["event_id"].is_string() {
                violation(
                    &st,
                    format!("Sentinel record not flat or without TimeGenerated: {r}"),
                );
                return reply(400, json!({"error": {"code": "InvalidPayload"}}));
            }
        }
        let mut s = st.lock().unwrap();
        s.bearers.push(bearer);
        for r in records {
            let mut entry = r.clone();
            if let Some(o) = entry.as_object_mut() {
                o.remove("TimeGenerated");
            }
            s.accepted.push((entry, r));
        }
        Reply {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }));
    (addr, state)
}

fn token_endpoint(st: &State, req: &Request) -> Reply {
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        violation(st, "token request content type".into());
        return reply(400, json!({"error": "invalid_request"}));
    }
    let form = form_decode(&String::from_utf8_lossy(&req.body));
    let get = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if get("grant_type") != "client_credentials" {
        violation(st, format!("grant_type {:?}", get("grant_type")));
        return reply(400, json!({"error": "unsupported_grant_type"}));
    }
    if get("client_id") != AZ_CLIENT || get("client_secret") != AZ_SECRET {
        violation(st, "client credentials".into());
        return reply(
            401,
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
        );
    }
    if get("scope") != AZ_SCOPE {
        violation(st, format!("scope {:?}", get("scope")));
        return reply(400, json!({"error": "invalid_scope"}));
    }
    let mut s = st.lock().unwrap();
    let token = format!("eyJ0eXAi.token-{}.sig", s.tokens.len() + 1);
    s.tokens.push(token.clone());
    reply(
        200,
        json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
    )
}

// ---------------------------------------------------------------------------------------------
// igd, its chains, and waiting for deliveries.

struct Receivers {
    splunk: (SocketAddr, State),
    datadog: (SocketAddr, State),
    sentinel: (SocketAddr, State),
}

const DD_TAGS: &[&str] = &["env:test", "team:sec"];
const SINKS: [&str; 3] = ["splunk", "datadog", "sentinel"];

impl Receivers {
    fn start() -> Receivers {
        Receivers {
            splunk: splunk_receiver(Some("intentgate")),
            datadog: datadog_receiver(DD_TAGS),
            sentinel: sentinel_receiver(),
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let (s, d, a) = (self.splunk.0, self.datadog.0, self.sentinel.0);
        [
            (
                "INTENTGATE_SIEM_SPLUNK_URL",
                format!("http://{s}/services/collector/event"),
            ),
            ("INTENTGATE_SIEM_SPLUNK_TOKEN", SPLUNK_TOKEN.into()),
            ("INTENTGATE_SIEM_SPLUNK_INDEX", "intentgate".into()),
            (
                "INTENTGATE_SIEM_DATADOG_URL",
                format!("http://{d}/api/v2/logs"),
            ),
            ("INTENTGATE_SIEM_DATADOG_API_KEY", DD_KEY.into()),
            ("INTENTGATE_SIEM_DATADOG_TAGS", DD_TAGS.join(",")),
            ("INTENTGATE_SIEM_SENTINEL_ENDPOINT", format!("http://{a}/")),
            ("INTENTGATE_SIEM_SENTINEL_DCR_ID", DCR.into()),
            ("INTENTGATE_SIEM_SENTINEL_STREAM", STREAM.into()),
            ("INTENTGATE_SIEM_SENTINEL_TENANT_ID", AZ_TENANT.into()),
            ("INTENTGATE_SIEM_SENTINEL_CLIENT_ID", AZ_CLIENT.into()),
            ("INTENTGATE_SIEM_SENTINEL_CLIENT_SECRET", AZ_SECRET.into()),
            (
                "INTENTGATE_SIEM_SENTINEL_TOKEN_URL",
                format!("http://{a}/{AZ_TENANT}/oauth2/v2.0/token"),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn all(&self) -> [(&'static str, &State); 3] {
        [
            ("splunk", &self.splunk.1),
            ("datadog", &self.datadog.1),
            ("sentinel", &self.sentinel.1),
        ]
    }
}

fn start(env: &[(String, String)]) -> (Igd, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.rego");
    std::fs::write(&p, POLICY).unwrap();
    let mut all: Vec<(&str, &str)> = vec![
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", p.to_str().unwrap()),
    ];
    all.extend(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    (Igd::start(&all), dir)
}

/// Calls that chain decisions and outcomes: two allowed, one refused by policy, one by the
/// capability (a tool the token does not name).
fn make_calls(igd: &Igd, token: &str, tag: &str) {
    for (tool, code) in [
        ("echo", None),
        ("other", Some(-31002)),
        ("nope", Some(-31001)),
        ("echo", None),
    ] {
        let v = call_tool(igd.addr, token, tool, json!({"message": tag}))
            .unwrap()
            .json();
        match code {
            None => assert!(v["result"].is_object(), "{tool}: {v}"),
            Some(c) => assert_eq!(v["error"]["code"], c, "{tool}: {v}"),
        }
    }
}

/// A tenant's chain as `igctl audit export` gives it.
fn export(igd: &Igd, tenant: &str) -> Vec<Value> {
    let out = igd.igctl(&["audit", "export", "--tenant", tenant, "--format", "ndjson"]);
    assert!(
        out.status.success(),
        "export {tenant}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("args");
            }
            v
        })
        .collect()
}

/// Where each sink started on each chain: a sink seen for the first time starts at the chain
/// heads of that moment (earlier entries are `igctl audit export`'s job), and a chain begun
/// later is delivered from its start.
type Starts = BTreeMap<String, BTreeMap<String, u64>>;

/// Wait until igd's fan-out has registered each of `sinks` (its first round is done: state
/// `ok`), and return where each one starts. Calls made after this are all past the starts.
fn wait_registered(igd: &Igd, sinks: &[&str]) -> Starts {
    let mut starts = Starts::new();
    wait_until(igd, "registration of the SIEM sinks", || {
        let r = igd.admin_http("GET", "/v1/admin/integrations", &[], b"");
        assert_eq!(r.status, 200, "{}", r.text());
        let list = r.json()["integrations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        starts = list
            .iter()
            .filter(|i| i["state"] == "ok")
            .map(|i| {
                let cursors = i["cursors"].as_array().cloned().unwrap_or_default();
                let at = cursors
                    .iter()
                    .map(|c| {
                        let t = c["tenant"].as_str().unwrap_or_default().to_string();
                        (t, c["seq"].as_u64().unwrap_or_default())
                    })
                    .collect();
                (i["name"].as_str().unwrap_or_default().to_string(), at)
            })
            .collect();
        sinks.iter().all(|n| starts.contains_key(*n))
    });
    starts
}

/// Every chain entry igd holds now: the named tenants' chains, the chains that existed when
/// the sinks started, and any chain a receiver has seen.
fn chains(igd: &Igd, tenants: &[&str], starts: &Starts, rx: &[(&str, &State)]) -> Vec<Value> {
    let mut names: BTreeSet<String> = tenants.iter().map(|t| t.to_string()).collect();
    names.extend(starts.values().flat_map(|c| c.keys().cloned()));
    for (_, st) in rx {
        for (entry, _) in &st.lock().unwrap().accepted {
            if let Some(t) = entry["tenant"].as_str() {
                names.insert(t.to_string());
            }
        }
    }
    names.iter().flat_map(|t| export(igd, t)).collect()
}

fn received_ids(st: &State) -> BTreeSet<String> {
    st.lock()
        .unwrap()
        .accepted
        .iter()
        .map(|(e, _)| e["event_id"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Wait (at most 90 s) until `done` holds, polling.
fn wait_until(igd: &Igd, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in 90 s; igd logs:\n{}",
            igd.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Wait until each receiver holds exactly the entries past its sink's start that `expected`
/// picks out of the chains (re-read on every poll: outcomes land just after their calls
/// answer); return them per sink, by event_id.
fn wait_delivered(
    igd: &Igd,
    rx: &[(&str, &State)],
    starts: &Starts,
    tenants: &[&str],
    expected: impl Fn(&Value) -> bool,
) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut want = BTreeMap::new();
    wait_until(igd, "delivery of every chain entry", || {
        let rows = chains(igd, tenants, starts, rx);
        want = rx
            .iter()
            .map(|(name, _)| {
                let start = starts.get(*name).cloned().unwrap_or_default();
                let mine: BTreeMap<String, Value> = rows
                    .iter()
                    .filter(|r| {
                        let tenant = r["tenant"].as_str().unwrap_or_default();
                        r["seq"].as_u64().unwrap_or_default()
                            > start.get(tenant).copied().unwrap_or(0)
                    })
                    .filter(|r| expected(r))
                    .map(|r| {
                        (
                            r["event_id"].as_str().unwrap_or_default().to_string(),
                            r.clone(),
                        )
                    })
                    .collect();
                (name.to_string(), mine)
            })
            .collect();
        rx.iter().all(|(name, st)| {
            let ids: BTreeSet<String> = want[*name].keys().cloned().collect();
            received_ids(st) == ids
        })
    });
    want
}

/// Each entry arrived once (no duplicates) and carries exactly the chain's fields.
fn assert_once_and_equal(name: &str, st: &State, want: &BTreeMap<String, Value>) {
    let seen = st.lock().unwrap();
    assert!(seen.violations.is_empty(), "{name}: {:?}", seen.violations);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (entry, _) in &seen.accepted {
        *counts
            .entry(entry["event_id"].as_str().unwrap_or_default())
            .or_default() += 1;
        let id = entry["event_id"].as_str().unwrap_or_default();
        assert_eq!(
            Some(entry),
            want.get(id),
            "{name}: entry {id} differs from the chain"
        );
    }
    let dupes: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        dupes.is_empty(),
        "{name}: delivered more than once: {dupes:?}"
    );
    assert_eq!(counts.len(), want.len(), "{name}");
}

/// The vendor-specific fields of each event: time, host and the like from the entry.
fn assert_vendor_fields(rx: &Receivers) {
    for (entry, env) in &rx.splunk.1.lock().unwrap().accepted {
        let ts = entry["ts"].as_i64().unwrap();
        let time = env["time"].as_f64().unwrap();
        assert_eq!((time * 1e6).round() as i64, ts, "Splunk time {env}");
        assert_eq!(env["host"], entry["instance"]);
        assert_eq!(env["index"], "intentgate");
    }
    for (entry, log) in &rx.datadog.1.lock().unwrap().accepted {
        let ts = entry["ts"].as_i64().unwrap();
        assert_eq!(
            log["timestamp"].as_i64(),
            Some(ts / 1000),
            "Datadog timestamp {log}"
        );
        assert_eq!(log["hostname"], entry["instance"]);
        let message = log["message"].as_str().unwrap();
        assert!(
            message.starts_with(entry["kind"].as_str().unwrap()),
            "{message}"
        );
    }
    for (entry, record) in &rx.sentinel.1.lock().unwrap().accepted {
        let ts = entry["ts"].as_i64().unwrap();
        let at = rfc3339_micros(record["TimeGenerated"].as_str().unwrap());
        assert_eq!(at, Some(ts), "Sentinel TimeGenerated {record}");
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` as µs since the epoch (the UTC form TimeGenerated takes).
fn rfc3339_micros(text: &str) -> Option<i64> {
    let (date, rest) = text.split_once('T')?;
    let clock = rest.strip_suffix('Z')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let micros = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").get(..6)?.parse::<i64>().ok()?
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1_000_000) + micros)
}

fn is_finding(row: &Value) -> bool {
    match row["kind"].as_str() {
        Some("decision") => {
            matches!(row["decision"].as_str(), Some("block") | Some("escalate"))
                || row["requires_step_up"] == true
        }
        Some("approval") | Some("admin") => true,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn every_chain_entry_reaches_each_siem_once_with_its_fields() {
    let rx = Receivers::start();
    let (igd, _dir) = start(&rx.env());
    let starts = wait_registered(&igd, &SINKS);
    let (token, _) = igd.mint("acme", "agent-x", "echo,other", 50);
    make_calls(&igd, &token, "first");
    let (token_b, _) = igd.mint("beta", "agent-y", "echo", 50);
    let v = call_tool(igd.addr, &token_b, "echo", json!({"message": "b"}))
        .unwrap()
        .json();
    assert!(v["result"].is_object(), "{v}");

    let want = wait_delivered(&igd, &rx.all(), &starts, &["acme", "beta"], |_| true);
    for (name, st) in rx.all() {
        let mine = &want[name];
        let acme: Vec<&Value> = mine.values().filter(|r| r["tenant"] == "acme").collect();
        let count = |kind: &str| acme.iter().filter(|r| r["kind"] == kind).count();
        assert!(
            count("decision") >= 4 && count("outcome") >= 2,
            "{name}: acme's whole chain (4 decisions, 2 outcomes): {acme:?}"
        );
        assert_eq!(
            acme.len(),
            export(&igd, "acme").len(),
            "{name}: acme's chain began after the sink started, so all of it"
        );
        assert!(mine.values().any(|r| r["tenant"] == "beta"), "{name}: beta");
        assert_once_and_equal(name, st, mine);
    }
    assert_vendor_fields(&rx);
    // One token served every call to the ingestion endpoint.
    let s = rx.sentinel.1.lock().unwrap();
    assert_eq!(s.tokens.len(), 1, "token fetched once");
    assert!(s.bearers.iter().all(|b| *b == s.tokens[0]));
}

#[test]
fn findings_mode_delivers_blocks_and_admin_actions_only() {
    let rx = Receivers::start();
    let mut env = rx.env();
    env.push(("INTENTGATE_SIEM_EVENTS".into(), "findings".into()));
    let (igd, _dir) = start(&env);
    let starts = wait_registered(&igd, &SINKS);
    let (token, _) = igd.mint("acme", "agent-x", "echo,other", 50);
    make_calls(&igd, &token, "findings");
    // A last block after everything else: chain order means that once it has arrived, any
    // allowed call or outcome before it would have arrived too, had it been sent.
    let v = call_tool(igd.addr, &token, "other", json!({"message": "last"}))
        .unwrap()
        .json();
    assert_eq!(v["error"]["code"], -31002);

    let want = wait_delivered(&igd, &rx.all(), &starts, &["acme"], is_finding);
    let chain = export(&igd, "acme");
    let head = chain.last().unwrap();
    assert_eq!(head["decision"], "block", "the last block heads the chain");
    assert!(
        chain.iter().filter(|r| !is_finding(r)).count() >= 4,
        "the chain also holds allowed calls and outcomes, which findings mode leaves out"
    );
    for (name, st) in rx.all() {
        let mine = &want[name];
        assert!(
            mine.contains_key(head["event_id"].as_str().unwrap()),
            "{name}"
        );
        let blocks = mine
            .values()
            .filter(|r| r["tenant"] == "acme" && r["kind"] == "decision")
            .count();
        assert_eq!(blocks, 3, "{name}: three blocks in acme: {mine:?}");
        assert_once_and_equal(name, st, mine);
        let seen = st.lock().unwrap();
        assert!(
            seen.accepted.iter().all(|(e, _)| is_finding(e)),
            "{name} got a non-finding"
        );
    }
}

#[test]
fn a_receiver_that_fails_then_recovers_gets_everything_once() {
    let rx = Receivers::start();
    for (_, st) in rx.all() {
        st.lock().unwrap().fail_next = 2;
    }
    let (igd, _dir) = start(&rx.env());
    let starts = wait_registered(&igd, &SINKS);
    let (token, _) = igd.mint("acme", "agent-x", "echo,other", 50);
    make_calls(&igd, &token, "outage");
    let want = wait_delivered(&igd, &rx.all(), &starts, &["acme"], |_| true);
    for (name, st) in rx.all() {
        assert_eq!(
            st.lock().unwrap().failed,
            2,
            "{name} answered 503 twice first"
        );
        assert!(want[name].len() >= 6, "{name}: {:?}", want[name]);
        assert_once_and_equal(name, st, &want[name]);
    }
}

#[test]
fn the_sentinel_token_is_cached_and_fetched_again_after_a_401() {
    let rx = Receivers::start();
    let (igd, _dir) = start(&rx.env());
    let starts = wait_registered(&igd, &SINKS);
    let (token, _) = igd.mint("acme", "agent-x", "echo,other", 50);
    let sentinel = &rx.sentinel.1;
    let only = [("sentinel", sentinel)];
    make_calls(&igd, &token, "one");
    wait_delivered(&igd, &only, &starts, &["acme"], |_| true);
    let calls_before = sentinel.lock().unwrap().bearers.len();
    make_calls(&igd, &token, "two");
    wait_delivered(&igd, &only, &starts, &["acme"], |_| true);
    {
        let s = sentinel.lock().unwrap();
        assert!(s.bearers.len() > calls_before, "a second ingestion call");
        assert_eq!(s.tokens.len(), 1, "the token was reused");
    }
    // The endpoint stops honouring it (expired early, or revoked): igd fetches a new one.
    {
        let mut s = sentinel.lock().unwrap();
        let first = s.tokens[0].clone();
        s.revoked.insert(first);
    }
    make_calls(&igd, &token, "three");
    let want = wait_delivered(&igd, &only, &starts, &["acme"], |_| true);
    let s = sentinel.lock().unwrap();
    assert_eq!(s.tokens.len(), 2, "fetched again once after the 401");
    assert_eq!(s.bearers.last(), Some(&s.tokens[1]));
    drop(s);
    assert_once_and_equal("sentinel", sentinel, &want["sentinel"]);
}

#[test]
fn check_config_refuses_siem_settings_that_would_leak_or_half_work() {
    let dir = tempfile::tempdir().unwrap();
    let check = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(igd_bin());
        cmd.arg("check-config")
            .env_clear()
            .env("INTENTGATE_DATA_DIR", dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let sentinel_ok = [
        (
            "INTENTGATE_SIEM_SENTINEL_ENDPOINT",
            "https://dce.example.ingest.monitor.azure.com",
        ),
        ("INTENTGATE_SIEM_SENTINEL_DCR_ID", DCR),
        ("INTENTGATE_SIEM_SENTINEL_STREAM", STREAM),
        ("INTENTGATE_SIEM_SENTINEL_TENANT_ID", AZ_TENANT),
        ("INTENTGATE_SIEM_SENTINEL_CLIENT_ID", AZ_CLIENT),
        ("INTENTGATE_SIEM_SENTINEL_CLIENT_SECRET", AZ_SECRET),
    ];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                (
                    "INTENTGATE_SIEM_SPLUNK_URL",
                    "http://splunk.example:8088/services/collector/event",
                ),
                ("INTENTGATE_SIEM_SPLUNK_TOKEN", SPLUNK_TOKEN),
            ],
            "INTENTGATE_SIEM_SPLUNK_URL",
        ),
        (
            vec![(
                "INTENTGATE_SIEM_DATADOG_URL",
                "https://http-intake.logs.datadoghq.eu/api/v2/logs",
            )],
            "INTENTGATE_SIEM_DATADOG_API_KEY",
        ),
        (
            vec![("INTENTGATE_SIEM_SPLUNK_TOKEN", SPLUNK_TOKEN)],
            "INTENTGATE_SIEM_SPLUNK_URL",
        ),
        (
            sentinel_ok[..4].to_vec(),
            "INTENTGATE_SIEM_SENTINEL_CLIENT_ID",
        ),
        (
            sentinel_ok
                .iter()
                .copied()
                .chain([(
                    "INTENTGATE_SIEM_SENTINEL_TOKEN_URL",
                    "http://login.example/t/token",
                )])
                .collect(),
            "INTENTGATE_SIEM_SENTINEL_TOKEN_URL",
        ),
        (
            vec![("INTENTGATE_SIEM_EVENTS", "findings")],
            "INTENTGATE_SIEM_EVENTS",
        ),
    ];
    for (env, var) in &cases {
        let (code, text) = check(env);
        assert_eq!(code, Some(64), "{env:?}: {text}");
        assert!(text.contains(var), "{var} named: {text}");
        for secret in [SPLUNK_TOKEN, AZ_SECRET] {
            assert!(!text.contains(secret), "a secret echoed: {text}");
        }
    }
    // The complete groups pass.
    let mut full = sentinel_ok.to_vec();
    full.extend([
        (
            "INTENTGATE_SIEM_SPLUNK_URL",
            "https://splunk.example:8088/services/collector/event",
        ),
        ("INTENTGATE_SIEM_SPLUNK_TOKEN", SPLUNK_TOKEN),
        (
            "INTENTGATE_SIEM_DATADOG_URL",
            "https://http-intake.logs.datadoghq.eu/api/v2/logs",
        ),
        ("INTENTGATE_SIEM_DATADOG_API_KEY", DD_KEY),
        ("INTENTGATE_SIEM_EVENTS", "findings"),
    ]);
    let (code, text) = check(&full);
    assert_eq!(code, Some(0), "{text}");
}
