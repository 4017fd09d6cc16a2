#!/usr/bin/env bash
# End-to-end load benchmark of igd, loopback only, bounded in time.
#
# igd is pinned to core 0; oha and the Rust MCP stub share core 1 (taskset). Each audit sync mode
# (normal, full) gets a fresh data dir. For each: a fixed-rate run direct to the stub and through
# igd (oha -q RATE --latency-correction, so coordinated omission is corrected), then a closed-loop
# peak run through igd. Reports RPS, p50, p99, p99.9 and igd's peak RSS.
#
#   bench/run.sh                  # defaults: RATE=2000 DURATION=10s CONCURRENCY=64
#   RATE=1000 DURATION=5s bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-64}
STUB_PORT=${STUB_PORT:-19100}
IGD_PORT=${IGD_PORT:-19180}

command -v oha >/dev/null 2>&1 || cargo install oha --locked
command -v taskset >/dev/null 2>&1 || { echo "taskset (util-linux) is required" >&2; exit 1; }
cargo build --release --quiet -p igd -p igctl -p intentgate-bench-stub

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

taskset -c 1 target/release/mcp-stub "127.0.0.1:${STUB_PORT}" 2>/dev/null &
pids+=($!)

body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'

# oha_run LABEL URL TOKEN EXTRA_ARGS...
oha_run() {
    local label=$1 url=$2 token=$3; shift 3
    taskset -c 1 oha --no-tui --output-format json -z "$DURATION" -m POST \
        -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
        -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo' -d "$body" "$@" "$url" > "$work/$label.json"
    python3 - "$work/$label.json" "$label" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
ms = lambda v: "%.3f" % (v * 1000) if v is not None else "-"
print("| %-28s | %8.0f | %8s | %8s | %8s | %6.2f%% | %s |" % (sys.argv[2], s["requestsPerSec"], ms(p.get("p50")), ms(p.get("p99")), ms(p.get("p99.9")), 100 * s["successRate"], codes))
PY
}

echo "| run | RPS | p50 ms | p99 ms | p99.9 ms | success | HTTP statuses |"
echo "|---|---|---|---|---|---|---|"
oha_run "direct q=${RATE}" "http://127.0.0.1:${STUB_PORT}/mcp" none -q "$RATE" --latency-correction

for sync in normal full; do
    dir="$work/data-$sync"
    mkdir -p "$dir"
    TOKIO_WORKER_THREADS=1 INTENTGATE_DATA_DIR="$dir" INTENTGATE_LISTEN="127.0.0.1:${IGD_PORT}" \
        INTENTGATE_UPSTREAM_URL="http://127.0.0.1:${STUB_PORT}/mcp" INTENTGATE_POLICY_FILE=policies/example.rego \
        INTENTGATE_AUDIT_SYNC="$sync" LOG_LEVEL=warn taskset -c 0 target/release/igd > "$work/igd-$sync.log" 2>&1 &
    igd_pid=$!
    pids+=($igd_pid)
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:${IGD_PORT}/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    token=$(target/release/igctl --socket "$dir/admin.sock" -o json mint --tenant bench --subject load \
        --tools echo --ttl 1d --max-calls 1000000000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
    url="http://127.0.0.1:${IGD_PORT}/v1/mcp"
    oha_run "igd audit=${sync} q=${RATE}" "$url" "$token" -q "$RATE" --latency-correction
    oha_run "igd audit=${sync} peak c=${CONCURRENCY}" "$url" "$token" -c "$CONCURRENCY"
    rss=$(awk '/VmHWM/ {print $2}' "/proc/${igd_pid}/status")
    echo "| igd audit=${sync} peak RSS | $((rss / 1024)) MiB | | | | | |"
    XDG_CONFIG_HOME="$work/config-$sync" target/release/igctl --socket "$dir/admin.sock" audit verify --tenant bench >/dev/null \
        && echo "| igd audit=${sync} chain | verified | | | | | |"
    kill "$igd_pid"; wait "$igd_pid" 2>/dev/null || true
done
