//! The intent check (DESIGN §4 step 2): an optional classifier's reading of a call,
//! `{summary, category, confidence}`, put into the policy input for the policy to weigh.
//!
//! `INTENTGATE_EXTRACTOR` picks the classifier: `off` (the policy sees `intent: null`, and
//! nothing is done per call), `rules:<file>` (TOML rules matched in process, see [`Rules`]) or
//! `http:<url>` (a sidecar asked over HTTP within `INTENTGATE_EXTRACTOR_TIMEOUT_MS`, see
//! [`Sidecar`]). A classifier that fails gives no intent and a short reason why
//! (`intent: null` plus `intent_error`), and the policy decides: a failure never allows a call
//! by itself.
//!
//! Everything a classifier reads comes from the agent (arguments, tool name, the optional
//! prompt in `params._meta["io.intentgate/prompt"]`) or from the sidecar: both are bounded and
//! never trusted to be well formed.

use crate::config::{ConfigError, ExtractorSetting, Settings};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use regex::bytes::{Regex, RegexBuilder};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The `_meta` key under which an agent may say, in its own words, what it is doing.
pub const PROMPT_META_KEY: &str = "io.intentgate/prompt";

/// The longest text (an argument's string form, the prompt) a rule's pattern is matched
/// against; a longer one makes the rules fail for that call (`intent_error`) rather than be
/// matched in part, which would let padding push the telling words out of sight.
pub const MAX_MATCH_BYTES: usize = 64 * 1024;

/// The most bytes a sidecar's answer may carry.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Bounds on a classification, from a rules file or a sidecar: it is stored beside every
/// decision.
const MAX_CATEGORY_BYTES: usize = 128;
const MAX_SUMMARY_BYTES: usize = 1024;

/// Bound on an `intent_error` (it quotes transport errors).
const MAX_ERROR_BYTES: usize = 256;

/// The agent's prompt in a request's `params`: `_meta["io.intentgate/prompt"]` when it is a
/// string; anything else counts as no prompt.
pub fn prompt_of(params: Option<&Value>) -> Option<&str> {
    params?.get("_meta")?.get(PROMPT_META_KEY)?.as_str()
}

/// What a classifier is asked about one call; also, serialized, the body POSTed to a sidecar.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Request<'a> {
    /// The tool (for `resources/*`, `prompts/*` and `completion/*` calls, the name decided on).
    pub tool: &'a str,
    pub args: &'a Value,
    pub prompt: Option<&'a str>,
    pub tenant: &'a str,
    /// The token's root subject.
    pub subject: &'a str,
    /// `tools/call`, or the forwarded method.
    pub method: &'a str,
}

/// One classification, as the policy sees it in `input.intent`.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub summary: String,
    pub category: String,
    /// Between 0 and 1.
    pub confidence: f64,
}

impl Intent {
    /// Check the bounds every classification keeps, whatever produced it.
    fn checked(summary: String, category: String, confidence: f64) -> Result<Intent, String> {
        if category.is_empty() || category.len() > MAX_CATEGORY_BYTES {
            return Err(format!(
                "category must be a string of 1 to {MAX_CATEGORY_BYTES} bytes"
            ));
        }
        if summary.len() > MAX_SUMMARY_BYTES {
            return Err(format!(
                "summary must be a string of at most {MAX_SUMMARY_BYTES} bytes"
            ));
        }
        if !(0.0..=1.0).contains(&confidence) {
            return Err("confidence must be a number between 0 and 1".into());
        }
        Ok(Intent {
            summary,
            category,
            confidence,
        })
    }

    pub fn to_value(&self) -> Value {
        json!({
            "summary": self.summary,
            "category": self.category,
            "confidence": self.confidence,
        })
    }
}

/// The configured classifier.
#[derive(Debug)]
pub struct Extractor {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Off,
    /// Loaded at start, reloaded on SIGHUP (a file that fails to load keeps the rules in force).
    Rules {
        path: PathBuf,
        rules: ArcSwap<Rules>,
    },
    Http(Sidecar),
}

