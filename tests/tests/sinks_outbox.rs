//! The audit fan-out and the signed webhook, end to end: a real igd delivers findings to a local
//! receiver that verifies the Standard Webhooks signature (and is itself checked against the
//! specification's published vector), bounds the timestamp (±5 min), refuses a replayed
//! `webhook-id` (409) and records what arrives. Covered: the events filter, a receiver down for
//! a minute, a restart in the middle of a backlog, two replicas on PostgreSQL, `Retry-After`,
//! a 410, `igctl integrations` and the tenant scope of the integrations API.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use base64::Engine as _;
use hmac::{Hmac, Mac};
use intentgate_tests::pg::TestDb;
use intentgate_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The webhook's signing key (32 bytes), and the secret igd is given.
const KEY: [u8; 32] = [0x5a; 32];

fn secret() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(KEY)
    )
}

// --- The receiver -----------------------------------------------------------------------------

/// The receiver's verdict on a request's signature headers: `Err` says why it is refused.
/// Standard Webhooks: `webhook-signature` is a space-separated list of `v1,<base64>`; one must
/// be the HMAC-SHA256 of `{id}.{timestamp}.{body}` under the key; the timestamp within 5 min.
fn verify(
    key: &[u8],
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<(), String> {
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| format!("bad webhook-timestamp {timestamp:?}"))?;
    if (now - ts).abs() > 300 {
        return Err(format!(
            "webhook-timestamp {ts} is more than 5 min from {now}"
        ));
    }
    for candidate in signatures.split(' ') {
        let Some(b64) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(b64) else {
            continue;
        };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(body);
        if mac.verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err("no valid v1 signature".into())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How the receiver answers a valid, new request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Accept,
    /// 429 with `Retry-After` this many more times.
    Throttle {
        times: u32,
        retry_after: u64,
    },
    /// 410 Gone, always.
    Gone,
    /// Accept, answering only after this many ms.
    Slow(u64),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
struct Arrival {
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    at: Instant,
    status: u16,
}

impl Arrival {
    fn id(&self) -> &str {
        self.headers.get("webhook-id").map_or("", String::as_str)
    }
}

#[derive(Debug, Default)]
struct Log {
    /// Every request, answered with `status`.
    arrivals: Vec<Arrival>,
    /// `webhook-id`s accepted (once each).
    seen: HashSet<String>,
}

#[derive(Debug)]
struct Receiver {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    log: Arc<Mutex<Log>>,
    server: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Receiver {
    fn start(mode: Mode) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut r = Receiver {
            port: listener.local_addr().unwrap().port(),
            mode: Arc::new(Mutex::new(mode)),
            log: Arc::default(),
            server: None,
        };
        r.serve(listener);
        r
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn serve(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (mode, log, flag) = (self.mode.clone(), self.log.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => handle(stream, &mode, &log),
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        self.server = Some((stop, thread));
    }

    /// Stop listening: connections are refused until [`Receiver::up`].
    fn down(&mut self) {
        if let Some((stop, thread)) = self.server.take() {
            stop.store(true, Ordering::Relaxed);
            thread.join().unwrap();
        }
    }

    fn up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {e}", self.port);
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.port),
            }
        };
        self.serve(listener);
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn arrivals(&self) -> Vec<Arrival> {
        self.log.lock().unwrap().arrivals.clone()
    }

    /// The ids accepted, in arrival order.
    fn accepted(&self) -> Vec<String> {
        self.arrivals()
            .iter()
            .filter(|a| a.status == 200)
            .map(|a| a.id().to_string())
            .collect()
    }

    /// Requests refused for anything but throttling/gone (bad signature, replay, …).
    fn refused(&self) -> Vec<(u16, String)> {
        self.arrivals()
            .iter()
            .filter(|a| ![200, 429, 410].contains(&a.status))
            .map(|a| (a.status, a.id().to_string()))
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down();
    }
}

fn handle(mut stream: TcpStream, mode: &Mutex<Mode>, log: &Mutex<Log>) {
    let at = Instant::now();
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let Some(req) = read_request(&mut std::io::BufReader::new(&stream)) else {
        return;
    };
    let get = |k: &str| req.header(k).unwrap_or_default().to_string();
    let body = &req.body;
    let verdict = if req.method != "POST" || req.target != "/hook" {
        Err((404, format!("unexpected {} {}", req.method, req.target)))
    } else if get("content-type") != "application/json" {
        Err((415, get("content-type")))
    } else {
        verify(
            &KEY,
            &get("webhook-id"),
            &get("webhook-timestamp"),
            &get("webhook-signature"),
            body,
            unix_now(),
        )
        .map_err(|why| (401, why))
    };
    let mut delay = 0;
    let (status, extra) = {
        let mut log = log.lock().unwrap();
        let mut mode = mode.lock().unwrap();
        let answer = match (verdict, *mode) {
            (Err((status, _)), _) => (status, String::new()),
            (Ok(()), Mode::Throttle { times, retry_after }) if times > 0 => {
                *mode = Mode::Throttle {
                    times: times - 1,
                    retry_after,
                };
                (429, format!("Retry-After: {retry_after}\r\n"))
            }
            (Ok(()), Mode::Gone) => (410, String::new()),
            (Ok(()), _) if !log.seen.insert(get("webhook-id")) => (409, String::new()),
            (Ok(()), m) => {
                if let Mode::Slow(ms) = m {
                    delay = ms;
                }
                (200, String::new())
            }
        };
        log.arrivals.push(Arrival {
            // Lower-case names, as the assertions read them.
            headers: req
                .headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .collect(),
            body: body.clone(),
            at,
            status: answer.0,
        });
        answer
    };
    std::thread::sleep(Duration::from_millis(delay));
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n{extra}\r\n"
    );
    let _ = stream.flush();
}

