-- IntentGate embedded store, schema version 1. Applied at start inside one transaction.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Root-token metadata; the token itself is never stored.
CREATE TABLE IF NOT EXISTS tokens (
    jti        TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    tools      TEXT NOT NULL,          -- JSON array
    max_calls  INTEGER NOT NULL,
    issued_at  INTEGER NOT NULL,       -- µs since the epoch
    expires_at INTEGER NOT NULL,
    minted_by  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_tenant ON tokens (tenant, expires_at);

CREATE TABLE IF NOT EXISTS revocations (
    tenant      TEXT NOT NULL,
    jti         TEXT NOT NULL,
    reason      TEXT NOT NULL,
    revoked_at  INTEGER NOT NULL,
    revoked_by  TEXT NOT NULL,
    prune_after INTEGER NOT NULL,
    PRIMARY KEY (tenant, jti)
);

-- subject '' is a whole-tenant stop.
CREATE TABLE IF NOT EXISTS stops (
    tenant     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- The audit chain: one append-only, gapless chain per tenant. `body` is the whole entry as JSON;
-- the other columns are copies for querying.
CREATE TABLE IF NOT EXISTS audit_entries (
    tenant    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    subject   TEXT,
    tool      TEXT,
    decision  TEXT,
    ref_event_id TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    body      TEXT NOT NULL,
    PRIMARY KEY (tenant, seq),
    UNIQUE (tenant, prev_hash)
);
CREATE INDEX IF NOT EXISTS audit_event ON audit_entries (event_id);
CREATE INDEX IF NOT EXISTS audit_ref ON audit_entries (ref_event_id);
CREATE INDEX IF NOT EXISTS audit_ts ON audit_entries (ts);

-- Beside the chain, erasable without breaking it: salt, argument values, full policy input.
CREATE TABLE IF NOT EXISTS audit_side (
    event_id     TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL,
    subject      TEXT,
    ts           INTEGER NOT NULL,
    salt         TEXT,
    args         TEXT,
    policy_input TEXT
);

-- Calls charged against each token level's max_calls.
CREATE TABLE IF NOT EXISTS budget_usage (
    tenant   TEXT NOT NULL,
    root_jti TEXT NOT NULL,
    jti      TEXT NOT NULL,
    used     INTEGER NOT NULL,
    PRIMARY KEY (tenant, root_jti, jti)
);

-- Forwarded calls per (tenant, root subject, tool, hour), for the policy counters.
CREATE TABLE IF NOT EXISTS call_counts (
    tenant  TEXT NOT NULL,
    subject TEXT NOT NULL,
    tool    TEXT NOT NULL,
    hour    INTEGER NOT NULL,          -- unix hour
    calls   INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject, tool, hour)
);

-- MCP session ids ended by DELETE, refused until they would have expired anyway.
CREATE TABLE IF NOT EXISTS deleted_sessions (
    id_hash    TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

-- Signed checkpoints (C2SP signed notes) of each chain's head.
CREATE TABLE IF NOT EXISTS checkpoints (
    tenant     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, size)
);
