-- The audit fan-out (DESIGN §8): every sink igd has seen, its delivery lease, and its cursor on
-- each tenant chain. Times are µs since the epoch.

-- One row per sink, written the first time any replica sees the sink (its cursors then start
-- at the chain heads of that moment). One replica at a time holds the lease (`holder` = its
-- instance id, renewed every second, taken over once `lease_expires` has passed), so each
-- entry is delivered by one replica.
CREATE TABLE IF NOT EXISTS sinks (
    name          TEXT COLLATE "C" PRIMARY KEY,
    created_at    BIGINT NOT NULL,
    holder        TEXT COLLATE "C",
    lease_expires BIGINT
);

-- The last seq of each chain the sink delivered (or skipped as not wanted); moved only by
-- compare-and-set by the lease holder. A chain without a row is at 0: it began after the sink
-- was first seen, so it is delivered from its start.
CREATE TABLE IF NOT EXISTS sink_cursors (
    sink       TEXT COLLATE "C" NOT NULL REFERENCES sinks (name) ON DELETE CASCADE,
    tenant     TEXT COLLATE "C" NOT NULL,
    seq        BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (sink, tenant)
);