/// The receiver's verifier reproduces the Standard Webhooks specification's published vector
/// and refuses a tampered body, a stale timestamp and a foreign key: the tests below lean on it.
#[test]
fn the_receivers_verifier_matches_the_specification_vector() {
    let key = base64::engine::general_purpose::STANDARD
        .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .unwrap();
    let (id, ts, body) = (
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        br#"{"test": 2432232314}"#.as_slice(),
    );
    let sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let now = 1614265330;
    assert_eq!(verify(&key, id, ts, sig, body, now), Ok(()));
    assert_eq!(
        verify(&key, id, ts, &format!("v1,bm9wZQ== {sig}"), body, now + 299),
        Ok(())
    );
    assert!(verify(&key, id, ts, sig, br#"{"test": 2432232315}"#, now).is_err());
    assert!(verify(&key, id, ts, sig, body, now + 301).is_err());
    assert!(verify(&key, id, ts, sig, body, now - 301).is_err());
    assert!(verify(&key, "msg_other", ts, sig, body, now).is_err());
    assert!(verify(&KEY, id, ts, sig, body, now).is_err());
    assert!(verify(
        &key,
        id,
        ts,
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        body,
        now
    )
    .is_err());
}

// --- igd ------------------------------------------------------------------------------------

fn policy() -> String {
    workspace()
        .join("policies/example.rego")
        .display()
        .to_string()
}

/// igd with the example policy (reads allowed, `delete*` escalated with step-up, the rest
/// denied), no approvals queue (escalations are refused at once) and a webhook to `receiver`.
fn igd_with_webhook(receiver: &Receiver, events: &str, extra: &[(&str, &str)]) -> Igd {
    let (url, secret, policy) = (receiver.url(), secret(), policy());
    let mut env = vec![
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.as_str()),
        ("INTENTGATE_APPROVAL_QUEUE", "off"),
        ("INTENTGATE_WEBHOOK_URL", url.as_str()),
        ("INTENTGATE_WEBHOOK_SECRET", secret.as_str()),
        ("INTENTGATE_WEBHOOK_EVENTS", events),
    ];
    env.extend_from_slice(extra);
    Igd::start(&env)
}

/// `n` calls the policy denies (a tool it does not cover), with `token`, on `igd`.
fn denied_calls(addr: std::net::SocketAddr, token: &str, n: usize, tag: &str) {
    for i in 0..n {
        let r = call_tool(addr, token, "send_sms", json!({"to": format!("{tag}-{i}")})).unwrap();
        assert!(r.text().contains("error"), "not refused: {}", r.text());
    }
}

/// The event ids of the decision entries with these verdicts (what the webhook owes).
fn findings(igd: &Igd, decisions: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for d in decisions {
        let list = igd
            .admin_http(
                "GET",
                &format!("/v1/admin/audit?decision={d}&limit=1000"),
                &[],
                b"",
            )
            .json();
        for e in list["entries"].as_array().unwrap() {
            assert_eq!(e["decision"], *d);
            out.insert(e["event_id"].as_str().unwrap().to_string());
        }
    }
    out
}

fn webhook_status(igd: &Igd) -> Value {
    let list = igd
        .admin_http("GET", "/v1/admin/integrations", &[], b"")
        .json();
    list["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "webhook")
        .cloned()
        .unwrap_or(Value::Null)
}

/// Poll (every 100 ms, at most `secs`) until `done` holds; panics with `what` otherwise.
fn wait_for(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every event owed arrived, each exactly once, and nothing else did.
fn assert_exactly_once(receiver: &Receiver, owed: &BTreeSet<String>) {
    let accepted = receiver.accepted();
    let unique: BTreeSet<String> = accepted.iter().cloned().collect();
    assert_eq!(unique.len(), accepted.len(), "accepted twice: {accepted:?}");
    assert_eq!(&unique, owed);
    assert_eq!(receiver.refused(), Vec::<(u16, String)>::new());
}

// --- Tests ----------------------------------------------------------------------------------

/// Denials and escalations of calls through igd arrive signed, one per request, with the
/// entry as `data`; an allowed call does not (the events filter); a replay of a delivered
/// request is refused by the receiver (409) and a tampered body fails its verification (401).
#[test]
fn findings_arrive_signed_and_filtered() {
    let receiver = Receiver::start(Mode::Accept);
    let igd = igd_with_webhook(&receiver, "deny,escalate", &[]);
    let (token, _) = igd.mint("acme", "agent-1", "echo,delete_file,send_sms", 100);
    let allowed = call_tool(igd.addr, &token, "echo", json!({"message": "hi"})).unwrap();
    assert!(allowed.text().contains("hi"), "{}", allowed.text());
    call_tool(igd.addr, &token, "delete_file", json!({"path": "/x"})).unwrap();
    call_tool(igd.addr, &token, "wipe_disk", json!({})).unwrap();
    denied_calls(igd.addr, &token, 2, "sms");

    let owed = findings(&igd, &["block", "escalate"]);
    assert_eq!(owed.len(), 4, "{owed:?}");
    wait_for(30, "the findings at the receiver", || {
        receiver.accepted().len() >= owed.len()
    });
    // A moment more: nothing else (the allow, its outcome) may follow.
    std::thread::sleep(Duration::from_millis(1500));
    assert_exactly_once(&receiver, &owed);

    let arrivals = receiver.arrivals();
    let mut types = BTreeMap::new();
    for a in &arrivals {
        let body: Value = serde_json::from_slice(&a.body).unwrap();
        assert_eq!(body["data"]["event_id"], a.id());
        assert_eq!(body["data"]["tenant"], "acme");
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
        let ts: i64 = a.headers["webhook-timestamp"].parse().unwrap();
        assert!((unix_now() - ts).abs() < 120);
        *types
            .entry(body["type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(
        types,
        BTreeMap::from([
            ("intentgate.deny".to_string(), 3),
            ("intentgate.escalate".to_string(), 1)
        ])
    );
    let allowed_ids = findings(&igd, &["allow"]);
    assert!(!allowed_ids.is_empty());
    assert!(allowed_ids
        .iter()
        .all(|id| !receiver.accepted().contains(id)));

    // The same request again: refused as a replay. With one byte of the body changed: refused
    // as unsigned.
    let first = &arrivals[0];
    let headers: Vec<(&str, &str)> = first
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("webhook-") || *k == "content-type")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{}", receiver.port).parse().unwrap();
    let replay = http(addr, "POST", "/hook", &headers, &first.body).unwrap();
    assert_eq!(replay.status, 409);
    let mut tampered = first.body.clone();
    let at = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[at] = b'2';
    let forged = http(addr, "POST", "/hook", &headers, &tampered).unwrap();
    assert_eq!(forged.status, 401);

    let status = webhook_status(&igd);
    assert_eq!(status["state"], "ok", "{status}");
    assert_eq!(status["kind"], "webhook");
    assert_eq!(status["lag_entries"], 0, "{status}");
    assert_eq!(status["delivered"], 4, "{status}");
}

/// The receiver down (not listening) for a minute while calls are denied: the sink shows
/// `retrying` with the error and a growing lag; once it is back every event arrives exactly
/// once and the lag is 0.
#[test]
fn an_outage_delays_and_loses_nothing() {
    let mut receiver = Receiver::start(Mode::Accept);
    let igd = igd_with_webhook(&receiver, "deny", &[]);
    let (token, _) = igd.mint("acme", "agent-1", "send_sms", 1000);
    denied_calls(igd.addr, &token, 2, "before");
    wait_for(30, "the first findings", || receiver.accepted().len() == 2);

    receiver.down();
    let down_at = Instant::now();
    denied_calls(igd.addr, &token, 3, "during");
    wait_for(30, "the sink to report the outage", || {
        let s = webhook_status(&igd);
        s["state"] == "retrying"
            && s["last_error"].is_string()
            && s["lag_entries"].as_u64() > Some(0)
    });
    let during = webhook_status(&igd);
    assert!(
        during["last_error"].as_str().unwrap().contains("connect"),
        "{during}"
    );
    assert!(during["next_attempt_at"].is_string(), "{during}");
    assert!(during["failed"].as_u64() >= Some(1), "{during}");
    denied_calls(igd.addr, &token, 3, "later");
    wait_for(30, "the lag to count every call", || {
        webhook_status(&igd)["lag_entries"].as_u64() >= Some(6)
    });
    while down_at.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        webhook_status(&igd)["oldest_pending_seconds"].as_u64() >= Some(30),
        "{}",
        webhook_status(&igd)
    );

    receiver.up();
    let owed = findings(&igd, &["block"]);
    assert_eq!(owed.len(), 8);
    // The backoff may have reached ~64 s by now.
    wait_for(180, "every event after the outage", || {
        receiver.accepted().len() >= owed.len()
    });
    wait_for(30, "the lag to drain", || {
        let s = webhook_status(&igd);
        s["lag_entries"] == 0 && s["state"] == "ok"
    });
    assert_exactly_once(&receiver, &owed);
}

/// igd stopped in the middle of a backlog and started again: it goes on from the cursor it
/// persisted: the rest arrives, nothing twice.
#[test]
fn a_restart_mid_backlog_delivers_the_rest_once() {
    let mut receiver = Receiver::start(Mode::Accept);
    let mut igd = igd_with_webhook(&receiver, "deny", &[]);
    let (token, _) = igd.mint("acme", "agent-1", "send_sms", 1000);
    receiver.down();
    denied_calls(igd.addr, &token, 20, "backlog");
    wait_for(30, "the backlog", || {
        webhook_status(&igd)["lag_entries"].as_u64() >= Some(20)
    });
    let owed = findings(&igd, &["block"]);
    assert_eq!(owed.len(), 20);

    // Back, answering slowly, so the backlog takes seconds to drain.
    receiver.set_mode(Mode::Slow(500));
    receiver.up();
    wait_for(180, "the first deliveries", || {
        receiver.accepted().len() >= 3
    });
    igd.terminate();
    let before = receiver.accepted().len();
    assert!(
        before < owed.len(),
        "the backlog drained before the restart"
    );
    igd.kill_and_restart();
    receiver.set_mode(Mode::Accept);
    wait_for(120, "the rest of the backlog", || {
        receiver.accepted().len() >= owed.len()
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_exactly_once(&receiver, &owed);
    let after = webhook_status(&igd);
    assert_eq!(after["lag_entries"], 0, "{after}");
    assert_eq!(
        after["delivered"].as_u64(),
        Some((owed.len() - before) as u64),
        "the restarted igd sent again what was delivered before: {after}"
    );
}

/// A 429 with `Retry-After: 3`: the next attempt comes no earlier than 3 s later.
#[test]
fn retry_after_is_honoured() {
    let receiver = Receiver::start(Mode::Throttle {
        times: 1,
        retry_after: 3,
    });
    let igd = igd_with_webhook(&receiver, "deny", &[]);
    let (token, _) = igd.mint("acme", "agent-1", "send_sms", 10);
    denied_calls(igd.addr, &token, 1, "throttled");
    wait_for(60, "the delivery after the 429", || {
        receiver.accepted().len() == 1
    });
    let arrivals = receiver.arrivals();
    assert_eq!(arrivals.len(), 2, "{arrivals:?}");
    assert_eq!(arrivals[0].status, 429);
    assert_eq!(
        arrivals[0].id(),
        arrivals[1].id(),
        "webhook-id changed on retry"
    );
    let waited = arrivals[1].at - arrivals[0].at;
    assert!(waited >= Duration::from_secs(3), "retried after {waited:?}");
    assert_exactly_once(&receiver, &findings(&igd, &["block"]));
}

/// A 410 Gone: nothing is dropped; the sink shows `refused`, waits the longest (5 min), and
/// keeps the entry pending.
#[test]
fn gone_is_refused_and_kept() {
    let receiver = Receiver::start(Mode::Gone);
    let igd = igd_with_webhook(&receiver, "deny", &[]);
    let (token, _) = igd.mint("acme", "agent-1", "send_sms", 10);
    denied_calls(igd.addr, &token, 1, "gone");
    wait_for(30, "the refused state", || {
        webhook_status(&igd)["state"] == "refused"
    });
    let s = webhook_status(&igd);
    assert!(s["last_error"].as_str().unwrap().contains("410"), "{s}");
    // The finding, and the mint's admin entry before it on the new chain.
    assert_eq!(s["lag_entries"], 2, "{s}");
    let next = s["next_attempt_at"].as_str().unwrap();
    let err_at = s["last_error_at"].as_str().unwrap();
    let secs = |t: &str| {
        // RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SS[.f]Z": compare on the day's seconds.
        let hms = &t[11..19];
        let p: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        p[0] * 3600 + p[1] * 60 + p[2]
    };
    let wait = (secs(next) - secs(err_at)).rem_euclid(86_400);
    assert!(
        (299..=301).contains(&wait),
        "next attempt {wait} s later: {s}"
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        receiver.arrivals().len(),
        1,
        "retried before the longest wait"
    );
}

/// `igctl integrations`: a table for people, JSON for scripts; a tenant-confined caller sees
/// its tenant's sinks only (not the webhook of every chain).
#[test]
fn igctl_integrations_shows_the_sinks() {
    let receiver = Receiver::start(Mode::Accept);
    let tenant_token = "t".repeat(40);
    let admins = format!("acme:{tenant_token}");
    let igd = igd_with_webhook(
        &receiver,
        "deny",
        &[("INTENTGATE_TENANT_ADMINS", admins.as_str())],
    );
    let (token, _) = igd.mint("acme", "agent-1", "send_sms", 10);
    denied_calls(igd.addr, &token, 2, "cli");
    wait_for(30, "the deliveries", || receiver.accepted().len() == 2);

    let out = igd.igctl(&["integrations"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{text}");
    for column in ["KIND", "TENANT", "STATE", "LAG", "DELIVERED", "LAST_ERROR"] {
        assert!(lines[0].contains(column), "{text}");
    }
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&row[..5], ["webhook", "webhook", "*", "ok", "0"], "{text}");
    assert_eq!(lines.len(), 2, "{text}");

    for args in [
        &["integrations", "--json"][..],
        &["-o", "json", "integrations"],
    ] {
        let out = igd.igctl(args);
        assert!(out.status.success(), "{out:?}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let sinks = v["integrations"].as_array().unwrap();
        assert_eq!(sinks.len(), 1, "{v}");
        assert_eq!(sinks[0]["name"], "webhook");
        assert_eq!(sinks[0]["state"], "ok");
        assert_eq!(sinks[0]["delivered"], 2);
        let acme = sinks[0]["cursors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tenant"] == "acme")
            .unwrap();
        assert_eq!(acme["seq"], acme["head"], "{v}");
    }

    let bearer = format!("Bearer {tenant_token}");
    let scoped = http(
        igd.addr,
        "GET",
        "/v1/admin/integrations",
        &[("Authorization", bearer.as_str())],
        b"",
    )
    .unwrap();
    assert_eq!(scoped.status, 200, "{}", scoped.text());
    assert_eq!(scoped.json(), json!({"integrations": []}));
}

/// Two replicas on one PostgreSQL with one webhook: one holds the sink's lease and delivers,
/// the other stands by; calls through both are delivered exactly once; the holder stopped,
/// the other takes over at once and the rest is delivered exactly once too.
#[test]
fn two_replicas_deliver_each_event_once() {
    let db = TestDb::create_blocking();
    let receiver = Receiver::start(Mode::Accept);
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("audit.pem");
    write_audit_key(&key);
    let (url, secret, policy) = (receiver.url(), secret(), policy());
    let env = [
        ("INTENTGATE_POSTGRES_URL", db.url.as_str()),
        (
            "INTENTGATE_MASTER_KEY",
            "4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b",
        ),
        ("INTENTGATE_AUDIT_SIGNING_KEY", key.to_str().unwrap()),
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.as_str()),
        ("INTENTGATE_APPROVAL_QUEUE", "off"),
        ("INTENTGATE_WEBHOOK_URL", url.as_str()),
        ("INTENTGATE_WEBHOOK_SECRET", secret.as_str()),
        ("INTENTGATE_WEBHOOK_EVENTS", "deny"),
    ];
    let mut a = Igd::start(&env);
    let mut b = Igd::start(&env);
    let (token, _) = a.mint("acme", "agent-1", "send_sms", 1000);
    for i in 0..10 {
        let igd = if i % 2 == 0 { &a } else { &b };
        denied_calls(igd.addr, &token, 1, &format!("r{i}"));
    }
    wait_for(60, "one replica delivering, the other on standby", || {
        let mut states = [
            webhook_status(&a)["state"].clone(),
            webhook_status(&b)["state"].clone(),
        ];
        states.sort_by_key(|s| s.to_string());
        states == [json!("ok"), json!("standby")]
    });
    let owed = findings(&a, &["block"]);
    assert_eq!(owed.len(), 10);
    wait_for(60, "the first ten", || receiver.accepted().len() >= 10);
    assert_exactly_once(&receiver, &owed);

    // Stop the holder: the other replica takes the sink over.
    let (holder, other) = if webhook_status(&a)["state"] == "ok" {
        (&mut a, &b)
    } else {
        (&mut b, &a)
    };
    let standby = webhook_status(other);
    assert_eq!(standby["state"], "standby", "{standby}");
    assert!(standby["holder"].is_string(), "{standby}");
    holder.terminate();
    denied_calls(other.addr, &token, 5, "after");
    let owed = findings(other, &["block"]);
    assert_eq!(owed.len(), 15);
    wait_for(60, "the events after the handover", || {
        receiver.accepted().len() >= 15
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_exactly_once(&receiver, &owed);
    assert_eq!(webhook_status(other)["state"], "ok");
}