impl Extractor {
    /// No classifier: every call's intent is `null`, with no `intent_error`.
    pub fn off() -> Extractor {
        Extractor {
            backend: Backend::Off,
        }
    }

    /// The classifier `INTENTGATE_EXTRACTOR` names, loaded and checked; every problem names
    /// that variable (exit 64, also from `igd check-config`).
    pub fn from_settings(settings: &Settings) -> Result<Extractor, ConfigError> {
        let backend = match &settings.extractor {
            ExtractorSetting::Off => Backend::Off,
            ExtractorSetting::Rules(path) => {
                let rules = Rules::load(path).map_err(|m| ConfigError::new("extractor", m))?;
                Backend::Rules {
                    path: path.clone(),
                    rules: ArcSwap::from_pointee(rules),
                }
            }
            ExtractorSetting::Http(url) => Backend::Http(
                Sidecar::new(url, Duration::from_millis(settings.extractor_timeout_ms))
                    .map_err(|m| ConfigError::new("extractor", m))?,
            ),
        };
        Ok(Extractor { backend })
    }

    /// Say at start what classifies calls.
    pub fn log_at_start(&self) {
        match &self.backend {
            Backend::Off => {}
            Backend::Rules { path, rules } => tracing::info!(
                path = %path.display(),
                rules = rules.load().rules.len(),
                "intent rules loaded"
            ),
            Backend::Http(s) => {
                tracing::info!(url = %s.url, timeout_ms = s.timeout.as_millis() as u64, "intent sidecar configured");
            }
        }
    }

    /// Reload the rules file (SIGHUP); a file that fails to load leaves the current rules.
    pub fn reload(&self) {
        let Backend::Rules { path, rules } = &self.backend else {
            return;
        };
        match Rules::load(path) {
            Ok(r) => {
                tracing::info!(path = %path.display(), rules = r.rules.len(), "intent rules reloaded");
                rules.store(Arc::new(r));
            }
            Err(e) => {
                tracing::error!(error = %e, "intent rules reload failed; keeping the current rules")
            }
        }
    }

