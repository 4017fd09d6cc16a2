-- The policy store (DESIGN §4.3, §6): drafts, and the history of what was active. The newest
-- history row is the active pointer; its seq is the primary key, so two concurrent promotions
-- cannot both take the next place (one gets a conflict and retries on the new head).
CREATE TABLE IF NOT EXISTS policy_drafts (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    tests TEXT COLLATE "C" NOT NULL,            -- JSON [[name, source], …]
    revision TEXT COLLATE "C" NOT NULL,
    author TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each row holds the sources it activated, so a rollback never depends on a draft still existing.
CREATE TABLE IF NOT EXISTS policy_history (
    seq BIGINT PRIMARY KEY,
    action TEXT COLLATE "C" NOT NULL,           -- promote | rollback | clear
    draft_id TEXT COLLATE "C",
    name TEXT COLLATE "C",
    revision TEXT COLLATE "C",                  -- NULL: no store policy (file or embedded default)
    source TEXT COLLATE "C",
    prev_seq BIGINT,               -- the row that was active before (what a rollback returns to)
    actor TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL
);
