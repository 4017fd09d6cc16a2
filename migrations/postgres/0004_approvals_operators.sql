-- Approvals of escalated calls (DESIGN §4 approval), operators, TOTP step-up and JIT elevations
-- (DESIGN §6). Times are µs since the epoch.

-- One row per escalation. At most one row per binding is live (`pending` or `approved`): the
-- partial unique index makes concurrent escalations of the same call share one row.
CREATE TABLE IF NOT EXISTS approvals (
    id                TEXT COLLATE "C" PRIMARY KEY,
    tenant            TEXT COLLATE "C" NOT NULL,
    subject           TEXT COLLATE "C" NOT NULL,
    delegated_subject TEXT COLLATE "C",
    root_jti          TEXT COLLATE "C" NOT NULL,
    leaf_jti          TEXT COLLATE "C" NOT NULL,
    tool              TEXT COLLATE "C" NOT NULL,
    args_hash         TEXT COLLATE "C" NOT NULL,
    args              TEXT COLLATE "C",               -- JSON
    intent            TEXT COLLATE "C",               -- JSON
    reason            TEXT COLLATE "C" NOT NULL,
    requires_step_up  BOOLEAN NOT NULL,
    decision_event    TEXT COLLATE "C" NOT NULL,
    decision_seq      BIGINT NOT NULL,   -- the decision's seq in the tenant's chain
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    status            TEXT COLLATE "C" NOT NULL,      -- pending | approved | rejected | timeout | forwarded | lapsed
    decided_by        TEXT COLLATE "C",
    decided_at        BIGINT,
    note              TEXT COLLATE "C"
);
CREATE UNIQUE INDEX IF NOT EXISTS approvals_live ON approvals
    (tenant, root_jti, leaf_jti, tool, args_hash) WHERE status IN ('pending', 'approved');
CREATE INDEX IF NOT EXISTS approvals_created ON approvals (created_at);
CREATE INDEX IF NOT EXISTS approvals_status_created ON approvals (status, created_at);
CREATE INDEX IF NOT EXISTS approvals_status_expires ON approvals (status, expires_at);
CREATE INDEX IF NOT EXISTS approvals_decided ON approvals (decided_at) WHERE decided_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS operators (
    name         TEXT COLLATE "C" PRIMARY KEY,
    role         TEXT COLLATE "C" NOT NULL,               -- viewer | operator | admin
    tenant       TEXT COLLATE "C",
    uid          BIGINT UNIQUE,
    cert_subject TEXT COLLATE "C" UNIQUE,
    token_hash   TEXT COLLATE "C" UNIQUE,                 -- sha256:<hex> of the API token
    created_at   BIGINT NOT NULL,
    created_by   TEXT COLLATE "C" NOT NULL
);

-- TOTP enrollments by identity; the satellites below go with the enrollment.
CREATE TABLE IF NOT EXISTS totp (
    identity      TEXT COLLATE "C" PRIMARY KEY,
    secret_sealed BYTEA NOT NULL,              -- AES-256-GCM: nonce ‖ ciphertext ‖ tag
    confirmed     BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL
);
-- Unused recovery codes: spending one is a DELETE whose row count says whether it was there.
CREATE TABLE IF NOT EXISTS totp_recovery (
    identity TEXT COLLATE "C" NOT NULL,
    hash     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (identity, hash)
);
-- Time steps already used (a code is good once, across replicas).
CREATE TABLE IF NOT EXISTS totp_used_steps (
    identity TEXT COLLATE "C" NOT NULL,
    step     BIGINT NOT NULL,
    PRIMARY KEY (identity, step)
);
CREATE TABLE IF NOT EXISTS totp_failures (
    identity TEXT COLLATE "C" NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS totp_failures_identity ON totp_failures (identity, at);

CREATE TABLE IF NOT EXISTS elevations (
    id            TEXT COLLATE "C" PRIMARY KEY,
    identity      TEXT COLLATE "C" NOT NULL,
    reason        TEXT COLLATE "C" NOT NULL,
    duration_secs BIGINT NOT NULL,
    requested_at  BIGINT NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,              -- pending | active
    approved_by   TEXT COLLATE "C",
    approved_at   BIGINT,
    expires_at    BIGINT
);
CREATE INDEX IF NOT EXISTS elevations_requested ON elevations (requested_at);