    /// The call's intent for `input.intent` (`null` when no classifier is configured), or why
    /// the classifier gave none (`input.intent_error`).
    pub async fn classify(&self, request: &Request<'_>) -> Result<Value, String> {
        match &self.backend {
            Backend::Off => Ok(Value::Null),
            Backend::Rules { rules, .. } => rules
                .load()
                .classify(request)
                .map(Intent::to_value)
                .map_err(|e| format!("rules: {e}")),
            Backend::Http(sidecar) => sidecar.ask(request).await.map(|i| i.to_value()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rules:<file>

/// The rules file, as written (see `policies/intent-rules.example.toml`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    default: Option<ResultSpec>,
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultSpec {
    category: String,
    #[serde(default)]
    summary: String,
    confidence: f64,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    category: String,
    #[serde(default)]
    summary: String,
    confidence: f64,
    #[serde(default)]
    tool: Option<OneOrMany>,
    /// JSON pointer into the arguments → regex over the value's string form.
    #[serde(default)]
    args: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    prompt: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Compiled rules: the first rule whose every condition holds gives the intent; when none
/// does, the default (`unclassified`, confidence 0, unless the file sets `[default]`).
#[derive(Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    default: Intent,
}

#[derive(Debug)]
struct Rule {
    /// Any of these globs matches the tool name; `None`: any tool.
    tool: Option<Regex>,
    /// Every pointer must resolve and its value's string form match.
    args: Vec<(String, Regex)>,
    /// Must match the prompt; a rule with one never matches a call without a prompt.
    prompt: Option<Regex>,
    intent: Intent,
}

impl Rules {
    /// Read, parse and compile a rules file (every regex compiled here, once).
    pub fn load(path: &Path) -> Result<Rules, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the rules file {}: {e}", path.display()))?;
        Rules::parse(&text).map_err(|e| format!("rules file {}: {e}", path.display()))
    }

    fn parse(text: &str) -> Result<Rules, String> {
        let file: RulesFile = toml::from_str(text).map_err(|e| format!("invalid rules: {e}"))?;
        let default = match file.default {
            Some(d) => Intent::checked(d.summary, d.category, d.confidence)
                .map_err(|e| format!("[default]: {e}"))?,
            None => Intent {
                summary: "no rule matched".into(),
                category: "unclassified".into(),
                confidence: 0.0,
            },
        };
        let mut rules = Vec::with_capacity(file.rule.len());
        for (i, spec) in file.rule.into_iter().enumerate() {
            let at = format!("rule {} ({})", i + 1, spec.category);
            let tool = match spec.tool {
                None => None,
                Some(OneOrMany::One(glob)) => {
                    Some(globs(&[glob]).map_err(|e| format!("{at}: tool: {e}"))?)
                }
                Some(OneOrMany::Many(list)) if list.is_empty() => {
                    return Err(format!("{at}: tool: an empty list matches nothing"))
                }
                Some(OneOrMany::Many(list)) => {
                    Some(globs(&list).map_err(|e| format!("{at}: tool: {e}"))?)
                }
            };
            let mut args = Vec::with_capacity(spec.args.len());
            for (pointer, pattern) in spec.args {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(format!(
                        "{at}: args: {pointer:?} is not a JSON pointer (\"\" or starting with /)"
                    ));
                }
                let re =
                    pattern_regex(&pattern).map_err(|e| format!("{at}: args {pointer:?}: {e}"))?;
                args.push((pointer, re));
            }
            let prompt = spec
                .prompt
                .as_deref()
                .map(pattern_regex)
                .transpose()
                .map_err(|e| format!("{at}: prompt: {e}"))?;
            let intent = Intent::checked(spec.summary, spec.category, spec.confidence)
                .map_err(|e| format!("{at}: {e}"))?;
            rules.push(Rule {
                tool,
                args,
                prompt,
                intent,
            });
        }
        Ok(Rules { rules, default })
    }

    /// The first matching rule's intent, else the default; `Err` when a text a rule must read
    /// is over [`MAX_MATCH_BYTES`].
    pub fn classify(&self, request: &Request<'_>) -> Result<&Intent, String> {
        for rule in &self.rules {
            if rule.matches(request)? {
                return Ok(&rule.intent);
            }
        }
        Ok(&self.default)
    }
}

impl Rule {
    fn matches(&self, request: &Request<'_>) -> Result<bool, String> {
        if let Some(tool) = &self.tool {
            if !tool.is_match(request.tool.as_bytes()) {
                return Ok(false);
            }
        }
        for (pointer, re) in &self.args {
            let Some(value) = request.args.pointer(pointer) else {
                return Ok(false);
            };
            let matched = match value {
                Value::String(s) => {
                    re.is_match(bounded(s.as_bytes(), || format!("argument {pointer:?}"))?)
                }
                other => {
                    let text = string_form(other)
                        .ok_or_else(|| over_limit(&format!("argument {pointer:?}")))?;
                    re.is_match(&text)
                }
            };
            if !matched {
                return Ok(false);
            }
        }
        if let Some(re) = &self.prompt {
            let Some(prompt) = request.prompt else {
                return Ok(false);
            };
            if !re.is_match(bounded(prompt.as_bytes(), || "the prompt".into())?) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

fn over_limit(what: &str) -> String {
    format!("{what} is over the {MAX_MATCH_BYTES}-byte matching limit")
}

fn bounded(text: &[u8], what: impl FnOnce() -> String) -> Result<&[u8], String> {
    if text.len() > MAX_MATCH_BYTES {
        return Err(over_limit(&what()));
    }
    Ok(text)
}

/// A non-string value's compact JSON, or `None` when it is over [`MAX_MATCH_BYTES`] (the
/// serialization stops there).
fn string_form(value: &Value) -> Option<Vec<u8>> {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + b.len() > MAX_MATCH_BYTES {
                return Err(std::io::Error::other("over the matching limit"));
            }
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    serde_json::to_writer(&mut out, value).ok()?;
    Some(out.0)
}

/// A pattern as written in the rules file. Classes and case folding are ASCII (`\d`, `\w`,
/// `\s`, `(?i)`); other characters match as written.
fn pattern_regex(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid regex {pattern:?}: {e}"))
}

/// Globs over a whole name (`*` any run, `?` one character), any of them matching.
fn globs(list: &[String]) -> Result<Regex, String> {
    let mut alternatives = Vec::with_capacity(list.len());
    for glob in list {
        if glob.is_empty() {
            return Err("an empty glob matches no tool".into());
        }
        let mut re = String::with_capacity(glob.len() + 8);
        for c in glob.chars() {
            match c {
                '*' => re.push_str(".*"),
                '?' => re.push('.'),
                c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        alternatives.push(re);
    }
    pattern_regex(&format!("(?s)^(?:{})$", alternatives.join("|")))
}

// ---------------------------------------------------------------------------------------------
// http:<url>

/// A classifier sidecar: igd POSTs the [`Request`] as JSON and expects, within the time-out, a
/// 200 answer whose body is `{"summary": string, "category": string, "confidence": 0..1}`
/// (other members are ignored). Anything else is a failure with a short reason.
#[derive(Debug)]
pub struct Sidecar {
    url: Uri,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    /// Whether the last answer was a failure: logged when it starts and when it ends, not per
    /// call.
    failing: AtomicBool,
}

impl Sidecar {
    fn new(url: &str, timeout: Duration) -> Result<Sidecar, String> {
        let url: Uri = url
            .parse()
            .map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if url.scheme_str() != Some("http") || url.host().is_none() {
            return Err(format!(
                "{url} must be an http:// URL (https:// sidecars are not supported in this build: run the sidecar on loopback)"
            ));
        }
        // Arguments and prompts travel in clear: only to this machine.
        let host = url.host().unwrap_or_default().trim_matches(['[', ']']);
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(format!(
                "{url}: the sidecar must be on loopback (127.0.0.1, [::1] or localhost): igd sends it arguments and prompts over plain HTTP"
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Sidecar {
            url,
            client,
            timeout,
            failing: AtomicBool::new(false),
        })
    }

    async fn ask(&self, request: &Request<'_>) -> Result<Intent, String> {
        let answer = tokio::time::timeout(self.timeout, self.exchange(request))
            .await
            .unwrap_or_else(|_| {
                Err(format!(
                    "sidecar timed out after {} ms",
                    self.timeout.as_millis()
                ))
            });
        match &answer {
            Ok(_) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(url = %self.url, "intent sidecar answers again");
                }
            }
            Err(e) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(url = %self.url, error = %e, "intent sidecar failing: calls get intent null with intent_error until it answers");
                }
            }
        }
        answer
    }

    async fn exchange(&self, request: &Request<'_>) -> Result<Intent, String> {
        let body = serde_json::to_vec(request).map_err(|e| format!("cannot encode: {e}"))?;
        let req = hyper::Request::post(self.url.clone())
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| cap(format!("sidecar unreachable: {}", error_chain(&e))))?;
        let status = resp.status().as_u16();
        if status != 200 {
            return Err(format!("sidecar answered HTTP {status}"));
        }
        let bytes = Limited::new(resp.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    format!("sidecar answer is over {MAX_ANSWER_BYTES} bytes")
                } else {
                    cap(format!("sidecar answer cut short: {}", error_chain(&*e)))
                }
            })?
            .to_bytes();
        parse_answer(&bytes)
    }
}

/// A sidecar's answer body, checked member by member.
pub fn parse_answer(body: &[u8]) -> Result<Intent, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "sidecar answer is not JSON".to_string())?;
    let Value::Object(answer) = value else {
        return Err("sidecar answer is not a JSON object".into());
    };
    let text = |name: &str| match answer.get(name) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(format!("sidecar answer: {name} must be a string")),
    };
    let summary = text("summary")?;
    let category = text("category")?;
    let confidence = answer
        .get("confidence")
        .and_then(Value::as_f64)
        .ok_or("sidecar answer: confidence must be a number between 0 and 1")?;
    Intent::checked(summary, category, confidence).map_err(|e| format!("sidecar answer: {e}"))
}

