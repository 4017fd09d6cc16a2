-- IntentGate embedded store, schema version 2: the audit chain laid out for append.
--
-- Version 1 kept each entry as a JSON body plus copied columns, indexed by random keys
-- (event_id, ref_event_id, UNIQUE(tenant, prev_hash) on hex text) and a side table keyed by
-- event_id: every entry dirtied several random B-tree pages, each a 4 KiB WAL frame per commit.
-- Version 2 stores one row per entry in append order (rowid), one column per field, hex values
-- as bytes, and what is kept beside the chain in the same row. Every index is ordered by
-- (tenant, seq), by time, or by the seq of a recent decision, so a group commit touches only
-- the right edge of each B-tree.
--
-- Hex-valued fields hold a BLOB when the value is lowercase hex (the only form igd writes) and
-- the TEXT itself otherwise, so any stored string reads back exactly (entries are hashed over
-- their canonical text form, DESIGN §5). `policy_revision` holds the 32 digest bytes of
-- `sha256:<hex>`; `jti_chain` the concatenated 16-byte jtis, or its JSON array text.

CREATE TABLE audit_log (
    id                  INTEGER PRIMARY KEY,   -- append order
    tenant              TEXT NOT NULL,
    seq                 INTEGER NOT NULL,
    v                   INTEGER NOT NULL,
    kind                TEXT NOT NULL,
    event_id            BLOB NOT NULL,
    ref_event_id        BLOB,
    ts                  INTEGER NOT NULL,
    instance            BLOB NOT NULL,
    subject             TEXT,
    delegated_subject   TEXT,
    jti                 BLOB,
    root_jti            BLOB,
    jti_chain           BLOB,
    method              TEXT,
    tool                TEXT,
    decision            TEXT,
    check_name          TEXT,
    reason              TEXT,
    policy_revision     BLOB,
    requires_step_up    INTEGER,
    approval_id         BLOB,
    decided_by          TEXT,
    elevation_id        BLOB,
    actor               TEXT,
    action              TEXT,
    target              TEXT,
    upstream_status     INTEGER,
    upstream_latency_ms INTEGER,
    args_commitment     BLOB,
    cut_seq             INTEGER,
    cut_hash            BLOB,
    prev_hash           BLOB NOT NULL,
    hash                BLOB NOT NULL,
    -- The seq (same tenant) of the entry `ref_event_id` names: outcomes are found through it.
    ref_seq             INTEGER,
    -- Beside the chain, not hashed, erasable: salt, argument values, what policy dry-run needs.
    salt                BLOB,
    args                TEXT,
    policy_context      TEXT
);
CREATE UNIQUE INDEX audit_log_chain ON audit_log (tenant, seq);
CREATE INDEX audit_log_ts ON audit_log (ts);
CREATE INDEX audit_log_ref ON audit_log (tenant, ref_seq) WHERE ref_seq IS NOT NULL;

-- Copy version 1's chain in its insertion order. Every entry field comes from `body` (what
-- version 1 read back and verified), tenant and seq from their key columns; hex converts to bytes
-- only where it is lowercase hex of even length, so every value reads back as it was.
INSERT INTO audit_log (tenant, seq, v, kind, event_id, ref_event_id, ts, instance, subject,
    delegated_subject, jti, root_jti, jti_chain, method, tool, decision, check_name, reason,
    policy_revision, requires_step_up, approval_id, decided_by, elevation_id, actor, action,
    target, upstream_status, upstream_latency_ms, args_commitment, cut_seq, cut_hash, prev_hash,
    hash, ref_seq, salt, args, policy_context)
