-- Events, rebuilt so that ingest stays fast however large the table grows.
--
-- 1. Duplicates are found by UNIQUE (trail, day, event_id) instead of (trail, event_id).
--    eventIDs are random, so every batch of new records used to land on pages all over the
--    old index, and each commit rewrote nearly all of it (measured: a million records wrote
--    the index ~50 times over). With the day first, a batch touches only the pages of the
--    days it holds. A duplicate delivery is the same record, with the same eventTime, so it
--    still meets its first copy; lookups by eventID alone probe each stored day (few
--    thousand seeks for years of history; see `store::sqlite::EVENT_ID_LOOKUP`).
-- 2. events_series (trail, source, name, minute) is gone: graphs and attributions select
--    one API's minutes through events_name (event_name, event_time_ms), which every lookup
--    by name needs anyway, and one index fewer to maintain per insert.
-- 3. raw is stored either as the delivered JSON text (rows written before this migration)
--    or as a zstd frame compressed with trailsight's dictionary (see `store::packed`),
--    about a fifth of the size.
--
-- SQLite cannot drop a table constraint in place, so both tables are rebuilt. They are
-- renamed first, which keeps event_resources' foreign key pointing at the renamed table, so
-- dropping the old tables never cascades into rows that were just copied.

ALTER TABLE event_resources RENAME TO event_resources_0007;
ALTER TABLE events RENAME TO events_0007;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    trail TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
    -- event_time_ms / 86400000 (SQLite's integer division, also used by the lookups).
    day INTEGER NOT NULL,
    minute INTEGER NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    aws_region TEXT NOT NULL,
    account TEXT NOT NULL,
    error_code TEXT,
    read_only INTEGER,
    is_management INTEGER NOT NULL,
    is_write INTEGER NOT NULL,
    user_arn TEXT,
    user_name TEXT,
    access_key_id TEXT,
    user_agent TEXT,
    source_ip TEXT,
    raw BLOB NOT NULL
);

CREATE TABLE event_resources (
    event_row INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL
);

INSERT INTO events (id, trail, event_id, event_time_ms, day, minute, event_source, event_name,
        aws_region, account, error_code, read_only, is_management, is_write, user_arn,
        user_name, access_key_id, user_agent, source_ip, raw)
    SELECT id, trail, event_id, event_time_ms, event_time_ms / 86400000, minute, event_source,
        event_name, aws_region, account, error_code, read_only, is_management, is_write,
        user_arn, user_name, access_key_id, user_agent, source_ip, raw
    FROM events_0007 ORDER BY id;
INSERT INTO event_resources (event_row, resource_type, resource_name)
    SELECT event_row, resource_type, resource_name FROM event_resources_0007 ORDER BY rowid;

DROP TABLE event_resources_0007;
DROP TABLE events_0007;

CREATE UNIQUE INDEX events_identity ON events (trail, day, event_id);
CREATE INDEX events_time ON events (trail, event_time_ms);
CREATE INDEX events_newest ON events (event_time_ms, id);
CREATE INDEX events_name ON events (event_name, event_time_ms);
CREATE INDEX events_source ON events (event_source, event_time_ms);
CREATE INDEX events_user ON events (user_name, event_time_ms);
CREATE INDEX events_key ON events (access_key_id, event_time_ms);
CREATE INDEX event_resources_row ON event_resources (event_row);
CREATE INDEX event_resources_name ON event_resources (resource_name);
