-- Approvals of escalated calls (DESIGN §4 approval), operators, TOTP step-up and JIT elevations
-- (DESIGN §6). Times are µs since the epoch.

-- One row per escalation. At most one row per binding is live (`pending` or `approved`): the
-- partial unique index makes concurrent escalations of the same call share one row.
CREATE TABLE IF NOT EXISTS approvals (
    id                TEXT PRIMARY KEY,
    tenant            TEXT NOT NULL,
    subject           TEXT NOT NULL,
    delegated_subject TEXT,
    root_jti          TEXT NOT NULL,
    leaf_jti          TEXT NOT NULL,
    tool              TEXT NOT NULL,
    args_hash         TEXT NOT NULL,
    args              TEXT,               -- JSON
    intent            TEXT,               -- JSON
    reason            TEXT NOT NULL,
    requires_step_up  INTEGER NOT NULL,   -- 0 | 1
    decision_event    TEXT NOT NULL,
    decision_seq      INTEGER NOT NULL,   -- the decision's seq in the tenant's chain
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    status            TEXT NOT NULL,      -- pending | approved | rejected | timeout | forwarded | lapsed
    decided_by        TEXT,
    decided_at        INTEGER,
    note              TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS approvals_live ON approvals
    (tenant, root_jti, leaf_jti, tool, args_hash) WHERE status IN ('pending', 'approved');
CREATE INDEX IF NOT EXISTS approvals_created ON approvals (created_at);
CREATE INDEX IF NOT EXISTS approvals_status_created ON approvals (status, created_at);
CREATE INDEX IF NOT EXISTS approvals_status_expires ON approvals (status, expires_at);
CREATE INDEX IF NOT EXISTS approvals_decided ON approvals (decided_at) WHERE decided_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS operators (
    name         TEXT PRIMARY KEY,
    role         TEXT NOT NULL,               -- viewer | operator | admin
    tenant       TEXT,
    uid          INTEGER UNIQUE,
    cert_subject TEXT UNIQUE,
    token_hash   TEXT UNIQUE,                 -- sha256:<hex> of the API token
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL
);

-- TOTP enrollments by identity; the satellites below go with the enrollment.
CREATE TABLE IF NOT EXISTS totp (
    identity      TEXT PRIMARY KEY,
    secret_sealed BLOB NOT NULL,              -- AES-256-GCM: nonce ‖ ciphertext ‖ tag
    confirmed     INTEGER NOT NULL,           -- 0 | 1
    created_at    INTEGER NOT NULL
);
-- Unused recovery codes: spending one is a DELETE whose row count says whether it was there.
CREATE TABLE IF NOT EXISTS totp_recovery (
    identity TEXT NOT NULL,
    hash     TEXT NOT NULL,
    PRIMARY KEY (identity, hash)
);
-- Time steps already used (a code is good once, across replicas).
CREATE TABLE IF NOT EXISTS totp_used_steps (
    identity TEXT NOT NULL,
    step     INTEGER NOT NULL,
    PRIMARY KEY (identity, step)
);
CREATE TABLE IF NOT EXISTS totp_failures (
    identity TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS totp_failures_identity ON totp_failures (identity, at);

CREATE TABLE IF NOT EXISTS elevations (
    id            TEXT PRIMARY KEY,
    identity      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    duration_secs INTEGER NOT NULL,
    requested_at  INTEGER NOT NULL,
    status        TEXT NOT NULL,              -- pending | active
    approved_by   TEXT,
    approved_at   INTEGER,
    expires_at    INTEGER
);
CREATE INDEX IF NOT EXISTS elevations_requested ON elevations (requested_at);
