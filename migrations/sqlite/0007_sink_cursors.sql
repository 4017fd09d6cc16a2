-- The audit fan-out (DESIGN §8): every sink igd has seen, and its cursor on each tenant chain.
-- Times are µs since the epoch.

-- One row per sink, written the first time the sink is seen (its cursors then start at the
-- chain heads of that moment). `holder` and `lease_expires` are the delivery lease replicas
-- share on PostgreSQL; the embedded store is one process and leaves them empty.
CREATE TABLE IF NOT EXISTS sinks (
    name          TEXT PRIMARY KEY,
    created_at    INTEGER NOT NULL,
    holder        TEXT,
    lease_expires INTEGER
);

-- The last seq of each chain the sink delivered (or skipped as not wanted). A chain without a
-- row is at 0: it began after the sink was first seen, so it is delivered from its start.
CREATE TABLE IF NOT EXISTS sink_cursors (
    sink       TEXT NOT NULL REFERENCES sinks (name) ON DELETE CASCADE,
    tenant     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sink, tenant)
);