SELECT tenant, seq, b_v, b_kind,
    CASE WHEN typeof(b_event_id) = 'text' AND length(b_event_id) % 2 = 0 AND b_event_id NOT GLOB '*[^0-9a-f]*' THEN unhex(b_event_id) ELSE b_event_id END,
    CASE WHEN typeof(b_ref_event_id) = 'text' AND length(b_ref_event_id) % 2 = 0 AND b_ref_event_id NOT GLOB '*[^0-9a-f]*' THEN unhex(b_ref_event_id) ELSE b_ref_event_id END,
    b_ts,
    CASE WHEN typeof(b_instance) = 'text' AND length(b_instance) % 2 = 0 AND b_instance NOT GLOB '*[^0-9a-f]*' THEN unhex(b_instance) ELSE b_instance END,
    b_subject, b_delegated_subject,
    CASE WHEN typeof(b_jti) = 'text' AND length(b_jti) % 2 = 0 AND b_jti NOT GLOB '*[^0-9a-f]*' THEN unhex(b_jti) ELSE b_jti END,
    CASE WHEN typeof(b_root_jti) = 'text' AND length(b_root_jti) % 2 = 0 AND b_root_jti NOT GLOB '*[^0-9a-f]*' THEN unhex(b_root_jti) ELSE b_root_jti END,
    CASE
        WHEN b_jti_chain IS NULL THEN NULL
        WHEN json_array_length(b_jti_chain) = 0 THEN x''
        WHEN NOT EXISTS (SELECT 1 FROM json_each(b_jti_chain) j
                         WHERE j.type <> 'text' OR length(j.value) <> 32
                            OR j.value GLOB '*[^0-9a-f]*')
            THEN unhex((SELECT group_concat(value, '') FROM
                        (SELECT j.value FROM json_each(b_jti_chain) j ORDER BY j.key)))
        ELSE b_jti_chain
    END,
    b_method, b_tool, b_decision, b_check, b_reason,
    CASE WHEN typeof(b_policy_revision) = 'text' AND length(b_policy_revision) = 71
              AND substr(b_policy_revision, 1, 7) = 'sha256:'
              AND substr(b_policy_revision, 8) NOT GLOB '*[^0-9a-f]*'
         THEN unhex(substr(b_policy_revision, 8)) ELSE b_policy_revision END,
    b_requires_step_up,
    CASE WHEN typeof(b_approval_id) = 'text' AND length(b_approval_id) % 2 = 0 AND b_approval_id NOT GLOB '*[^0-9a-f]*' THEN unhex(b_approval_id) ELSE b_approval_id END,
    b_decided_by,
    CASE WHEN typeof(b_elevation_id) = 'text' AND length(b_elevation_id) % 2 = 0 AND b_elevation_id NOT GLOB '*[^0-9a-f]*' THEN unhex(b_elevation_id) ELSE b_elevation_id END,
    b_actor, b_action, b_target, b_upstream_status, b_upstream_latency_ms,
    CASE WHEN typeof(b_args_commitment) = 'text' AND length(b_args_commitment) % 2 = 0 AND b_args_commitment NOT GLOB '*[^0-9a-f]*' THEN unhex(b_args_commitment) ELSE b_args_commitment END,
    b_cut_seq,
    CASE WHEN typeof(b_cut_hash) = 'text' AND length(b_cut_hash) % 2 = 0 AND b_cut_hash NOT GLOB '*[^0-9a-f]*' THEN unhex(b_cut_hash) ELSE b_cut_hash END,
    CASE WHEN typeof(b_prev_hash) = 'text' AND length(b_prev_hash) % 2 = 0 AND b_prev_hash NOT GLOB '*[^0-9a-f]*' THEN unhex(b_prev_hash) ELSE b_prev_hash END,
    CASE WHEN typeof(b_hash) = 'text' AND length(b_hash) % 2 = 0 AND b_hash NOT GLOB '*[^0-9a-f]*' THEN unhex(b_hash) ELSE b_hash END,
    ref_seq,
    CASE WHEN typeof(salt) = 'text' AND length(salt) % 2 = 0 AND salt NOT GLOB '*[^0-9a-f]*' THEN unhex(salt) ELSE salt END,
    args,
    CASE WHEN policy_input IS NULL OR json_valid(policy_input) = 0 THEN NULL
         ELSE json_object(
            'c', json_array(json_extract(policy_input, '$.agent.calls_today'),
                            json_extract(policy_input, '$.agent.calls_today_for_tool'),
                            json_extract(policy_input, '$.agent.calls_this_hour')),
            't', json_extract(policy_input, '$.capability.tools'),
            'm', json_extract(policy_input, '$.capability.max_calls'),
            'r', json_extract(policy_input, '$.capability.remaining_calls'),
            'x', json_extract(policy_input, '$.capability.expires_at'),
            'i', json_extract(policy_input, '$.intent'),
            'a', json_extract(policy_input, '$.request.remote_addr'),
            'p', json_extract(policy_input, '$.request.protocol_version'))
    END
