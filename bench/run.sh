#!/usr/bin/env bash
# End-to-end load benchmark of igd, loopback only, bounded in time.
#
# igd (release, one tokio worker) is pinned to core 0; the load generator (mcp-load) and the Rust
# MCP stub share core 1 (taskset). One table: the peak straight to the stub and through igd
# (closed loop, CONCURRENCY connections) with their ratio, and a fixed RATE for both (latency
# from each call's scheduled time, so stalls are not hidden); for igd also its CPU time per call
# (utime+stime from /proc/<pid>/stat) and bytes written to disk per call (write_bytes from
# /proc/<pid>/io), each a delta over the run divided by the calls answered, and its peak RSS.
# Each audit sync mode in SYNC gets a fresh data dir; each ends with `igctl audit verify`.
#
#   bench/run.sh                                  # RATE=2000 DURATION=10s CONCURRENCY=64 SYNC="normal full"
#   DURATION=5s SYNC=normal bench/run.sh
#   SOAK=600 RATE=1000 bench/run.sh               # soak: WAL/db size every INTERVAL s, p99 per interval
#   PERF=1 DURATION=5s SYNC=normal bench/run.sh   # also perf record igd during its peak run
#                                                 # (PERF_CALLGRAPH="--call-graph dwarf" for call
#                                                 # chains through code built without frame pointers)
#   VARIANTS="before=/path/to/old/bin after=target/release" REPEAT=3 bench/run.sh
#                                                 # compare builds in one run (each dir holds igd
#                                                 # and igctl), interleaved REPEAT times; with
#                                                 # REPEAT > 1 a second table gives each row's
#                                                 # median over the rounds
#   SYNC="normal sinkup sinkdown" bench/run.sh   # a Splunk sink delivering to a local receiver
#                                                 # (sinkup), or down all run (sinkdown)
#   SYNC="normal pg pg2" bench/run.sh             # pg: igd on PostgreSQL (a fresh database on
#                                                 # PG_URL's server) beside SQLite in one run;
#                                                 # pg2: two replicas on one database at RATE/2
#                                                 # each. The server's CPU and bytes written per
#                                                 # call (all processes of its user) are in notes.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-64}
SYNC=${SYNC:-normal full}
SOAK=${SOAK:-}
INTERVAL=${INTERVAL:-5}
STUB_PORT=${STUB_PORT:-19100}
IGD_PORT=${IGD_PORT:-19180}
OUT=${OUT:-}
# label=dir pairs; the default is this checkout's release build, unlabelled.
VARIANTS=${VARIANTS:-=target/release}
REPEAT=${REPEAT:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}

command -v taskset >/dev/null 2>&1 || { echo "taskset (util-linux) is required" >&2; exit 1; }
cargo build --release --quiet -p igd -p igctl -p intentgate-bench-stub

work=$(mktemp -d)
pids=()
pg_dbs=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for d in "${pg_dbs[@]}"; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT
tck=$(getconf CLK_TCK)

taskset -c 1 target/release/mcp-stub "127.0.0.1:${STUB_PORT}" 2>/dev/null &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/${STUB_PORT}") 2>/dev/null && break; sleep 0.05; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
written() { awk '/^write_bytes/ {print $2}' "/proc/$1/io"; }
# The PostgreSQL server's processes (the user that runs them): CPU ticks and bytes written, summed.
pg_user=$(ps -o user= -C postgres 2>/dev/null | head -1 || true)
pg_cpu() { local t=0 p; for p in $(pgrep -u "${pg_user:-postgres}" 2>/dev/null); do t=$((t + $(cpu_ticks "$p" 2>/dev/null || echo 0))); done; echo "$t"; }
pg_written() { local t=0 p; for p in $(pgrep -u "${pg_user:-postgres}" 2>/dev/null); do t=$((t + $(written "$p" 2>/dev/null || echo 0))); done; echo "$t"; }

