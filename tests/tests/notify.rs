//! Notification channels end to end (DESIGN §8): real igd and igctl, and local receivers that
//! check every body against the services' documented formats (Slack Block Kit with a `text`
//! fallback, a Teams message carrying an Adaptive Card 1.4, PagerDuty Events API v2) and
//! answer as the services do (Slack `200 ok`, Teams `202`, PagerDuty `202` JSON).
//!
//! Covered: a blocked call reaches only its own tenant's channels, each finding once and only
//! to the channels whose events select it; PagerDuty dedups on the entry's `event_id`; agent
//! text cannot become a link or a mention; preview shows the exact body and sends nothing;
//! test sends one marked message; remove stops delivery; the store, the logs and every answer
//! hold no webhook URL or routing key; who may manage channels; how failures are reported;
//! a tenant admin's channels reach public addresses only and its tests show no receiver's
//! words; tests are rate-limited; a channel sealed under another key shows as unusable.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A tool name an agent chose to ping a whole channel and plant a deceptive link.
const HOSTILE_TOOL: &str = "lookup<!channel>`<http://evil|x>`@here";
/// What must never reach a receiver as markup.
const INJECTIONS: &[&str] = &["<!channel>", "<http://evil|x>", "@here", "<!here>"];

/// Blocks everything (quoting the tool and more mention bait in the reason), but escalates
/// `wire_money`.
const POLICY: &str = r#"package intentgate.policy

default decision := {"allow": false, "reason": "not covered"}

decision := {"allow": false, "reason": sprintf("tool %v is not allowed <!channel> @here <http://evil|x>", [input.tool])} if {
	input.tool != "wire_money"
}

decision := {"allow": false, "escalate": true, "reason": "wire_money needs a human"} if {
	input.tool == "wire_money"
}
"#;

// --- The receiver ----------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Received {
    path: String,
    body: Value,
    raw: String,
    problems: Vec<String>,
}

