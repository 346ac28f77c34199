-- The Postgres schema mirrors migrations/sqlite/ column for column, with two differences
-- that keep it fast at scale:
-- * events are partitioned by month of eventTime (partitions are created by the store, see
--   engine/src/store/postgres/partitions.rs), so retention drops whole months (a DROP TABLE,
--   not a DELETE of millions of rows) and time-bounded queries skip other months;
-- * resources live in a jsonb column of their event instead of a side table, so they go
--   with their month's partition.

-- Trails: a named stream of CloudTrail records, and which insight types run on it.
CREATE TABLE trails (
    name TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL,
    call_rate_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    error_rate_enabled BOOLEAN NOT NULL DEFAULT TRUE
);

-- Row numbers come from one sequence across partitions: they order events stored in the
-- same millisecond, for keyset pagination, as SQLite's rowid does.
CREATE SEQUENCE events_id_seq AS BIGINT;

-- Every stored record, raw JSON kept verbatim, with the fields queries filter on as columns.
-- Partitions (events_YYYYMMDD) are created by the store as records for a new day arrive.
CREATE TABLE events (
    id BIGINT NOT NULL DEFAULT nextval('events_id_seq'),
    trail TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_time_ms BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    event_source TEXT NOT NULL,
    event_name TEXT NOT NULL,
    aws_region TEXT NOT NULL,
    account TEXT NOT NULL,
    error_code TEXT,
    read_only BOOLEAN,
    is_management BOOLEAN NOT NULL,
    is_write BOOLEAN NOT NULL,
    user_arn TEXT,
    user_name TEXT,
    access_key_id TEXT,
    user_agent TEXT,
    source_ip TEXT,
    -- [{"type": ..., "name": ...}] in record order.
    resources JSONB NOT NULL DEFAULT '[]',
    raw TEXT NOT NULL,
    -- AWS delivers some records twice: the same eventID is stored once per trail. A unique
    -- key on a partitioned table must hold the partition column; a redelivered record has
    -- the same eventTime, so this catches every redelivery.
    UNIQUE (trail, event_id, event_time_ms)
) PARTITION BY RANGE (event_time_ms);
CREATE INDEX events_series ON events (trail, event_source, event_name, minute);
CREATE INDEX events_time ON events (trail, event_time_ms);
CREATE INDEX events_resources ON events USING GIN (resources jsonb_path_ops);

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
    start_minute BIGINT NOT NULL,
    end_minute BIGINT,
    baseline_average DOUBLE PRECISION NOT NULL,
    insight_average DOUBLE PRECISION NOT NULL,
    start_record TEXT NOT NULL,
    end_record TEXT
);
CREATE INDEX insights_start ON insights (start_minute);
CREATE INDEX insights_series ON insights (trail, event_source, event_name, insight_type);
