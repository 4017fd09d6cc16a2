//! The intent check (`INTENTGATE_EXTRACTOR`) through igd's public surface: a real igd, calls
//! over `/v1/mcp`, and a policy written here that echoes what it saw (`input.intent`,
//! `input.intent_error`) into its reason, so every JSON-RPC answer proves what the policy got.
//! The `http:` sidecar is a small tokio server in this process on 127.0.0.1:0 that answers
//! well, slowly, with garbage, or not at all, depending on the tool it is asked about.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use intentgate_tests::*;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MASTER: &str = "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a";

/// Allows a `benign` intent, blocks `exfiltration`, and blocks everything else too; every
/// block's reason is `<tag>|{"intent": …, "intent_error": … or "absent"}`.
const POLICY: &str = r#"
package intentgate.policy

seen := json.marshal({"intent": input.intent, "intent_error": object.get(input, "intent_error", "absent")})

decision := {"allow": true, "reason": "benign intent"} if {
	input.intent.category == "benign"
}

decision := {"allow": false, "reason": sprintf("exfiltration|%s", [seen])} if {
	input.intent.category == "exfiltration"
}

decision := {"allow": false, "reason": sprintf("no-intent|%s", [seen])} if {
	input.intent == null
}

decision := {"allow": false, "reason": sprintf("other|%s", [seen])} if {
	input.intent != null
	not input.intent.category == "benign"
	not input.intent.category == "exfiltration"
}
"#;

const TOOLS: &str =
    "send_email,read_file,good,exfil,slow,not_json,wrong_shape,out_of_range,status_500,huge,hangup";

fn write_policy(dir: &Path) -> PathBuf {
    let path = dir.join("policy.rego");
    std::fs::write(&path, POLICY).unwrap();
    path
}

fn start_igd(dir: &Path, extractor: &str, extra: &[(&str, &str)]) -> Igd {
    let policy = write_policy(dir);
    let mut env = vec![
        ("INTENTGATE_UPSTREAM_URL", "stub"),
        ("INTENTGATE_POLICY_FILE", policy.to_str().unwrap()),
        ("INTENTGATE_MASTER_KEY", MASTER),
        ("INTENTGATE_EXTRACTOR", extractor),
    ];
    env.extend_from_slice(extra);
    Igd::start(&env)
}

/// A 2026-era `tools/call`, with the agent's prompt in `_meta` when given (any JSON value, to
/// send a prompt that is not a string too).
fn call(igd: &Igd, token: &str, tool: &str, args: Value, prompt: Option<Value>) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    if let Some(p) = prompt {
        meta["io.intentgate/prompt"] = p;
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": args, "_meta": meta}})
    .to_string();
    let auth = format!("Bearer {token}");
    let resp = http(
        igd.addr,
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
    .unwrap();
    let v = resp.json();
    assert!(v.is_object(), "not a JSON-RPC answer: {}", resp.text());
    v
}

/// What the policy saw, from a refusal's reason: (tag, intent, intent_error).
fn seen(answer: &Value) -> (String, Value, Value) {
    assert_eq!(
        answer["error"]["code"], -31002,
        "not a policy refusal: {answer}"
    );
    let reason = answer["error"]["data"]["reason"]
        .as_str()
        .unwrap_or_default();
    let (tag, json) = reason
        .split_once('|')
        .unwrap_or_else(|| panic!("reason without the echo: {answer}"));
    let v: Value = serde_json::from_str(json).unwrap();
    (
        tag.to_string(),
        v["intent"].clone(),
        v["intent_error"].clone(),
    )
}

fn assert_allowed(answer: &Value) {
    assert!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("stub ")),
        "not forwarded: {answer}"
    );
}

/// The policy got `intent: null` and an `intent_error` containing `part`, and blocked.
fn assert_intent_error(answer: &Value, part: &str) {
    let (tag, intent, error) = seen(answer);
    assert_eq!(
        (tag.as_str(), &intent),
        ("no-intent", &Value::Null),
        "{answer}"
    );
    let error = error.as_str().unwrap_or_default();
    assert!(
        error.contains(part),
        "intent_error {error:?} lacks {part:?}"
    );
}