/// An error and its sources, `: `-separated (hyper's own message alone says only "Connect").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn cap(text: String) -> String {
    intentgate_proto::text::truncated(text, MAX_ERROR_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(tool: &'a str, args: &'a Value, prompt: Option<&'a str>) -> Request<'a> {
        Request {
            tool,
            args,
            prompt,
            tenant: "acme",
            subject: "agent-1",
            method: "tools/call",
        }
    }

    const RULES: &str = r#"
        [default]
        category = "other"
        summary = "nothing recognised"
        confidence = 0.1

        [[rule]]
        category = "internal-mail"
        summary = "mail to a colleague"
        confidence = 0.8
        tool = "send_email*"
        args = { "/to" = '@example\.com$' }

        [[rule]]
        category = "exfiltration"
        summary = "mail leaving the company"
        confidence = 0.9
        tool = ["send_email*", "upload_?"]

        [[rule]]
        category = "cleanup"
        summary = "the agent says it is cleaning up"
        confidence = 0.6
        prompt = '(?i)\bclean ?up\b'

        [[rule]]
        category = "big-number"
        summary = "a large amount"
        confidence = 0.7
        args = { "/amount" = '^\d{5,}$', "" = '"currency":"EUR"' }
    "#;

    fn classify(rules: &Rules, tool: &str, args: Value, prompt: Option<&str>) -> String {
        match rules.classify(&request(tool, &args, prompt)) {
            Ok(i) => i.category.clone(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn first_matching_rule_wins_over_tool_args_and_prompt() {
        let rules = Rules::parse(RULES).unwrap();
        let c = |tool, args, prompt| classify(&rules, tool, args, prompt);
        assert_eq!(
            c("send_email", json!({"to": "bob@example.com"}), None),
            "internal-mail"
        );
        assert_eq!(
            c("send_email_external", json!({"to": "x@evil.test"}), None),
            "exfiltration"
        );
        // A missing pointer fails the condition, not the classification.
        assert_eq!(c("send_email", json!({}), None), "exfiltration");
        assert_eq!(c("upload_x", json!({}), None), "exfiltration");
        // Globs cover the whole name; `?` is exactly one character.
        assert_eq!(c("upload_xy", json!({}), None), "other");
        assert_eq!(c("resend_email", json!({}), None), "other");
        assert_eq!(
            c("delete", json!({}), Some("Time to CLEAN UP the logs")),
            "cleanup"
        );
        assert_eq!(c("delete", json!({}), Some("tidy")), "other");
        assert_eq!(c("delete", json!({}), None), "other");
        // Non-string values match on their compact JSON; "" is the whole arguments.
        assert_eq!(
            c("pay", json!({"amount": 123456, "currency": "EUR"}), None),
            "big-number"
        );
        assert_eq!(
            c("pay", json!({"amount": 123456, "currency": "USD"}), None),
            "other"
        );
        assert_eq!(
            c("pay", json!({"amount": 12, "currency": "EUR"}), None),
            "other"
        );
    }

    #[test]
    fn the_example_rules_file_loads_and_reads_as_documented() {
        let rules = Rules::parse(include_str!("../../policies/intent-rules.example.toml")).unwrap();
        let c = |tool, args, prompt| classify(&rules, tool, args, prompt);
        assert_eq!(
            c("send_email", json!({"to": "Ann@Example.com"}), None),
            "internal-mail"
        );
        assert_eq!(
            c("send_email_bulk", json!({"to": "x@evil.test"}), None),
            "exfiltration"
        );
        assert_eq!(
            c("http_get", json!({"headers": {"API-Key": "k"}}), None),
            "credential-access"
        );
        assert_eq!(
            c("sql", json!({}), Some("now DROP the table")),
            "destructive"
        );
        assert_eq!(c("sql", json!({}), None), "unclassified");
    }

    #[test]
    fn without_a_default_an_unmatched_call_is_unclassified() {
        let rules = Rules::parse("").unwrap();
        let args = json!({});
        let i = rules.classify(&request("x", &args, None)).unwrap();
        assert_eq!(
            i.to_value(),
            json!({"summary": "no rule matched", "category": "unclassified", "confidence": 0.0})
        );
    }

    #[test]
    fn texts_over_the_limit_are_an_error_not_a_partial_match() {
        let rules = Rules::parse(RULES).unwrap();
        let long = format!("{}cleanup", "x ".repeat(MAX_MATCH_BYTES));
        assert!(classify(&rules, "t", json!({}), Some(&long)).contains("the prompt is over"));
        let to = format!("{}@example.com", "a".repeat(MAX_MATCH_BYTES));
        assert!(classify(&rules, "send_email", json!({ "to": to }), None)
            .contains("argument \"/to\" is over"));
        let big = json!({"amount": 123456, "currency": "EUR", "pad": "p".repeat(MAX_MATCH_BYTES)});
        assert!(classify(&rules, "pay", big, None).contains("argument \"\" is over"));
        // A rule that does not read the long text is not affected by it.
        assert_eq!(
            classify(&rules, "send_email", json!({"to": "a@b.c"}), Some(&long)),
            "exfiltration"
        );
    }

    #[test]
    fn bad_rules_files_are_refused_with_the_place() {
        for (text, expect) in [
            (
                "[[rule]]\ncategory = \"x\"\nconfidence = 2.0",
                "rule 1 (x): confidence",
            ),
            (
                "[[rule]]\ncategory = \"\"\nconfidence = 0.5",
                "category must be",
            ),
            (
                "[[rule]]\ncategory = \"x\"\nconfidence = 0.5\nprompt = \"(\"",
                "rule 1 (x): prompt: invalid regex",
            ),
            (
                "[[rule]]\ncategory = \"x\"\nconfidence = 0.5\nargs = { to = \"a\" }",
                "not a JSON pointer",
            ),
            (
                "[[rule]]\ncategory = \"x\"\nconfidence = 0.5\ntool = []",
                "empty list",
            ),
            (
                "[[rule]]\ncategory = \"x\"\nconfidence = 0.5\ntools = \"a\"",
                "unknown field `tools`",
            ),
            (
                "[default]\ncategory = \"x\"\nconfidence = -1",
                "[default]: confidence",
            ),
            ("rule = 3", "invalid rules"),
        ] {
            let e = Rules::parse(text).unwrap_err();
            assert!(e.contains(expect), "{text:?}: {e}");
        }
        let e = Rules::load(Path::new("/nonexistent/rules.toml")).unwrap_err();
        assert!(e.contains("cannot read the rules file"), "{e}");
    }

    #[test]
    fn patterns_are_ascii_classes_and_literal_unicode() {
        for (pattern, text, hit) in [
            (r"\d+", "abc 42", true),
            (r"(?i)secret", "TOP SECRET", true),
            (r"\w+@\w+", "joe@host", true),
            ("café", "un café", true),
            ("café", "un cafe", false),
            (r"^.$", "é", false), // `.` is one byte
        ] {
            assert_eq!(
                pattern_regex(pattern).unwrap().is_match(text.as_bytes()),
                hit,
                "{pattern} ~ {text}"
            );
        }
        // Glob metacharacters other than * and ? are literal.
        let g = globs(&["a.b(c)+".into()]).unwrap();
        assert!(g.is_match(b"a.b(c)+") && !g.is_match(b"axb(c)+"));
    }

    #[test]
    fn sidecar_answers_are_checked_member_by_member() {
        let ok =
            parse_answer(br#"{"summary":"s","category":"c","confidence":1,"extra":[1]}"#).unwrap();
        assert_eq!((ok.category.as_str(), ok.confidence), ("c", 1.0));
        for (body, expect) in [
            (&b"not json"[..], "not JSON"),
            (b"", "not JSON"),
            (b"[1,2]", "not a JSON object"),
            (b"null", "not a JSON object"),
            (
                br#"{"category":"c","confidence":0.5}"#,
                "summary must be a string",
            ),
            (
                br#"{"summary":1,"category":"c","confidence":0.5}"#,
                "summary must be a string",
            ),
            (
                br#"{"summary":"s","category":null,"confidence":0.5}"#,
                "category must be a string",
            ),
            (
                br#"{"summary":"s","category":"","confidence":0.5}"#,
                "category must be",
            ),
            (
                br#"{"summary":"s","category":"c","confidence":"high"}"#,
                "confidence must be",
            ),
            (
                br#"{"summary":"s","category":"c","confidence":1.5}"#,
                "confidence must be",
            ),
            (
                br#"{"summary":"s","category":"c","confidence":-0.1}"#,
                "confidence must be",
            ),
            (b"\xff\xfe", "not JSON"),
        ] {
            let e = parse_answer(body).unwrap_err();
            assert!(e.contains(expect), "{body:?}: {e}");
        }
        let long = format!(
            r#"{{"summary":"{}","category":"c","confidence":0.5}}"#,
            "s".repeat(2000)
        );
        assert!(parse_answer(long.as_bytes())
            .unwrap_err()
            .contains("summary must be"));
    }

    #[test]
    fn prompt_is_a_string_in_meta_or_nothing() {
        let p = json!({"_meta": {"io.intentgate/prompt": "tidy up"}});
        assert_eq!(prompt_of(Some(&p)), Some("tidy up"));
        for params in [
            json!({"_meta": {"io.intentgate/prompt": 3}}),
            json!({"_meta": {"io.intentgate/prompt": {"text": "x"}}}),
            json!({"_meta": "x"}),
            json!({"prompt": "x"}),
        ] {
            assert_eq!(prompt_of(Some(&params)), None, "{params}");
        }
        assert_eq!(prompt_of(None), None);
    }

    #[test]
    fn sidecar_urls_must_be_plain_http() {
        let t = Duration::from_millis(100);
        assert!(Sidecar::new("http://127.0.0.1:9/intent", t).is_ok());
        for bad in [
            "https://127.0.0.1/x",
            "ftp://h/x",
            "not a url",
            "/relative",
            "http://10.0.0.1:8000/classify",
            "http://sidecar.internal/classify",
        ] {
            assert!(Sidecar::new(bad, t).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn off_is_null_without_error() {
        let args = json!({});
        assert_eq!(
            Extractor::off().classify(&request("t", &args, None)).await,
            Ok(Value::Null)
        );
    }

    #[tokio::test]
    async fn an_unreachable_sidecar_is_an_error() {
        // Bound then dropped: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let s = Sidecar::new(&format!("http://127.0.0.1:{port}/"), Duration::from_secs(2)).unwrap();
        let args = json!({});
        let e = s.ask(&request("t", &args, None)).await.unwrap_err();
        assert!(e.starts_with("sidecar unreachable"), "{e}");
        assert!(e.len() <= MAX_ERROR_BYTES + 3, "{e}");
    }
}
