-- Notifications and triage (issue #12).
--
-- destinations: where insight events are sent (webhook, slack, email, s3, directory), for one
-- trail or all (trail NULL). `config` is the kind's settings as JSON, secrets included (a
-- webhook's signing secret, a Slack webhook URL, an SMTP password): they are needed in the
-- clear to send, and are never shown again after creation nor logged.
CREATE TABLE destinations (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    trail TEXT,
    config TEXT NOT NULL,
    max_age_ms INTEGER NOT NULL,
    group_minutes INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL
);

-- deliveries: the outbox. A row per (destination, insight event) is written in the same
-- transaction that stores the insight event, so a crash cannot lose a notification or send one
-- for an insight that was never stored. The record is copied so that a delivery does not depend
-- on retention or trail deletion. status: pending, sent, failed, grouped (a repeat of a recent
-- insight of the same API, not sent). A server sending a row claims it until claimed_until_ms.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    event_id TEXT NOT NULL,
    shared_event_id TEXT NOT NULL,
    trail TEXT NOT NULL,
    record TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_until_ms INTEGER,
    last_error TEXT,
    queued_ms INTEGER NOT NULL,
    done_ms INTEGER,
    UNIQUE (destination, event_id)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_ms);
CREATE INDEX deliveries_by_insight ON deliveries (shared_event_id);

-- Triage, beside the AWS record (never inside it): new, acknowledged, resolved or expected,
-- who set it and when; suppressed_by names the rule that marked the insight expected.
ALTER TABLE insights ADD COLUMN triage_state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE insights ADD COLUMN triage_by TEXT;
ALTER TABLE insights ADD COLUMN triage_ms INTEGER;
ALTER TABLE insights ADD COLUMN suppressed_by TEXT;

CREATE TABLE insight_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    shared_event_id TEXT NOT NULL,
    author TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX insight_comments_by_insight ON insight_comments (shared_event_id);

-- Suppression rules: "<type> on <source> <name> [in account A] [in region R] [by identity X]
-- is expected [until a date]". A matching new insight is stored, marked suppressed, and not
-- notified. NULL matches anything.
CREATE TABLE suppressions (
    name TEXT PRIMARY KEY,
    insight_type TEXT,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    account TEXT,
    region TEXT,
    identity TEXT,
    until_ms INTEGER,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);

-- Insights stored before triage existed were seen on the dashboard already: they start as
-- acknowledged, so Home's "new" count means new since the upgrade, not the whole history.
UPDATE insights SET triage_state = 'acknowledged', triage_by = 'upgrade (stored before triage)';
