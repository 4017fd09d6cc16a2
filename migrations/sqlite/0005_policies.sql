-- The policy store (DESIGN §4.3, §6): drafts, and the history of what was active. The newest
-- history row is the active pointer; its seq is the primary key, so two concurrent promotions
-- cannot both take the next place (one gets a conflict and retries on the new head).
CREATE TABLE IF NOT EXISTS policy_drafts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    tests TEXT NOT NULL,            -- JSON [[name, source], …]
    revision TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Each row holds the sources it activated, so a rollback never depends on a draft still existing.
CREATE TABLE IF NOT EXISTS policy_history (
    seq INTEGER PRIMARY KEY,
    action TEXT NOT NULL,           -- promote | rollback | clear
    draft_id TEXT,
    name TEXT,
    revision TEXT,                  -- NULL: no store policy (file or embedded default)
    source TEXT,
    prev_seq INTEGER,               -- the row that was active before (what a rollback returns to)
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
