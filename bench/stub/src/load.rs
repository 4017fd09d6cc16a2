//! `mcp-load`: the load generator of `bench/run.sh` — MCP `tools/call` over HTTP/1.1 keep-alive,
//! loopback only, bounded in time. Two modes:
//!
//! - closed loop (`--concurrency N`): N connections, each sending its next call as soon as the
//!   previous one is answered (peak throughput);
//! - fixed rate (`--rate R`): calls are scheduled every 1/R s and handed to N connections; each
//!   latency is measured from the call's scheduled time, so a stall is counted for every call it
//!   delayed (no coordinated omission).
//!
//! Prints one JSON object: calls answered, RPS, HTTP statuses, JSON-RPC errors, p50/p99/p99.9/max
//! in ms. With `--every SECONDS` it also prints one JSON line per interval (for soaks).
//!
//!   mcp-load --url http://127.0.0.1:8080/v1/mcp --token T --duration 5 [--rate 2000] [--concurrency 64]

#![allow(clippy::print_stdout, clippy::print_stderr)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

#[derive(Debug, Clone)]
struct Args {
    url: hyper::Uri,
    token: String,
    duration: Duration,
    rate: Option<u64>,
    concurrency: usize,
    every: Option<Duration>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = std::env::args().skip(1);
    let mut out = Args {
        url: hyper::Uri::from_static("http://127.0.0.1:8080/v1/mcp"),
        token: "none".into(),
        duration: Duration::from_secs(5),
        rate: None,
        concurrency: 64,
        every: None,
    };
    while let Some(flag) = a.next() {
        let value = a.next().ok_or(format!("{flag} needs a value"))?;
        let secs = |v: &str| -> Result<Duration, String> {
            v.trim_end_matches('s')
                .parse::<f64>()
                .map(Duration::from_secs_f64)
                .map_err(|e| format!("{flag}: {e}"))
        };
        match flag.as_str() {
            "--url" => out.url = value.parse().map_err(|e| format!("--url: {e}"))?,
            "--token" => out.token = value,
            "--duration" => out.duration = secs(&value)?,
            "--rate" => out.rate = Some(value.parse().map_err(|e| format!("--rate: {e}"))?),
            "--concurrency" => {
                out.concurrency = value.parse().map_err(|e| format!("--concurrency: {e}"))?
            }
            "--every" => out.every = Some(secs(&value)?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(out)
}

/// What the connections record: per call (completion time, latency µs, status, JSON-RPC error).
#[derive(Debug, Default)]
struct Record {
    samples: Vec<(Duration, u64)>,
    statuses: BTreeMap<u16, u64>,
    rpc_errors: u64,
    failures: u64,
}

async fn connect(
    args: &Args,
) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, String> {
    let host = args.url.host().unwrap_or("127.0.0.1");
    let port = args.url.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One call; returns (HTTP status, JSON-RPC error?) or None on a transport failure.
async fn call(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    args: &Args,
    auth: &str,
) -> Option<(u16, bool)> {
    sender.ready().await.ok()?;
    let req = Request::post(args.url.clone())
        .header(
            "host",
            args.url.authority().map_or("localhost", |a| a.as_str()),
        )
        .header("authorization", auth)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "echo")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .ok()?;
    let resp = sender.send_request(req).await.ok()?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.ok()?.to_bytes();
    let rpc_error = body.windows(8).any(|w| w == b"\"error\":");
    Some((status, rpc_error))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn summary(latencies: &mut [u64], calls: u64, seconds: f64) -> serde_json::Value {
    latencies.sort_unstable();
    json!({
        "calls": calls,
        "rps": if seconds > 0.0 { calls as f64 / seconds } else { 0.0 },
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999),
        "max_ms": latencies.last().map_or(0.0, |m| *m as f64 / 1000.0),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("mcp-load: {e}");
            std::process::exit(2);
        }
    };
    let auth: Arc<str> = format!("Bearer {}", args.token).into();
    let record = Arc::new(Mutex::new(Record::default()));
    let start = Instant::now();
    let deadline = start + args.duration;
    // Fixed rate: a scheduler hands out call times; a connection takes the next due one.
    let (due_tx, due_rx) = async_channel(args.rate.is_some());
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (args, auth, record, due_rx) =
            (args.clone(), auth.clone(), record.clone(), due_rx.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = match connect(&args).await {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("mcp-load: {e}");
                    return;
                }
            };
            loop {
                let scheduled = match &due_rx {
                    Some(rx) => match rx.lock().await.recv().await {
                        Some(t) => t,
                        None => return,
                    },
                    None => Instant::now(),
                };
                if scheduled >= deadline {
                    return;
                }
                let outcome = call(&mut sender, &args, &auth).await;
                let done = Instant::now();
                let failed = {
                    let mut r = record.lock().unwrap_or_else(|p| p.into_inner());
                    match outcome {
                        Some((status, rpc_error)) => {
                            let micros = u64::try_from(done.duration_since(scheduled).as_micros())
                                .unwrap_or(u64::MAX);
                            r.samples.push((done.duration_since(start), micros));
                            *r.statuses.entry(status).or_default() += 1;
                            r.rpc_errors += u64::from(rpc_error);
                            false
                        }
                        None => {
                            r.failures += 1;
                            true
                        }
                    }
                };
                if failed {
                    match connect(&args).await {
                        Ok(s) => sender = s,
                        Err(_) => return,
                    }
                }
            }
        }));
    }
    if let (Some(rate), Some(tx)) = (args.rate, due_tx) {
        let period = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
        let mut next = start;
        while next < deadline {
            tokio::time::sleep_until(next.into()).await;
            // Every call that is due by now is handed out with its own scheduled time.
            while next <= Instant::now() && next < deadline {
                if tx.send(next).await.is_err() {
                    break;
                }
                next += period;
            }
        }
        drop(tx);
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start
        .elapsed()
        .as_secs_f64()
        .min(args.duration.as_secs_f64());
    let r = record.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(every) = args.every {
        let mut buckets: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for (at, micros) in &r.samples {
            buckets
                .entry((at.as_secs_f64() / every.as_secs_f64()) as u64)
                .or_default()
                .push(*micros);
        }
        for (i, mut lat) in buckets {
            let n = lat.len() as u64;
            let mut line = summary(&mut lat, n, every.as_secs_f64());
            line["interval_start_s"] = json!(i as f64 * every.as_secs_f64());
            println!("{line}");
        }
    }
    let mut lat: Vec<u64> = r.samples.iter().map(|(_, m)| *m).collect();
    let calls = lat.len() as u64;
    let mut out = summary(&mut lat, calls, elapsed);
    out["statuses"] = json!(r.statuses);
    out["rpc_errors"] = json!(r.rpc_errors);
    out["failures"] = json!(r.failures);
    println!("{out}");
}

type DueRx = Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Instant>>>;

/// The fixed-rate hand-out queue (none in closed-loop mode).
fn async_channel(fixed_rate: bool) -> (Option<tokio::sync::mpsc::Sender<Instant>>, Option<DueRx>) {
    if !fixed_rate {
        return (None, None);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(1 << 20);
    (Some(tx), Some(Arc::new(tokio::sync::Mutex::new(rx))))
}