# row LABEL URL TOKEN PID|- mcp-load flags...: run the load, print one table row.
row() {
    local label=$1 url=$2 token=$3 pid=$4; shift 4
    local c0=0 w0=0 c1=0 w1=0 pc0=0 pw0=0 pc1=0 pw1=0 out="$work/load-$RANDOM$RANDOM.json"
    if [ "$pid" != - ]; then c0=$(cpu_ticks "$pid"); w0=$(written "$pid"); fi
    if [ -n "${PGSTAT:-}" ]; then pc0=$(pg_cpu); pw0=$(pg_written); fi
    taskset -c 1 target/release/mcp-load --url "$url" --token "$token" --duration "${DURATION%s}" "$@" > "$out"
    if [ "$pid" != - ]; then c1=$(cpu_ticks "$pid"); w1=$(written "$pid"); fi
    if [ -n "${PGSTAT:-}" ]; then pc1=$(pg_cpu); pw1=$(pg_written); fi
    python3 - "$out" "$label" "$pid" "$((c1 - c0))" "$tck" "$((w1 - w0))" "$work/peaks" "${PGSTAT:-}" "$((pc1 - pc0))" "$((pw1 - pw0))" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
label, pid, ticks, tck, wb, peaks = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
pg, pg_ticks, pg_wb = sys.argv[8], int(sys.argv[9]), int(sys.argv[10])
n = max(d["calls"], 1)
cpu = "%.0f" % (ticks / tck * 1e6 / n) if pid != "-" else ""
wpc = "%.0f" % (wb / n) if pid != "-" else ""
ok = d["statuses"].get("200", 0) - d["rpc_errors"]
notes = [] if ok == d["calls"] and not d["failures"] else ["statuses %s, rpc errors %d, failures %d" % (d["statuses"], d["rpc_errors"], d["failures"])]
if pg:
    notes.append("postgres %.0f µs CPU/call, %.0f B written/call" % (pg_ticks / tck * 1e6 / n, pg_wb / n))
print("| %-30s | %7.0f | %7.3f | %7.3f | %8.3f | %8.3f | %6s | %7s | %8d | %s |" % (
    label, d["rps"], d["p50_ms"], d["p99_ms"], d["p999_ms"], d["max_ms"], cpu, wpc, ok, "; ".join(notes)))
if "peak" in label:
    open(peaks, "a").write("%s\t%f\n" % (label, d["rps"]))
open(peaks + ".rows", "a").write(json.dumps({"label": label, "rps": d["rps"], "p50": d["p50_ms"], "p99": d["p99_ms"],
    "p999": d["p999_ms"], "max": d["max_ms"], "cpu": float(cpu) if cpu else None, "wpc": float(wpc) if wpc else None}) + "\n")
PY
}

# new_pg_db: a fresh database on PG_URL's server; prints its URL.
new_pg_db() {
    local name="igbench_${RANDOM}${RANDOM}"
    psql "$PG_URL" -qc "CREATE DATABASE $name" >/dev/null
    pg_dbs+=("$name")
    echo "${PG_URL%/*}/$name"
}