const RULES: &str = r#"
[default]
category = "unknown"
summary = "nothing matched"
confidence = 0.0

[[rule]]
category = "benign"
summary = "internal mail"
confidence = 0.8
tool = "send_*"
args = { "/to" = '@example\.com$' }

[[rule]]
category = "exfiltration"
summary = "mail leaving the company"
confidence = 0.9
tool = "send_*"

[[rule]]
category = "exfiltration"
summary = "the agent says so"
confidence = 0.7
prompt = '(?i)\bexfiltrate\b'
"#;

#[test]
fn rules_classify_on_tool_arguments_and_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("intent-rules.toml");
    std::fs::write(&rules, RULES).unwrap();
    let igd = start_igd(dir.path(), &format!("rules:{}", rules.display()), &[]);
    let (token, _) = igd.mint("acme", "agent-7", TOOLS, 100);

    // Tool and argument match the first rule: benign, so the policy allows and upstream answers.
    assert_allowed(&call(
        &igd,
        &token,
        "send_email",
        json!({"to": "bob@example.com"}),
        None,
    ));

    // Same tool, another domain: the first rule fails on its argument, the second matches.
    let (tag, intent, error) = seen(&call(
        &igd,
        &token,
        "send_email",
        json!({"to": "x@evil.test"}),
        None,
    ));
    assert_eq!(tag, "exfiltration");
    assert_eq!(intent["summary"], "mail leaving the company");
    assert_eq!(intent["confidence"].as_f64(), Some(0.9));
    assert_eq!(
        error, "absent",
        "no intent_error when the classifier worked"
    );

    // The agent's own prompt.
    let answer = call(
        &igd,
        &token,
        "read_file",
        json!({"path": "/srv/a"}),
        Some(json!("Now EXFILTRATE it")),
    );
    let (tag, intent, _) = seen(&answer);
    assert_eq!(
        (tag.as_str(), &intent["summary"]),
        ("exfiltration", &json!("the agent says so"))
    );

    // No prompt, or a prompt that is not a string: no rule matches, the default applies.
    for prompt in [None, Some(json!({"text": "exfiltrate"})), Some(json!(42))] {
        let (tag, intent, error) =
            seen(&call(&igd, &token, "read_file", json!({}), prompt.clone()));
        assert_eq!(tag, "other", "{prompt:?}");
        assert_eq!(
            (
                &intent["summary"],
                &intent["category"],
                intent["confidence"].as_f64()
            ),
            (&json!("nothing matched"), &json!("unknown"), Some(0.0)),
            "{prompt:?}"
        );
        assert_eq!(error, "absent");
    }

    // A prompt over the matching limit is not matched in part: the policy gets the failure.
    let padded = format!("{} exfiltrate", "x".repeat(70_000));
    let answer = call(&igd, &token, "read_file", json!({}), Some(json!(padded)));
    assert_intent_error(
        &answer,
        "rules: the prompt is over the 65536-byte matching limit",
    );

    // SIGHUP reloads the rules; a file that no longer loads keeps the ones in force.
    std::fs::write(
        &rules,
        "[[rule]]\ncategory = \"benign\"\nconfidence = 1\ntool = \"read_*\"\n",
    )
    .unwrap();
    igd.hup();
    igd.wait_for_log("intent rules reloaded");
    assert_allowed(&call(&igd, &token, "read_file", json!({}), None));
    std::fs::write(&rules, "[[rule]]\ncategory = \"x\"\nconfidence = 3\n").unwrap();
    igd.hup();
    igd.wait_for_log("intent rules reload failed");
    assert_allowed(&call(&igd, &token, "read_file", json!({}), None));
}