/// One local HTTP server for every channel: the first path segment says which service it
/// plays (`/slack/…`, `/teams/…`, `/pd/…`, or `/gone/…`: a deleted Slack webhook's 404).
struct Receiver {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = shared.clone();
                std::thread::spawn(move || serve(stream, log));
            }
        });
        Receiver { addr, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Wait (bounded) until the messages at `path` satisfy `done`; returns them.
    fn wait(&self, path: &str, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let got = self.at(path);
            if done(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path} never got {what}; it got {:#?} (the receiver got {:?})",
                got.iter().map(|r| &r.body).collect::<Vec<_>>(),
                self.all()
                    .iter()
                    .map(|r| (&r.path, &r.problems))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn all(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, log: Arc<Mutex<Vec<Received>>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    while let Some(request) = read_request(&mut reader) {
        let header = |name: &str| request.header(name).map(String::from);
        let (method, path, body) = (&request.method, &request.target, &request.body);
        let raw = String::from_utf8_lossy(body).into_owned();
        let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut problems = Vec::new();
        if method != "POST" {
            problems.push(format!("method {method}, not POST"));
        }
        if !header("content-type").is_some_and(|v| v.starts_with("application/json")) {
            problems.push(format!("content-type {:?}", header("content-type")));
        }
        if header("content-length").is_none() {
            problems.push("no content-length".into());
        }
        let service = path.split('/').nth(1).unwrap_or_default().to_string();
        match service.as_str() {
            "slack" => problems.extend(slack_problems(&parsed)),
            "teams" => problems.extend(teams_problems(&parsed, body.len())),
            "pd" => problems.extend(pagerduty_problems(&parsed)),
            _ => {}
        }
        let (status, content_type, answer) = match (service.as_str(), problems.is_empty()) {
            ("gone", _) => (404, "text/plain", "no_service".to_string()),
            ("slack", true) => (200, "text/plain", "ok".to_string()),
            ("slack", false) => (400, "text/plain", "invalid_blocks".to_string()),
            ("teams", true) => (202, "text/plain", String::new()),
            ("pd", true) => (
                202,
                "application/json",
                json!({"status": "success", "message": "Event processed",
                    "dedup_key": parsed["dedup_key"]})
                .to_string(),
            ),
            ("pd", false) => (
                400,
                "application/json",
                json!({"status": "invalid event", "message": "Event object is invalid",
                    "errors": problems})
                .to_string(),
            ),
            _ => (400, "text/plain", "bad request".to_string()),
        };
        log.lock().unwrap().push(Received {
            path: path.clone(),
            body: parsed,
            raw,
            problems,
        });
        let reason = match status {
            200 => "OK",
            202 => "Accepted",
            404 => "Not Found",
            _ => "Bad Request",
        };
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            answer.len()
        );
        if stream.write_all(head.as_bytes()).is_err()
            || stream.write_all(answer.as_bytes()).is_err()
        {
            return;
        }
    }
}

// --- The documented formats ------------------------------------------------------------------------

fn chars(v: &Value) -> usize {
    v.as_str().map(|s| s.chars().count()).unwrap_or(0)
}

fn no_injection(where_: &str, text: &str, problems: &mut Vec<String>) {
    for bad in INJECTIONS {
        if text.contains(bad) {
            problems.push(format!("{where_} carries {bad:?} as markup: {text:?}"));
        }
    }
}

/// A Block Kit text object: `plain_text` (optionally `emoji`) or `mrkdwn` (optionally
/// `verbatim`), non-empty text within `max` characters. mrkdwn from igd never holds a `<`
/// (no links, mentions or channel pings of its own, and agent text is escaped).
fn slack_text(where_: &str, t: &Value, max: usize, problems: &mut Vec<String>) {
    let kind = t["type"].as_str().unwrap_or_default();
    if !matches!(kind, "plain_text" | "mrkdwn") {
        problems.push(format!("{where_}: text type {kind:?}"));
    }
    let Some(text) = t["text"].as_str() else {
        problems.push(format!("{where_}: text is not a string"));
        return;
    };
    if text.is_empty() || chars(&t["text"]) > max {
        problems.push(format!(
            "{where_}: text of {} chars (1..={max})",
            chars(&t["text"])
        ));
    }
    for key in t
        .as_object()
        .map(|o| o.keys().cloned().collect::<Vec<String>>())
        .unwrap_or_default()
    {
        let ok = match key.as_str() {
            "type" | "text" => true,
            "emoji" => kind == "plain_text" && t["emoji"].is_boolean(),
            "verbatim" => kind == "mrkdwn" && t["verbatim"].is_boolean(),
            _ => false,
        };
        if !ok {
            problems.push(format!("{where_}: field {key} not allowed on {kind}"));
        }
    }
    if kind == "mrkdwn" {
        if t["verbatim"] != true {
            problems.push(format!(
                "{where_}: mrkdwn without verbatim: true (mentions would be parsed)"
            ));
        }
        if text.contains('<') {
            problems.push(format!("{where_}: mrkdwn carries a raw '<': {text:?}"));
        }
    }
    no_injection(where_, text, problems);
}

fn slack_problems(body: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let Some(obj) = body.as_object() else {
        return vec!["body is not a JSON object".into()];
    };
    for key in obj.keys() {
        if !["text", "blocks"].contains(&key.as_str()) {
            p.push(format!("unexpected top-level field {key}"));
        }
    }
    match body["text"].as_str() {
        Some(t) if !t.is_empty() && t.chars().count() <= 40_000 => {
            no_injection("text", t, &mut p);
            if t.contains('<') {
                p.push(format!("fallback text carries a raw '<': {t:?}"));
            }
        }
        _ => p.push("no top-level text fallback".into()),
    }
    let Some(blocks) = body["blocks"].as_array() else {
        p.push("blocks is not an array".into());
        return p;
    };
    if blocks.is_empty() || blocks.len() > 50 {
        p.push(format!("{} blocks (1..=50)", blocks.len()));
    }
    for (i, b) in blocks.iter().enumerate() {
        let at = format!("blocks[{i}]");
        match b["type"].as_str().unwrap_or_default() {
            "header" => {
                if b["text"]["type"] != "plain_text" {
                    p.push(format!("{at}: a header's text must be plain_text"));
                }
                slack_text(&at, &b["text"], 150, &mut p);
            }
            "section" => {
                let fields = b["fields"].as_array();
                if b["text"].is_null() && fields.is_none() {
                    p.push(format!("{at}: a section needs text or fields"));
                }
                if !b["text"].is_null() {
                    slack_text(&at, &b["text"], 3000, &mut p);
                }
                if let Some(fields) = fields {
                    if fields.is_empty() || fields.len() > 10 {
                        p.push(format!("{at}: {} fields (1..=10)", fields.len()));
                    }
                    for (j, f) in fields.iter().enumerate() {
                        slack_text(&format!("{at}.fields[{j}]"), f, 2000, &mut p);
                    }
                }
            }
            "context" => {
                let els = b["elements"].as_array().cloned().unwrap_or_default();
                if els.is_empty() || els.len() > 10 {
                    p.push(format!("{at}: {} context elements (1..=10)", els.len()));
                }
                for (j, e) in els.iter().enumerate() {
                    slack_text(&format!("{at}.elements[{j}]"), e, 3000, &mut p);
                }
            }
            "divider" => {}
            other => p.push(format!("{at}: block type {other:?}")),
        }
    }
    p
}

/// Texts of an Adaptive Card that Teams reads as Markdown (TextBlock, Fact) and the plain text
/// runs (never Markdown).
fn card_texts(card: &Value) -> (Vec<String>, Vec<String>) {
    let mut markdown = Vec::new();
    let mut runs = Vec::new();
    for el in card["body"].as_array().cloned().unwrap_or_default() {
        match el["type"].as_str().unwrap_or_default() {
            "TextBlock" => markdown.push(el["text"].as_str().unwrap_or_default().to_string()),
            "FactSet" => {
                for f in el["facts"].as_array().cloned().unwrap_or_default() {
                    markdown.push(f["title"].as_str().unwrap_or_default().to_string());
                    markdown.push(f["value"].as_str().unwrap_or_default().to_string());
                }
            }
            "RichTextBlock" => {
                for r in el["inlines"].as_array().cloned().unwrap_or_default() {
                    runs.push(r["text"].as_str().unwrap_or_default().to_string());
                }
            }
            _ => {}
        }
    }
    (markdown, runs)
}

fn teams_problems(body: &Value, size: usize) -> Vec<String> {
    let mut p = Vec::new();
    if size > 28 * 1024 {
        p.push(format!("{size} bytes: Teams takes at most 28 KB"));
    }
    if body["type"] != "message" {
        p.push("type is not message".into());
    }
    let atts = body["attachments"].as_array().cloned().unwrap_or_default();
    if atts.len() != 1 {
        p.push(format!("{} attachments (one card)", atts.len()));
        return p;
    }
    if atts[0]["contentType"] != "application/vnd.microsoft.card.adaptive" {
        p.push(format!("contentType {}", atts[0]["contentType"]));
    }
    let card = &atts[0]["content"];
    if card["$schema"] != "http://adaptivecards.io/schemas/adaptive-card.json" {
        p.push(format!("$schema {}", card["$schema"]));
    }
    if card["type"] != "AdaptiveCard" {
        p.push(format!("card type {}", card["type"]));
    }
    if card["version"] != "1.4" {
        p.push(format!("card version {}", card["version"]));
    }
    let els = card["body"].as_array().cloned().unwrap_or_default();
    if els.is_empty() {
        p.push("empty card body".into());
    }
    for (i, el) in els.iter().enumerate() {
        let at = format!("body[{i}]");
        match el["type"].as_str().unwrap_or_default() {
            "TextBlock" => {
                if el["text"].as_str().is_none_or(str::is_empty) {
                    p.push(format!("{at}: TextBlock without text"));
                }
            }
            "RichTextBlock" => {
                let inl = el["inlines"].as_array().cloned().unwrap_or_default();
                if inl.is_empty()
                    || inl
                        .iter()
                        .any(|r| r["type"] != "TextRun" || !r["text"].is_string())
                {
                    p.push(format!("{at}: inlines must be TextRuns with text"));
                }
            }
            "FactSet" => {
                let facts = el["facts"].as_array().cloned().unwrap_or_default();
                if facts.is_empty()
                    || facts
                        .iter()
                        .any(|f| !f["title"].is_string() || !f["value"].is_string())
                {
                    p.push(format!("{at}: facts must have title and value strings"));
                }
            }
            other => p.push(format!("{at}: element type {other:?}")),
        }
    }
    // Agent text only in text runs: TextBlocks and facts are Markdown (links) in Teams.
    let (markdown, _) = card_texts(card);
    for t in &markdown {
        no_injection("a Markdown text of the card", t, &mut p);
        if t.contains("](") || t.contains("<at>") {
            p.push(format!(
                "a Markdown text of the card carries a link or mention: {t:?}"
            ));
        }
    }
    p
}

fn pagerduty_problems(body: &Value) -> Vec<String> {
    let mut p = Vec::new();
    if body["routing_key"].as_str().is_none_or(|k| k.len() < 16) {
        p.push("routing_key missing".into());
    }
    if body["event_action"] != "trigger" {
        p.push(format!("event_action {}", body["event_action"]));
    }
    if !body["dedup_key"]
        .as_str()
        .is_some_and(|k| !k.is_empty() && k.len() <= 255)
    {
        p.push("dedup_key missing or longer than 255".into());
    }
    let pl = &body["payload"];
    let summary = chars(&pl["summary"]);
    if summary == 0 || summary > 1024 {
        p.push(format!("summary of {summary} chars (1..=1024)"));
    }
    if pl["source"].as_str().is_none_or(str::is_empty) {
        p.push("source missing".into());
    }
    if !["critical", "error", "warning", "info"].contains(&pl["severity"].as_str().unwrap_or("")) {
        p.push(format!("severity {}", pl["severity"]));
    }
    let ts = pl["timestamp"].as_str().unwrap_or_default();
    if !(ts.len() >= 20 && ts.as_bytes().get(10) == Some(&b'T') && ts.ends_with('Z')) {
        p.push(format!("timestamp {ts:?} is not ISO 8601 UTC"));
    }
    for key in ["component", "group", "class"] {
        if !pl[key].is_null() && !pl[key].is_string() {
            p.push(format!("payload.{key} is not a string"));
        }
    }
    if !pl["custom_details"].is_object() {
        p.push("custom_details is not an object".into());
    }
    p
}

// --- Helpers -----------------------------------------------------------------------------------------

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "igctl failed ({:?}): {}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn add(igd: &Igd, args: &[&str]) -> String {
    let mut full = vec!["notify", "add"];
    full.extend(args);
    full.extend(["-o", "json"]);
    let ch = json_of(&igd.igctl(&full));
    ch["id"].as_str().unwrap().to_string()
}

/// A call the policy refuses; returns its decision id.
fn blocked(igd: &Igd, token: &str, tool: &str) -> String {
    let r = call_tool(igd.addr, token, tool, json!({})).unwrap();
    let v = r.json();
    assert_eq!(v["error"]["code"], -31002, "{v}");
    v["error"]["data"]["decision_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn mentions(r: &Received, event_id: &str) -> bool {
    r.raw.contains(event_id)
}

fn all_valid(rx: &Receiver) {
    for r in rx.all() {
        assert!(
            r.problems.is_empty(),
            "{}: {:?}\n{}",
            r.path,
            r.problems,
            r.body
        );
    }
}

struct Setup {
    igd: Igd,
    rx: Receiver,
    _dir: tempfile::TempDir,
}

fn setup(extra: &[(&str, &str)]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.rego");
    std::fs::write(&policy, POLICY).unwrap();
    let mut env = vec![("INTENTGATE_POLICY_FILE", policy.to_str().unwrap())];
    env.extend_from_slice(extra);
    let igd = Igd::start(&env);
    Setup {
        igd,
        rx: Receiver::start(),
        _dir: dir,
    }
}

const SLACK_ACME: &str = "/slack/services/T0ACME/B0ACME/slackSecretAcme0001";
const SLACK_ESC: &str = "/slack/services/T0ACME/B0ESC/slackSecretEscalate02";
const SLACK_GLOBEX: &str = "/slack/services/T0GLOBEX/B0GLOBEX/slackSecretGlobex03";
const TEAMS_ACME: &str = "/teams/workflows/teamsSecretAcme0004/triggers/manual";
const PD_PATH: &str = "/pd/v2/enqueue";
const PD_KEY: &str = "R0uTiNgKeyAcme0000000000000005";

/// Wait for a pending approval of `tool`, then reject it.
fn reject_pending(igd: &Igd, tool: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        let list = json_of(&igd.igctl(&["approvals", "list", "-o", "json"]));
        let row = list["approvals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["tool"] == tool)
            .cloned();
        if let Some(row) = row {
            break row["id"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "no pending approval: {list}");
        std::thread::sleep(Duration::from_millis(100));
    };
    json_of(&igd.igctl(&["approvals", "decide", &id, "reject", "-o", "json"]));
}

// --- The tests -----------------------------------------------------------------------------------------

/// Two tenants' channels; findings reach only their own tenant's channels, once each, as the
/// channel's events select; payloads are valid and escaped; preview is exact and sends
/// nothing; test sends one marked message; remove stops delivery; nothing stores, logs or
/// answers a secret.
#[test]
fn findings_reach_their_tenants_channels_only() {
    let Setup { igd, rx, _dir } = setup(&[]);
    let slack_acme = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "slack",
            "--name",
            "sec",
            "--webhook-url",
            &rx.url(SLACK_ACME),
        ],
    );
    let teams_acme = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "teams",
            "--name",
            "sec-teams",
            "--webhook-url",
            &rx.url(TEAMS_ACME),
        ],
    );
    let pd_url = rx.url(PD_PATH);
    let pd_acme = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "pagerduty",
            "--name",
            "oncall",
            "--routing-key",
            PD_KEY,
            "--events-url",
            &pd_url,
            "--events",
            "deny",
        ],
    );
    let esc_url = rx.url(SLACK_ESC);
    add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "slack",
            "--name",
            "approvers",
            "--webhook-url",
            &esc_url,
            "--events",
            "escalate",
        ],
    );
    add(
        &igd,
        &[
            "--tenant",
            "globex",
            "--kind",
            "slack",
            "--name",
            "sec",
            "--webhook-url",
            &rx.url(SLACK_GLOBEX),
        ],
    );
    // The secret part of each URL, and the routing key.
    let secrets = [
        "slackSecretAcme0001",
        "slackSecretEscalate02",
        "slackSecretGlobex03",
        "teamsSecretAcme0004",
        PD_KEY,
    ];
    let assert_no_secret = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} shows the secret {s}: {text}");
        }
    };

    // The list shows hosts, never URLs or keys.
    let out = igd.igctl(&["notify", "list", "--json"]);
    let list = json_of(&out);
    assert_no_secret("notify list", &String::from_utf8_lossy(&out.stdout));
    let channels = list["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 5, "{list}");
    let host = format!("{}/…", rx.addr);
    assert!(
        channels.iter().all(|c| c["target"] == host.as_str()),
        "{list}"
    );
    let table = igd.igctl(&["notify", "list", "--tenant", "globex"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("globex") && !text.contains("acme"), "{text}");

    let (token_a, _) = igd.mint(
        "acme",
        "agent-a",
        &format!("{HOSTILE_TOOL},wire_money"),
        100,
    );
    let (token_b, _) = igd.mint("globex", "agent-b", HOSTILE_TOOL, 100);

    // A blocked call in acme: each acme channel that wants denials gets it once.
    let a1 = blocked(&igd, &token_a, HOSTILE_TOOL);
    let slack = rx.wait(SLACK_ACME, "the denial", |m| {
        m.iter().any(|r| mentions(r, &a1))
    });
    let teams = rx.wait(TEAMS_ACME, "the denial", |m| {
        m.iter().any(|r| mentions(r, &a1))
    });
    let pd = rx.wait(PD_PATH, "the denial", |m| {
        m.iter().any(|r| mentions(r, &a1))
    });
    all_valid(&rx);
    assert_eq!(slack.len(), 1);
    assert_eq!(teams.len(), 1);
    assert_eq!(pd.len(), 1);
    // Slack: the tool name arrived, escaped (entities, no mention), in a verbatim code span.
    let s = &slack[0];
    assert!(s.raw.contains("&lt;!channel&gt;"), "{}", s.raw);
    assert!(
        s.body["text"].as_str().unwrap().contains("Call blocked"),
        "{}",
        s.body
    );
    // Teams: the tool name arrived verbatim, but only as a plain text run.
    let card = &teams[0].body["attachments"][0]["content"];
    let (_, runs) = card_texts(card);
    assert!(runs.iter().any(|r| r == HOSTILE_TOOL), "{runs:?}");
    // PagerDuty: deduplicated on the decision's event id, routed by its key.
    let p = &pd[0].body;
    assert_eq!(p["dedup_key"], a1.as_str());
    assert_eq!(p["routing_key"], PD_KEY);
    assert_eq!(p["payload"]["severity"], "error");
    assert_eq!(p["payload"]["group"], "acme");
    assert_eq!(p["payload"]["class"], "deny");
    assert_eq!(p["payload"]["custom_details"]["tool"], HOSTILE_TOOL);

    // An escalation: the escalate-only channel gets it, and (behind it on the same chain) has
    // skipped the denial; the PagerDuty channel (deny only) does not get it.
    let waiter = {
        let addr = igd.addr;
        let token = token_a.clone();
        std::thread::spawn(move || call_tool(addr, &token, "wire_money", json!({})))
    };
    reject_pending(&igd, "wire_money");
    let _ = waiter.join();
    let esc = rx.wait(SLACK_ESC, "the escalation", |m| !m.is_empty());
    assert_eq!(
        esc.len(),
        1,
        "{:?}",
        esc.iter().map(|r| &r.raw).collect::<Vec<_>>()
    );
    assert!(!mentions(&esc[0], &a1));
    assert!(esc[0].raw.contains("escalated"), "{}", esc[0].raw);
    let esc_event = esc[0].body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["fields"].as_array().cloned().unwrap_or_default())
        .find_map(|f| {
            f["text"]
                .as_str()
                .and_then(|t| t.strip_prefix("*Event*\n"))
                .map(String::from)
        })
        .unwrap();
    rx.wait(SLACK_ACME, "the escalation", |m| {
        m.iter().any(|r| mentions(r, &esc_event))
    });
    rx.wait(TEAMS_ACME, "the escalation", |m| {
        m.iter().any(|r| mentions(r, &esc_event))
    });

    // Globex's call reaches globex's channel only.
    let b1 = blocked(&igd, &token_b, HOSTILE_TOOL);
    let globex = rx.wait(SLACK_GLOBEX, "globex's denial", |m| !m.is_empty());
    assert_eq!(globex.len(), 1);
    assert!(mentions(&globex[0], &b1) && !mentions(&globex[0], &a1));
    for path in [SLACK_ACME, TEAMS_ACME, PD_PATH, SLACK_ESC] {
        assert!(
            rx.at(path).iter().all(|r| !mentions(r, &b1)),
            "{path} got globex's finding"
        );
    }
    assert_eq!(
        rx.at(PD_PATH).len(),
        1,
        "the deny-only channel got more than the denial"
    );

    // Preview: the exact body for an entry, nothing sent.
    let before = rx.all().len();
    let preview = json_of(&igd.igctl(&[
        "notify",
        "preview",
        &slack_acme,
        "--event",
        &a1,
        "-o",
        "json",
    ]));
    assert_eq!(preview["body"], slack[0].body);
    assert_eq!(preview["would_send"], true);
    let preview =
        json_of(&igd.igctl(&["notify", "preview", &pd_acme, "--event", &a1, "-o", "json"]));
    let mut sent = pd[0].body.clone();
    sent["routing_key"] = json!("<redacted>");
    assert_eq!(preview["body"], sent);
    assert_eq!(preview["redacted"], json!(["routing_key"]));
    let out = igd.igctl(&["notify", "preview", &pd_acme, "--event", &esc_event]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("would not be sent"),
        "{text}"
    );
    let out = igd.igctl(&["notify", "preview", &teams_acme]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\"AdaptiveCard\"") && text.contains("sample"),
        "{text}"
    );
    assert_no_secret("preview", &text);
    let other = igd.igctl(&["notify", "preview", &slack_acme, "--event", &b1]);
    assert_eq!(
        other.status.code(),
        Some(1),
        "another tenant's entry must not be previewed"
    );
    assert_eq!(rx.all().len(), before, "preview sent something");

    // Test: one marked message each, now.
    json_of(&igd.igctl(&["notify", "test", &slack_acme, "-o", "json"]));
    let out = igd.igctl(&["notify", "test", &pd_acme]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rx.all().len(), before + 2);
    let test_slack = rx.at(SLACK_ACME).pop().unwrap();
    assert!(
        test_slack.body["text"]
            .as_str()
            .unwrap()
            .starts_with("[TEST]"),
        "{}",
        test_slack.raw
    );
    let test_pd = rx.at(PD_PATH).pop().unwrap();
    assert_eq!(test_pd.body["payload"]["severity"], "info");
    assert_eq!(test_pd.body["payload"]["custom_details"]["test"], true);
    assert!(test_pd.body["dedup_key"]
        .as_str()
        .unwrap()
        .starts_with("intentgate-test-"));
    assert!(test_pd.body["payload"]["summary"]
        .as_str()
        .unwrap()
        .starts_with("[TEST]"));
    all_valid(&rx);

    // Remove: the Slack channel stops; Teams on the same chain goes on.
    let slack_before = rx.at(SLACK_ACME).len();
    json_of(&igd.igctl(&["notify", "remove", &slack_acme, "-o", "json"]));
    let a2 = blocked(&igd, &token_a, HOSTILE_TOOL);
    rx.wait(TEAMS_ACME, "the denial after removal", |m| {
        m.iter().any(|r| mentions(r, &a2))
    });
    let a3 = blocked(&igd, &token_a, HOSTILE_TOOL);
    rx.wait(TEAMS_ACME, "a second denial after removal", |m| {
        m.iter().any(|r| mentions(r, &a3))
    });
    assert_eq!(
        rx.at(SLACK_ACME).len(),
        slack_before,
        "a removed channel still got findings"
    );
    let list = json_of(&igd.igctl(&["notify", "list", "-o", "json"]));
    assert_eq!(list["channels"].as_array().unwrap().len(), 4);
    let gone = igd.igctl(&["notify", "test", &slack_acme]);
    assert_eq!(gone.status.code(), Some(1));

    // Chained before they took effect, without the secret.
    let audit = igd.igctl(&[
        "audit", "list", "--tenant", "acme", "--limit", "1000", "-o", "json",
    ]);
    let audit_text = String::from_utf8_lossy(&audit.stdout).into_owned();
    let entries = json_of(&audit)["entries"].as_array().cloned().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in ["notify-add", "notify-test", "notify-remove"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    assert!(entries
        .iter()
        .any(|e| e["action"] == "notify-remove" && e["target"] == slack_acme.as_str()));
    assert_no_secret("the audit log", &audit_text);

    // At rest and in the logs: sealed, never in clear.
    let mut stored = Vec::new();
    for name in ["igd.db", "igd.db-wal", "igd.db-shm"] {
        stored.extend(std::fs::read(igd.data_dir.join(name)).unwrap_or_default());
    }
    assert!(stored.len() > 4096);
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        stored.contains("notify_channels"),
        "the table is not in the file"
    );
    assert_no_secret("the database file", &stored);
    assert_no_secret("igd's logs", &igd.logs());
}