# start_igd MODE [BIN_DIR] [PORT] [PG DATABASE URL]: a fresh igd on core 0; sets igd_pid, dir,
# token. MODE is an audit sync mode (SQLite) or pg (the given database).
start_igd() {
    bin=${2:-target/release}
    local port=${3:-$IGD_PORT} db_url=${4:-}
    dir="$work/data-$1-$RANDOM"
    mkdir -p "$dir"
    local store=(INTENTGATE_AUDIT_SYNC="$1")
    # sinkdown: the normal sync mode with a Splunk sink that is down (nothing listens on port 9)
    # for the whole run, so every batch fails and waits for its retry (DESIGN §8: never on the
    # decision path).
    # sinkup: the same sink delivering to a local receiver that answers as HEC does.
    if [ "$1" = sinkdown ] || [ "$1" = sinkup ]; then
        local hec_port=9
        if [ "$1" = sinkup ]; then hec_port=$HEC_PORT; start_hec; fi
        store=(INTENTGATE_AUDIT_SYNC=normal
               INTENTGATE_SIEM_SPLUNK_URL="http://127.0.0.1:${hec_port}/services/collector/event"
               INTENTGATE_SIEM_SPLUNK_TOKEN=bench-token)
    fi
    if [ -n "$db_url" ]; then
        [ -f "$work/audit.pem" ] || "$bin/igctl" gen-key --audit > "$work/audit.pem"
        store=(INTENTGATE_POSTGRES_URL="$db_url" INTENTGATE_MASTER_KEY="$(printf '5%.0s' $(seq 64))"
               INTENTGATE_AUDIT_SIGNING_KEY="$work/audit.pem")
    fi
    env TOKIO_WORKER_THREADS=1 INTENTGATE_DATA_DIR="$dir" INTENTGATE_LISTEN="127.0.0.1:${port}" \
        INTENTGATE_UPSTREAM_URL="http://127.0.0.1:${STUB_PORT}/mcp" INTENTGATE_POLICY_FILE=policies/example.rego \
        "${store[@]}" LOG_LEVEL=${LOG_LEVEL:-warn} LOG_FORMAT=json \
        taskset -c 0 "$bin/igd" > "$work/igd-$1-$port.log" 2>&1 &
    igd_pid=$!
    pids+=($igd_pid)
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:${port}/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    token=$("$bin/igctl" --socket "$dir/admin.sock" -o json mint --tenant bench --subject load \
        --tools echo --ttl 1d --max-calls 1000000000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
}

# A Splunk HEC stand-in on core 1 (started once): answers every POST as HEC does and counts
# the events it received in $work/hec-events.
HEC_PORT=${HEC_PORT:-19188}
start_hec() {
    [ -n "${hec_pid:-}" ] && return
    taskset -c 1 python3 - "$HEC_PORT" "$work/hec-events" <<'PY' >/dev/null 2>&1 &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
count = 0
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        count += body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
        open(out, "w").write(str(count))
        reply = b'{"text":"Success","code":0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
    hec_pid=$!
    pids+=($hec_pid)
    for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/${HEC_PORT}") 2>/dev/null && break; sleep 0.05; done
}

stop_igd() {
    XDG_CONFIG_HOME="$dir/config" "$bin/igctl" --socket "$dir/admin.sock" audit verify --tenant bench >/dev/null \
        && chain=verified || chain=BROKEN
    kill "$igd_pid"; wait "$igd_pid" 2>/dev/null || true
}

url="http://127.0.0.1:${IGD_PORT}/v1/mcp"

if [ -n "$SOAK" ]; then
    start_igd normal
    echo "soak: ${SOAK}s at ${RATE} RPS through igd, then 10 s idle; sizes every ${INTERVAL}s"
    (
        t0=$(date +%s)
        while kill -0 "$igd_pid" 2>/dev/null; do
            t=$(( $(date +%s) - t0 ))
            wal=$(stat -c %s "$dir/igd.db-wal" 2>/dev/null || echo 0)
            db=$(stat -c %s "$dir/igd.db" 2>/dev/null || echo 0)
            rss=$(awk '/VmRSS/ {print $2}' "/proc/$igd_pid/status" 2>/dev/null || echo 0)
            echo "$t $wal $db $rss"
            sleep "$INTERVAL"
        done
    ) > "$work/sizes" &
    pids+=($!)
    c0=$(cpu_ticks "$igd_pid"); w0=$(written "$igd_pid")
    taskset -c 1 target/release/mcp-load --url "$url" --token "$token" --duration "$SOAK" --rate "$RATE" \
        --concurrency "$CONCURRENCY" --every "$INTERVAL" > "$work/soak.json"
    c1=$(cpu_ticks "$igd_pid"); w1=$(written "$igd_pid")
    sleep 10
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/${igd_pid}/status")
    stop_igd normal
    python3 - "$work/soak.json" "$work/sizes" "$((c1 - c0))" "$tck" "$((w1 - w0))" "$hwm" "$chain" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
total, intervals = lines[-1], lines[:-1]
sizes = [tuple(int(x) for x in l.split()) for l in open(sys.argv[2]) if l.strip()]
MiB = 1 << 20
print("| t s | RPS | p50 ms | p99 ms | max ms | WAL MiB | igd.db MiB | RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for iv in intervals:
    t = iv["interval_start_s"]
    s = min(sizes, key=lambda x: abs(x[0] - t)) if sizes else (0, 0, 0, 0)
    print("| %5.0f | %6.0f | %6.3f | %7.3f | %7.3f | %6.1f | %7.1f | %5.1f |" % (t, iv["rps"], iv["p50_ms"], iv["p99_ms"], iv["max_ms"], s[1] / MiB, s[2] / MiB, s[3] / 1024))
tail = [s for s in sizes if s[0] > float(intervals[-1]["interval_start_s"]) + 1] if intervals else []
for s in tail:
    print("| %5d | idle | | | | %6.1f | %7.1f | %5.1f |" % (s[0], s[1] / MiB, s[2] / MiB, s[3] / 1024))
n = max(total["calls"], 1)
print()
print("calls %d, %.0f RPS, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms, failures %d, rpc errors %d" % (
    total["calls"], total["rps"], total["p50_ms"], total["p99_ms"], total["p999_ms"], total["max_ms"], total["failures"], total["rpc_errors"]))
print("igd: %.0f us CPU/call, %.0f B written/call, peak RSS %.1f MiB; WAL max %.1f MiB, last %.1f MiB; igd.db %.1f MiB; chain %s" % (
    int(sys.argv[3]) / int(sys.argv[4]) * 1e6 / n, int(sys.argv[5]) / n, int(sys.argv[6]) / 1024,
    max(s[1] for s in sizes) / MiB if sizes else 0, sizes[-1][1] / MiB if sizes else 0, sizes[-1][2] / MiB if sizes else 0, sys.argv[7]))
PY
    exit 0
fi

{
echo "| run | RPS | p50 ms | p99 ms | p99.9 ms | max ms | igd CPU µs/call | igd written B/call | answered | notes |"
echo "|---|---|---|---|---|---|---|---|---|---|"
row "direct peak c=${CONCURRENCY}" "http://127.0.0.1:${STUB_PORT}/mcp" none - --concurrency "$CONCURRENCY"
row "direct q=${RATE}" "http://127.0.0.1:${STUB_PORT}/mcp" none - --rate "$RATE" --concurrency "$CONCURRENCY"
for rep in $(seq 1 "$REPEAT"); do
for sync in $SYNC; do
for variant in $VARIANTS; do
    name=${variant%%=*}
    name=${name:+$name }
    if [ "$sync" = pg2 ]; then
        # Two replicas on one database, each at RATE/2 from its own load generator.
        db_url=$(new_pg_db)
        start_igd pg "${variant#*=}" "$IGD_PORT" "$db_url"; pid_a=$igd_pid; dir_a=$dir
        start_igd pg "${variant#*=}" "$((IGD_PORT + 1))" "$db_url"; pid_b=$igd_pid
        token_b=$("$bin/igctl" --socket "$dir/admin.sock" -o json mint --tenant bench --subject load2 \
            --tools echo --ttl 1d --max-calls 1000000000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
        (PGSTAT=1 row "${name}igd pg replica a q=$((RATE / 2))" "$url" "$token" "$pid_a" --rate "$((RATE / 2))" --concurrency "$((CONCURRENCY / 2))" > "$work/row-a") &
        row_a=$!
        row "${name}igd pg replica b q=$((RATE / 2))" "http://127.0.0.1:$((IGD_PORT + 1))/v1/mcp" "$token_b" "$pid_b" --rate "$((RATE / 2))" --concurrency "$((CONCURRENCY / 2))" > "$work/row-b"
        wait "$row_a"
        cat "$work/row-a" "$work/row-b"
        dir=$dir_a; igd_pid=$pid_b; stop_igd pg; igd_pid=$pid_a; stop_igd pg
        echo "| ${name}igd pg2: chain ${chain} (verified through replica a; the server figures cover both replicas' load) | | | | | | | | | |"
        continue
    fi
    db_url=""
    [ "$sync" = pg ] && db_url=$(new_pg_db)
    start_igd "$sync" "${variant#*=}" "$IGD_PORT" "$db_url"
    if [ -n "$db_url" ]; then export PGSTAT=1; else unset PGSTAT; fi
    label=${sync/#pg/store=postgres}
    [ "$sync" = pg ] || label="audit=${sync}"
    [ "$sync" = sinkdown ] && label="audit=normal, SIEM sink down"
    [ "$sync" = sinkup ] && label="audit=normal, SIEM sink up"
    if [ -n "${PERF:-}" ]; then
        perf record -F 999 ${PERF_CALLGRAPH:--g} -p "$igd_pid" -o "${PERF_OUT:-perf-igd-$sync.data}" -- sleep "${DURATION%s}" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    row "${name}igd ${label} peak c=${CONCURRENCY}" "$url" "$token" "$igd_pid" --concurrency "$CONCURRENCY"
    if [ -n "${PERF:-}" ]; then wait "$perf_pid" || true; fi
    row "${name}igd ${label} q=${RATE}" "$url" "$token" "$igd_pid" --rate "$RATE" --concurrency "$CONCURRENCY"
    unset PGSTAT
    rss=$(awk '/VmHWM/ {print $2}' "/proc/${igd_pid}/status")
    wal=$(stat -c %s "$dir/igd.db-wal" 2>/dev/null || echo 0)
    db=$(stat -c %s "$dir/igd.db" 2>/dev/null || echo 0)
    [ "$sync" = sinkup ] && sleep 2
    stop_igd "$sync"
    if [ "$sync" = sinkup ]; then
        echo "| ${name}igd ${label}: the HEC stand-in has received $(cat "$work/hec-events" 2>/dev/null || echo 0) events in all so far | | | | | | | | | |"
    fi
    echo "| ${name}igd ${label}: peak RSS $((rss / 1024)) MiB, WAL $((wal / 1048576)) MiB, igd.db $((db / 1048576)) MiB, chain ${chain} | | | | | | | | | |"
done
done
done
python3 - "$work/peaks" <<'PY'
import json, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
direct = [float(v) for k, v in rows if k.startswith("direct")][0]
for k, v in rows:
    if not k.startswith("direct"):
        print("| %s / direct peak: %.1f %% | | | | | | | | | |" % (k.split(" peak")[0], 100 * float(v) / direct))
# REPEAT > 1: the median of each row's figures over the rounds (the issue's "median of three").
runs = {}
for line in open(sys.argv[1] + ".rows"):
    r = json.loads(line)
    runs.setdefault(r["label"], []).append(r)
if any(len(v) > 1 for v in runs.values()):
    print()
    print("Medians over the rounds (direct: its one run):")
    print()
    print("| run | rounds | RPS | / direct peak | p50 ms | p99 ms | p99.9 ms | max ms | igd CPU µs/call | igd written B/call |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    med = lambda xs: statistics.median(xs) if xs else None
    fmt = lambda x, f: (f % x) if x is not None else ""
    for label, rs in runs.items():
        m = {k: med([r[k] for r in rs if r[k] is not None]) for k in ("rps", "p50", "p99", "p999", "max", "cpu", "wpc")}
        ratio = "%.1f %%" % (100 * m["rps"] / direct) if "peak" in label and not label.startswith("direct") else ""
        print("| %s | %d | %.0f | %s | %.3f | %.3f | %.3f | %.3f | %s | %s |" % (
            label, len(rs), m["rps"], ratio, m["p50"], m["p99"], m["p999"], m["max"], fmt(m["cpu"], "%.0f"), fmt(m["wpc"], "%.0f")))
PY
} | tee ${OUT:+"$OUT"}