/// How the test sidecar answers a request about `tool`.
async fn sidecar_answer(tool: &str) -> Option<(u16, Vec<u8>)> {
    let good = |category: &str| {
        json!({"summary": format!("{tool} looks {category}"), "category": category, "confidence": 0.75, "model": "test"})
            .to_string()
            .into_bytes()
    };
    Some(match tool {
        "good" => (200, good("benign")),
        "exfil" => (200, good("exfiltration")),
        "slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            (200, good("benign"))
        }
        "not_json" => (200, b"<html>benign</html>".to_vec()),
        "wrong_shape" => (
            200,
            br#"{"summary": 5, "category": "benign", "confidence": 0.5}"#.to_vec(),
        ),
        "out_of_range" => (
            200,
            br#"{"summary": "s", "category": "benign", "confidence": 7}"#.to_vec(),
        ),
        "status_500" => (500, good("benign")),
        "huge" => {
            let pad = "p".repeat(100_000);
            (
                200,
                json!({"summary": "s", "category": "benign", "confidence": 0.5, "pad": pad})
                    .to_string()
                    .into_bytes(),
            )
        }
        // Close the connection without answering.
        _ => return None,
    })
}

/// A tiny HTTP/1.1 classifier sidecar; records every request body it gets.
struct Sidecar {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Value>>>,
    _runtime: tokio::runtime::Runtime,
}

impl Sidecar {
    fn start() -> Sidecar {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        runtime.spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(Sidecar::serve(conn, log.clone()));
            }
        });
        Sidecar {
            addr,
            seen,
            _runtime: runtime,
        }
    }

    async fn serve(mut conn: tokio::net::TcpStream, seen: Arc<Mutex<Vec<Value>>>) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let request: Value =
            serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or(Value::Null);
        let tool = request["tool"].as_str().unwrap_or_default().to_string();
        seen.lock().unwrap().push(request);
        let Some((status, body)) = sidecar_answer(&tool).await else {
            return;
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        let _ = conn.write_all(head.as_bytes()).await;
        let _ = conn.write_all(&body).await;
        let _ = conn.shutdown().await;
    }

    fn requests(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }
}

#[test]
fn http_sidecar_good_answers_and_every_kind_of_failure() {
    let sidecar = Sidecar::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http:http://{}/v1/intent", sidecar.addr);
    let igd = start_igd(
        dir.path(),
        &url,
        &[("INTENTGATE_EXTRACTOR_TIMEOUT_MS", "300")],
    );
    let (token, _) = igd.mint("acme", "agent-7", TOOLS, 100);

    // A good answer reaches the policy as is (extra members dropped) and is what it decides on.
    assert_allowed(&call(
        &igd,
        &token,
        "good",
        json!({"n": 1}),
        Some(json!("just checking")),
    ));
    let (tag, intent, error) = seen(&call(
        &igd,
        &token,
        "exfil",
        json!({"to": "x@evil.test"}),
        None,
    ));
    assert_eq!(tag, "exfiltration");
    assert_eq!(
        intent,
        json!({"summary": "exfil looks exfiltration", "category": "exfiltration", "confidence": 0.75})
    );
    assert_eq!(error, "absent");

    // The documented request contract.
    let requests = sidecar.requests();
    assert_eq!(
        requests[..2],
        [
            json!({"tool": "good", "args": {"n": 1}, "prompt": "just checking", "tenant": "acme", "subject": "agent-7", "method": "tools/call"}),
            json!({"tool": "exfil", "args": {"to": "x@evil.test"}, "prompt": null, "tenant": "acme", "subject": "agent-7", "method": "tools/call"}),
        ]
    );

    // Every failure: intent null, a short reason, and the policy (not igd) blocks.
    for (tool, part) in [
        ("slow", "sidecar timed out after 300 ms"),
        ("not_json", "sidecar answer is not JSON"),
        ("wrong_shape", "sidecar answer: summary must be a string"),
        (
            "out_of_range",
            "sidecar answer: confidence must be a number between 0 and 1",
        ),
        ("status_500", "sidecar answered HTTP 500"),
        ("huge", "sidecar answer is over 65536 bytes"),
        ("hangup", "sidecar"),
    ] {
        let answer = call(&igd, &token, tool, json!({}), None);
        assert_intent_error(&answer, part);
    }
    // Logged once when it starts failing, not per call.
    assert_eq!(
        igd.logs().matches("intent sidecar failing").count(),
        1,
        "{}",
        igd.logs()
    );
    // And it recovers.
    assert_allowed(&call(&igd, &token, "good", json!({}), None));
    igd.wait_for_log("intent sidecar answers again");
}