/// Who may manage channels (an admin, a tenant admin in its own tenant), how bad input and a
/// failing receiver are reported (never with the URL), and a key read from stdin.
#[test]
fn management_is_scoped_and_failures_are_reported() {
    let tenant_token = "t".repeat(40);
    let admins = format!("acme:{tenant_token}");
    let Setup { igd, rx, _dir } = setup(&[("INTENTGATE_TENANT_ADMINS", &admins)]);
    let globex = add(
        &igd,
        &[
            "--tenant",
            "globex",
            "--kind",
            "teams",
            "--name",
            "g",
            "--webhook-url",
            &rx.url("/teams/g/globexSecret0001"),
        ],
    );
    let as_tenant_admin = |args: &[&str]| {
        let mut full: Vec<String> = vec![
            "--url".into(),
            format!("http://{}", igd.addr),
            "--token".into(),
            tenant_token.clone(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        igctl(&full, &[])
    };
    let gone_url = rx.url("/gone/services/T0/B0/goneSecret0002");
    // A loopback receiver is for an unconfined admin only.
    let out = as_tenant_admin(&[
        "notify",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "slack",
        "--name",
        "old",
        "--webhook-url",
        &gone_url,
        "-o",
        "json",
    ]);
    assert_eq!(json_of_err(&out), "invalid_request");
    let mine = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "slack",
            "--name",
            "old",
            "--webhook-url",
            &gone_url,
        ],
    );
    let out = as_tenant_admin(&[
        "notify",
        "add",
        "--tenant",
        "globex",
        "--kind",
        "slack",
        "--name",
        "x",
        "--webhook-url",
        &gone_url,
    ]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = json_of(&as_tenant_admin(&["notify", "list", "-o", "json"]));
    let ids: Vec<&str> = list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, vec![mine.as_str()]);
    let out = as_tenant_admin(&["notify", "remove", &globex, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of_err(&out), "not_found");
    let out = as_tenant_admin(&["notify", "list", "--tenant", "globex"]);
    assert_eq!(out.status.code(), Some(4));

    // A receiver that refuses: exit 1, its status shown to the tenant admin but not its
    // words (a tenant admin's test is no probe of what igd can reach), the URL not.
    let out = as_tenant_admin(&["notify", "test", &mine]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
    assert!(
        !err.contains("no_service"),
        "the receiver's answer was shown: {err}"
    );
    assert!(!err.contains("goneSecret0002"), "{err}");
    assert_eq!(rx.at("/gone/services/T0/B0/goneSecret0002").len(), 1);
    // One test per channel every 5 s, whoever asks: the next one now is refused, unsent.
    let out = igd.igctl(&["notify", "test", &mine, "-o", "json"]);
    assert_eq!(json_of_err(&out), "rate_limited");
    assert_eq!(rx.at("/gone/services/T0/B0/goneSecret0002").len(), 1);
    // Then the unconfined admin is shown the receiver's answer.
    let deadline = Instant::now() + Duration::from_secs(30);
    let err = loop {
        let out = igd.igctl(&["notify", "test", &mine, "-o", "json"]);
        if json_of_err(&out) != "rate_limited" {
            assert_eq!(out.status.code(), Some(1));
            break format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(Instant::now() < deadline, "still rate-limited after 30 s");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        err.contains("HTTP 404") && err.contains("no_service"),
        "{err}"
    );
    assert_eq!(rx.at("/gone/services/T0/B0/goneSecret0002").len(), 2);

    // Bad input.
    let usage = igd.igctl(&[
        "notify", "add", "--tenant", "acme", "--kind", "slack", "--name", "n",
    ]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = igd.igctl(&[
        "notify",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "pagerduty",
        "--name",
        "n",
    ]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = igd.igctl(&[
        "notify",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "slack",
        "--name",
        "n",
        "--webhook-url",
        "https://h/x",
        "--events",
        "allow",
    ]);
    assert_eq!(usage.status.code(), Some(2));
    let out = igd.igctl(&[
        "notify",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "slack",
        "--name",
        "n",
        "--webhook-url",
        "http://hooks.example.com/services/plainSecret0003",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of_err(&out), "invalid_request");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("plainSecret0003"));
    let dup = igd.igctl(&[
        "notify",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "slack",
        "--name",
        "old",
        "--webhook-url",
        &gone_url,
        "-o",
        "json",
    ]);
    assert_eq!(json_of_err(&dup), "conflict");
    let none = igd.igctl(&["notify", "test", &format!("ntf_{}", "0".repeat(32))]);
    assert_eq!(none.status.code(), Some(1));

    // The routing key from stdin (out of shell history), then a test to prove it was used.
    let key = "StdinRoutingKey000000000000007";
    let pd = rx.url(PD_PATH);
    let out = igctl_stdin(
        &igd,
        &[
            "notify",
            "add",
            "--tenant",
            "acme",
            "--kind",
            "pagerduty",
            "--name",
            "pd",
            "--routing-key",
            "-",
            "--events-url",
            &pd,
            "-o",
            "json",
        ],
        &format!("{key}\n"),
    );
    let id = json_of(&out)["id"].as_str().unwrap().to_string();
    json_of(&igd.igctl(&["notify", "test", &id, "-o", "json"]));
    let got = rx.at(PD_PATH);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["routing_key"], key);
    assert!(got[0].problems.is_empty(), "{:?}", got[0].problems);
    assert!(!igd.logs().contains(key));
}

fn json_of_err(out: &Output) -> String {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or_default().to_string()
}

/// igctl against `igd`'s socket with `input` on its stdin.
fn igctl_stdin(igd: &Igd, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(igctl_bin())
        .arg("--socket")
        .arg(&igd.socket)
        .args(args)
        .env_remove("IGCTL_SOCKET")
        .env_remove("IGCTL_URL")
        .env_remove("IGCTL_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// The first name `/etc/hosts` maps to 127.0.0.1 other than `localhost` (which is refused by
/// name), if it resolves to loopback only.
fn loopback_alias() -> Option<String> {
    use std::net::ToSocketAddrs;
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts
        .lines()
        .filter_map(|l| l.split('#').next())
        .filter(|l| l.split_whitespace().next() == Some("127.0.0.1"))
        .flat_map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .find(|name| {
            !name.eq_ignore_ascii_case("localhost")
                && !name.to_ascii_lowercase().ends_with(".localhost")
                && (name.as_str(), 80).to_socket_addrs().is_ok_and(|mut a| {
                    let all: Vec<_> = a.by_ref().collect();
                    !all.is_empty() && all.iter().all(|a| a.ip().is_loopback())
                })
        })
}

/// A tenant admin's channels reach public addresses only: loopback, link-local and private
/// literals and `localhost` are refused when added, a name that resolves to loopback when it
/// connects (nothing reaches the port); an unconfined admin still adds loopback receivers.
#[test]
fn tenant_admins_channels_reach_public_addresses_only() {
    let tenant_token = "p".repeat(40);
    let admins = format!("acme:{tenant_token}");
    let Setup { igd, rx, _dir } = setup(&[("INTENTGATE_TENANT_ADMINS", &admins)]);
    let as_tenant_admin = |args: &[&str]| {
        let mut full: Vec<String> = vec![
            "--url".into(),
            format!("http://{}", igd.addr),
            "--token".into(),
            tenant_token.clone(),
        ];
        full.extend(args.iter().map(|s| s.to_string()));
        igctl(&full, &[])
    };
    let port = rx.addr.port();
    let refused = [
        rx.url("/slack/services/T0/B0/insideSecret0001"),
        format!("https://127.0.0.1:{port}/slack/services/T0/B0/insideSecret0001"),
        "https://169.254.169.254/latest/meta-data/insideSecret0001".to_string(),
        "https://10.1.2.3/services/insideSecret0001".to_string(),
        "https://[::1]/services/insideSecret0001".to_string(),
        format!("https://localhost:{port}/slack/insideSecret0001"),
        format!("https://localhost.:{port}/slack/insideSecret0001"),
    ];
    for (i, url) in refused.iter().enumerate() {
        let name = format!("in{i}");
        let out = as_tenant_admin(&[
            "notify",
            "add",
            "--tenant",
            "acme",
            "--kind",
            "slack",
            "--name",
            &name,
            "--webhook-url",
            url,
            "-o",
            "json",
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(json_of_err(&out), "invalid_request", "{url}: {text}");
        assert!(text.contains("public addresses only"), "{url}: {text}");
        assert!(!text.contains("insideSecret0001"), "{text}");
    }
    let out = as_tenant_admin(&[
        "notify",
        "add",
        "--tenant",
        "acme",
        "--kind",
        "pagerduty",
        "--name",
        "pd",
        "--routing-key",
        PD_KEY,
        "--events-url",
        "https://192.168.1.1/v2/enqueue",
        "-o",
        "json",
    ]);
    assert_eq!(json_of_err(&out), "invalid_request");
    let list = json_of(&igd.igctl(&["notify", "list", "-o", "json"]));
    assert_eq!(list["channels"], json!([]), "a refused channel was stored");

    // A name that resolves to loopback: accepted as a name, refused at the connection.
    match loopback_alias() {
        Some(alias) => {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.set_nonblocking(true).unwrap();
            let url = format!(
                "https://{alias}:{}/services/T0/B0/dnsSecret0002",
                probe.local_addr().unwrap().port()
            );
            let out = as_tenant_admin(&[
                "notify",
                "add",
                "--tenant",
                "acme",
                "--kind",
                "slack",
                "--name",
                "dns",
                "--webhook-url",
                &url,
                "-o",
                "json",
            ]);
            let id = json_of(&out)["id"].as_str().unwrap().to_string();
            let out = as_tenant_admin(&["notify", "test", &id]);
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(err.contains("not on a public address"), "{err}");
            assert!(!err.contains("dnsSecret0002"), "{err}");
            let accepted = probe.accept();
            assert!(
                accepted
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
                "igd connected to {alias} (loopback): {accepted:?}"
            );
        }
        None => eprintln!("no alias of 127.0.0.1 in /etc/hosts: the resolver part is skipped"),
    }

    // The unconfined admin keeps loopback receivers, and they work.
    let id = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "slack",
            "--name",
            "local",
            "--webhook-url",
            &rx.url(SLACK_ACME),
        ],
    );
    json_of(&igd.igctl(&["notify", "test", &id, "-o", "json"]));
    assert_eq!(rx.at(SLACK_ACME).len(), 1);
    all_valid(&rx);
    assert!(!igd.logs().contains("insideSecret0001"));
}

/// A channel sealed under another key (INTENTGATE_TOTP_ENCRYPTION_KEY changed) is listed as
/// unusable, shown among the integrations, logged once, and refuses a test.
#[test]
fn channels_sealed_under_another_key_show_as_unusable() {
    let key_a = "a1".repeat(32);
    let key_b = "b2".repeat(32);
    let Setup { mut igd, rx, _dir } = setup(&[("INTENTGATE_TOTP_ENCRYPTION_KEY", &key_a)]);
    let old = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "slack",
            "--name",
            "old",
            "--webhook-url",
            &rx.url(SLACK_ACME),
        ],
    );
    let list = json_of(&igd.igctl(&["notify", "list", "-o", "json"]));
    assert!(!list["channels"][0]["target"]
        .as_str()
        .unwrap()
        .contains("unusable"));
    igd.set_env("INTENTGATE_TOTP_ENCRYPTION_KEY", &key_b);
    igd.kill_and_restart();
    let cannot = format!("channel {old} cannot be opened");
    igd.wait_for_log(&cannot);
    let list = json_of(&igd.igctl(&["notify", "list", "-o", "json"]));
    let target = list["channels"][0]["target"].as_str().unwrap();
    assert!(target.ends_with("(unusable)"), "{list}");
    let text = igd.igctl(&["notify", "list"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("(unusable)"));
    let sinks = json_of(&igd.igctl(&["integrations", "-o", "json"]));
    let name = format!("notify:{old}");
    let row = sinks["integrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not among the integrations: {sinks}"));
    assert_eq!(row["state"], "unusable");
    assert_eq!(row["tenant"], "acme");
    assert!(row["last_error"].as_str().unwrap().contains("another key"));
    // Another channel changes the set: the unusable one is not logged again.
    let new = add(
        &igd,
        &[
            "--tenant",
            "acme",
            "--kind",
            "teams",
            "--name",
            "new",
            "--webhook-url",
            &rx.url(TEAMS_ACME),
        ],
    );
    json_of(&igd.igctl(&["notify", "test", &new, "-o", "json"]));
    assert_eq!(rx.at(TEAMS_ACME).len(), 1);
    assert_eq!(igd.logs().matches(&cannot).count(), 1, "{}", igd.logs());
    let out = igd.igctl(&["notify", "test", &old, "-o", "json"]);
    assert_eq!(json_of_err(&out), "conflict");
    assert!(rx.at(SLACK_ACME).is_empty());
}
