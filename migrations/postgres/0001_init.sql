-- IntentGate PostgreSQL store, schema version 1. Applied at start inside one transaction, under
-- an advisory lock, so replicas starting together apply it once.
--
-- Text compares and sorts by code point (COLLATE "C"), as SQLite does, whatever the database's
-- locale: keyset pagination and exports order alike on both backends.
-- Text columns never hold NUL (PostgreSQL refuses it); each entry's `body` is its JSON (NUL
-- escaped) and is what is read back. The copied columns exist only for filtering: where a copied
-- value held a NUL it holds U+FFFD instead. `kind` is derived from the body by the database, so
-- the column the checkpoint signer filters on can never disagree with the entry it describes.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE IF NOT EXISTS tokens (
    jti        TEXT COLLATE "C" PRIMARY KEY,
    tenant     TEXT COLLATE "C" NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL,
    tools      TEXT COLLATE "C" NOT NULL,          -- JSON array
    max_calls  BIGINT NOT NULL,
    issued_at  BIGINT NOT NULL,        -- µs since the epoch
    expires_at BIGINT NOT NULL,
    minted_by  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_tenant ON tokens (tenant, expires_at);

CREATE TABLE IF NOT EXISTS revocations (
    tenant      TEXT COLLATE "C" NOT NULL,
    jti         TEXT COLLATE "C" NOT NULL,
    reason      TEXT COLLATE "C" NOT NULL,
    revoked_at  BIGINT NOT NULL,
    revoked_by  TEXT COLLATE "C" NOT NULL,
    prune_after BIGINT NOT NULL,
    PRIMARY KEY (tenant, jti)
);

-- subject '' is a whole-tenant stop.
CREATE TABLE IF NOT EXISTS stops (
    tenant     TEXT COLLATE "C" NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, subject)
);

-- The head of each tenant's chain. A group commit locks its tenants' rows (FOR UPDATE, in
-- tenant order), reads the head there, appends after it and advances it, all in one
-- transaction: no replica ever trusts a head it cached.
CREATE TABLE IF NOT EXISTS audit_heads (
    tenant TEXT COLLATE "C" PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT COLLATE "C" NOT NULL
);

-- The audit chains: one gapless chain per tenant; (tenant, seq) is the key, so two entries at
-- one position (a fork) cannot both exist.
CREATE TABLE IF NOT EXISTS audit_log (
    tenant         TEXT COLLATE "C" NOT NULL,
    seq            BIGINT NOT NULL,
    -- The kind as written in the body (JSON-escaped, never decoded: a body may hold \u0000,
    -- which PostgreSQL cannot decode). An entry is a flat object, so the first `"kind":"` is
    -- its key; a kind with any escape never equals an ordinary kind and counts as unusual.
    kind           TEXT COLLATE "C" GENERATED ALWAYS AS
                       (substring(body from '"kind":"((?:[^"\\]|\\.)*)"')) STORED,
    event_id       TEXT COLLATE "C" NOT NULL,
    ts             BIGINT NOT NULL,
    subject        TEXT COLLATE "C",
    tool           TEXT COLLATE "C",
    decision       TEXT COLLATE "C",
    ref_seq        BIGINT,
    body           TEXT COLLATE "C" NOT NULL,
    -- Beside the chain, not hashed, erasable: salt, argument values, what dry-run needs.
    salt           TEXT COLLATE "C",
    args           TEXT COLLATE "C",
    policy_context TEXT COLLATE "C",
    PRIMARY KEY (tenant, seq)
);
CREATE INDEX IF NOT EXISTS audit_log_ts ON audit_log (ts);
CREATE INDEX IF NOT EXISTS audit_log_ref ON audit_log (tenant, ref_seq) WHERE ref_seq IS NOT NULL;

CREATE TABLE IF NOT EXISTS budget_usage (
    tenant   TEXT COLLATE "C" NOT NULL,
    root_jti TEXT COLLATE "C" NOT NULL,
    jti      TEXT COLLATE "C" NOT NULL,
    used     BIGINT NOT NULL,
    PRIMARY KEY (tenant, root_jti, jti)
);

CREATE TABLE IF NOT EXISTS call_counts (
    tenant  TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    tool    TEXT COLLATE "C" NOT NULL,
    hour    BIGINT NOT NULL,           -- unix hour
    calls   BIGINT NOT NULL,
    PRIMARY KEY (tenant, subject, tool, hour)
);

CREATE TABLE IF NOT EXISTS deleted_sessions (
    id_hash    TEXT COLLATE "C" PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS deleted_sessions_expires ON deleted_sessions (expires_at);

CREATE TABLE IF NOT EXISTS session_activity (
    id_hash     TEXT COLLATE "C" PRIMARY KEY,
    last_active BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_activity_last ON session_activity (last_active);

CREATE TABLE IF NOT EXISTS checkpoints (
    tenant     TEXT COLLATE "C" NOT NULL,
    size       BIGINT NOT NULL,
    hash       TEXT COLLATE "C" NOT NULL,
    note       TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, size)
);
