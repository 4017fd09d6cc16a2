-- Budget units handed out to replicas (DESIGN §4): one row per budget dimension and window
-- (a token level's max_calls: window 0; a ceiling: its hour or day). `granted` only grows and
-- never passes the ceiling, so the calls of every replica together never do either.
CREATE TABLE IF NOT EXISTS budget_grants (
    key     TEXT NOT NULL,
    win     INTEGER NOT NULL,
    granted INTEGER NOT NULL,
    PRIMARY KEY (key, win)
);