FROM (
    SELECT e.rowid AS old_rowid, e.tenant, e.seq,
        json_extract(e.body, '$.v') AS b_v,
        json_extract(e.body, '$.kind') AS b_kind,
        json_extract(e.body, '$.event_id') AS b_event_id,
        json_extract(e.body, '$.ref_event_id') AS b_ref_event_id,
        json_extract(e.body, '$.ts') AS b_ts,
        json_extract(e.body, '$.instance') AS b_instance,
        json_extract(e.body, '$.subject') AS b_subject,
        json_extract(e.body, '$.delegated_subject') AS b_delegated_subject,
        json_extract(e.body, '$.jti') AS b_jti,
        json_extract(e.body, '$.root_jti') AS b_root_jti,
        json_extract(e.body, '$.jti_chain') AS b_jti_chain,
        json_extract(e.body, '$.method') AS b_method,
        json_extract(e.body, '$.tool') AS b_tool,
        json_extract(e.body, '$.decision') AS b_decision,
        json_extract(e.body, '$.check') AS b_check,
        json_extract(e.body, '$.reason') AS b_reason,
        json_extract(e.body, '$.policy_revision') AS b_policy_revision,
        json_extract(e.body, '$.requires_step_up') AS b_requires_step_up,
        json_extract(e.body, '$.approval_id') AS b_approval_id,
        json_extract(e.body, '$.decided_by') AS b_decided_by,
        json_extract(e.body, '$.elevation_id') AS b_elevation_id,
        json_extract(e.body, '$.actor') AS b_actor,
        json_extract(e.body, '$.action') AS b_action,
        json_extract(e.body, '$.target') AS b_target,
        json_extract(e.body, '$.upstream_status') AS b_upstream_status,
        json_extract(e.body, '$.upstream_latency_ms') AS b_upstream_latency_ms,
        json_extract(e.body, '$.args_commitment') AS b_args_commitment,
        json_extract(e.body, '$.cut_seq') AS b_cut_seq,
        json_extract(e.body, '$.cut_hash') AS b_cut_hash,
        json_extract(e.body, '$.prev_hash') AS b_prev_hash,
        json_extract(e.body, '$.hash') AS b_hash,
        (SELECT d.seq FROM audit_entries d
         WHERE d.tenant = e.tenant AND d.event_id = json_extract(e.body, '$.ref_event_id')) AS ref_seq,
        s.salt, s.args, s.policy_input
    FROM audit_entries e LEFT JOIN audit_side s ON s.event_id = e.event_id
) ORDER BY old_rowid;

DROP TABLE audit_side;
DROP TABLE audit_entries;

-- UNIQUE(tenant, prev_hash) without a random-keyed index: every row must link to the row
-- before it (seq 1 to the genesis hash). With UNIQUE(tenant, seq) this forbids two rows
-- extending the same predecessor, i.e. it implies UNIQUE(tenant, prev_hash) (two distinct
-- entries would need equal SHA-256 hashes), and it also refuses any insert that does not
-- extend the stored chain. The lookup hits the page the previous append just wrote.
CREATE TRIGGER audit_log_links BEFORE INSERT ON audit_log
WHEN CASE
    WHEN NEW.seq = 1 THEN NEW.prev_hash IS NOT zeroblob(32)
    ELSE NOT EXISTS (SELECT 1 FROM audit_log p
                     WHERE p.tenant = NEW.tenant AND p.seq = NEW.seq - 1 AND p.hash = NEW.prev_hash)
END
BEGIN
    SELECT RAISE(ABORT, 'audit_log: entry does not extend its chain (prev_hash)');
END;

