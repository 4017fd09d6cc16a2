-- MCP sessions (DESIGN §2): every replica, and a restarted igd, judges a session alike.

-- Deleted ids are synced between replicas and pruned by expiry: both read this index.
CREATE INDEX IF NOT EXISTS deleted_sessions_expires ON deleted_sessions (expires_at);

-- The last activity of live sessions, written in batches with a coarse granularity off the
-- request path, so the idle time-out holds across replicas and restarts.
CREATE TABLE IF NOT EXISTS session_activity (
    id_hash     TEXT PRIMARY KEY,
    last_active INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS session_activity_last ON session_activity (last_active);
