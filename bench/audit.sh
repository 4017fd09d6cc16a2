#!/usr/bin/env bash
# Audit read-side benchmark: fill one tenant's chain with ~200,000 entries through igd (decision +
# outcome per call, driven by oha against the Rust stub), then time the export of 200,000 rows
# and igctl's local verification of the whole chain. Loopback only, bounded.
#
#   bench/audit.sh            # CALLS=100000
set -euo pipefail
cd "$(dirname "$0")/.."

CALLS=${CALLS:-100000}
STUB_PORT=${STUB_PORT:-19101}
IGD_PORT=${IGD_PORT:-19181}

command -v oha >/dev/null 2>&1 || cargo install oha --locked
cargo build --release --quiet -p igd -p igctl -p intentgate-bench-stub

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

target/release/mcp-stub "127.0.0.1:${STUB_PORT}" 2>/dev/null &
pids+=($!)
INTENTGATE_DATA_DIR="$work/data" INTENTGATE_LISTEN="127.0.0.1:${IGD_PORT}" \
    INTENTGATE_UPSTREAM_URL="http://127.0.0.1:${STUB_PORT}/mcp" INTENTGATE_POLICY_FILE=policies/example.rego \
    LOG_LEVEL=warn target/release/igd > "$work/igd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:${IGD_PORT}/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
igctl() { XDG_CONFIG_HOME="$work/config" target/release/igctl --socket "$work/data/admin.sock" "$@"; }
token=$(igctl -o json mint --tenant bench --subject load --tools echo --ttl 1d --max-calls 1000000000 \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'
oha --no-tui -n "$CALLS" -c 64 -m POST -H "Authorization: Bearer ${token}" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo' -d "$body" "http://127.0.0.1:${IGD_PORT}/v1/mcp" >/dev/null
sleep 2

entries=$(igctl -o json audit verify --tenant bench --server | python3 -c 'import json,sys; print(json.load(sys.stdin)["verified"])')
echo "chain: ${entries} entries"
t0=$(date +%s.%N)
igctl audit export --tenant bench --format csv > "$work/export.csv"
t1=$(date +%s.%N)
rows=$(($(wc -l < "$work/export.csv") - 1))
echo "export csv: ${rows} rows in $(python3 -c "print(round($t1-$t0, 2))") s"
t0=$(date +%s.%N)
igctl audit export --tenant bench --format ndjson > "$work/export.ndjson"
t1=$(date +%s.%N)
echo "export ndjson: $(wc -l < "$work/export.ndjson") rows in $(python3 -c "print(round($t1-$t0, 2))") s"
t0=$(date +%s.%N)
igctl audit verify --tenant bench >/dev/null
t1=$(date +%s.%N)
echo "igctl local verify (fetch + recompute): ${entries} entries in $(python3 -c "print(round($t1-$t0, 2))") s = $(python3 -c "print(int($entries/($t1-$t0)))") entries/s"
t0=$(date +%s.%N)
igctl audit verify --tenant bench --server >/dev/null
t1=$(date +%s.%N)
echo "igd verify endpoint: ${entries} entries in $(python3 -c "print(round($t1-$t0, 2))") s = $(python3 -c "print(int($entries/($t1-$t0)))") entries/s"
