-- Notification channels (DESIGN §8): Slack, Microsoft Teams and PagerDuty, one tenant each.
-- The webhook URL or routing key is sealed (AES-256-GCM, the channel id and tenant as associated
-- data); only the receiver's host is kept in clear, for people. Times are µs since the epoch.
CREATE TABLE IF NOT EXISTS notify_channels (
    id            TEXT COLLATE "C" PRIMARY KEY,           -- ntf_<hex>
    tenant        TEXT COLLATE "C" NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL,              -- slack | teams | pagerduty
    name          TEXT COLLATE "C" NOT NULL,
    events        TEXT COLLATE "C" NOT NULL,              -- JSON array: deny, escalate, requires_step_up, approval_timeout
    target_sealed BYTEA NOT NULL,                         -- AES-256-GCM: nonce ‖ ciphertext ‖ tag
    target_host   TEXT COLLATE "C" NOT NULL,
    created_at    BIGINT NOT NULL,
    created_by    TEXT COLLATE "C" NOT NULL,
    UNIQUE (tenant, name)
);
