-- Trails: a named stream of CloudTrail records, and which insight types run on it.
CREATE TABLE trails (
    name TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    call_rate_enabled INTEGER NOT NULL DEFAULT 1,
    error_rate_enabled INTEGER NOT NULL DEFAULT 1
);

-- Every stored record, raw JSON kept verbatim, with the fields queries filter on as columns.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    trail TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
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
    raw TEXT NOT NULL,
    -- AWS delivers some records twice: the same eventID is stored once per trail.
    UNIQUE (trail, event_id)
);
CREATE INDEX events_series ON events (trail, event_source, event_name, minute);
CREATE INDEX events_time ON events (trail, event_time_ms);

CREATE TABLE event_resources (
    event_row INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_name TEXT NOT NULL
);
CREATE INDEX event_resources_row ON event_resources (event_row);
CREATE INDEX event_resources_name ON event_resources (resource_name);

-- One row per insight (a Start/End pair sharing sharedEventID); the records are stored
-- exactly as they are served.
CREATE TABLE insights (
    shared_event_id TEXT PRIMARY KEY,
    trail TEXT NOT NULL,
    insight_type TEXT NOT NULL,
    account TEXT NOT NULL,
    aws_region TEXT NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    error_code TEXT,
    start_minute INTEGER NOT NULL,
    end_minute INTEGER,
    baseline_average REAL NOT NULL,
    insight_average REAL NOT NULL,
    start_record TEXT NOT NULL,
    end_record TEXT
);
CREATE INDEX insights_start ON insights (start_minute);
CREATE INDEX insights_series ON insights (trail, event_source, event_name, insight_type);