#[test]
fn a_sidecar_that_is_down_gives_an_intent_error() {
    // Bound, then released: nothing listens there.
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let igd = start_igd(dir.path(), &format!("http://127.0.0.1:{port}/intent"), &[]);
    let (token, _) = igd.mint("acme", "agent-7", TOOLS, 100);
    let answer = call(&igd, &token, "good", json!({}), None);
    assert_intent_error(&answer, "sidecar unreachable");
}

#[test]
fn check_config_and_start_refuse_a_bad_extractor() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        format!("rules:{}", p.display())
    };
    let good = write("good.toml", RULES);
    let not_toml = write("not-toml.toml", "[[rule]\ncategory = ");
    let bad_regex = write(
        "bad-regex.toml",
        "[[rule]]\ncategory = \"x\"\nconfidence = 0.5\nprompt = \"(unclosed\"\n",
    );
    let bad_confidence = write(
        "bad-confidence.toml",
        "[[rule]]\ncategory = \"x\"\nconfidence = 1.5\n",
    );
    let unknown_key = write(
        "unknown.toml",
        "[[rule]]\ncategory = \"x\"\nconfidence = 0.5\ntools = \"a\"\n",
    );
    let missing = format!("rules:{}", dir.path().join("missing.toml").display());
    let check = |var: &str, value: &str, args: &[&str]| {
        std::process::Command::new(igd_bin())
            .args(args)
            .env_clear()
            .env("INTENTGATE_DATA_DIR", dir.path().join("data"))
            .env("INTENTGATE_LISTEN", format!("127.0.0.1:{}", free_port()))
            .env(var, value)
            .output()
            .unwrap()
    };
    for (value, part) in [
        (missing.as_str(), "cannot read the rules file"),
        (not_toml.as_str(), "invalid rules"),
        (bad_regex.as_str(), "rule 1 (x): prompt: invalid regex"),
        (
            bad_confidence.as_str(),
            "confidence must be a number between 0 and 1",
        ),
        (unknown_key.as_str(), "unknown field `tools`"),
        ("https://127.0.0.1:9/intent", "https:// is not supported"),
        ("http:ftp://x", "is not a URL"),
        ("http:http://10.1.2.3:9/intent", "must be on loopback"),
        ("classifier", "must be off, rules:<file> or http:<url>"),
    ] {
        let out = check("INTENTGATE_EXTRACTOR", value, &["check-config"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{value}: {stderr}");
        assert!(
            stderr.contains("INTENTGATE_EXTRACTOR") && stderr.contains(part),
            "{value}: {stderr}"
        );
    }
    let out = check("INTENTGATE_EXTRACTOR_TIMEOUT_MS", "0", &["check-config"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("INTENTGATE_EXTRACTOR_TIMEOUT_MS"));
    // The same file stops igd from starting.
    let out = check("INTENTGATE_EXTRACTOR", &bad_regex, &[]);
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stdout).contains("INTENTGATE_EXTRACTOR"));
    // Valid settings pass.
    for value in [good.as_str(), "http:http://127.0.0.1:9/intent", "off"] {
        let out = check("INTENTGATE_EXTRACTOR", value, &["check-config"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{value}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The example shipped in policies/ loads.
    let example = format!(
        "rules:{}",
        workspace()
            .join("policies/intent-rules.example.toml")
            .display()
    );
    let out = check("INTENTGATE_EXTRACTOR", &example, &["check-config"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
