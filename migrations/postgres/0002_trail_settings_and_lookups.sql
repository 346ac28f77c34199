-- Per-trail detection sensitivity (low, medium, high) and whether the trail is "logging"
-- (the AWS API's StartLogging/StopLogging; ingest still accepts records either way).
ALTER TABLE trails ADD COLUMN sensitivity TEXT NOT NULL DEFAULT 'medium';
ALTER TABLE trails ADD COLUMN logging BOOLEAN NOT NULL DEFAULT TRUE;
-- The S3 bucket named when the trail was created through the AWS API (informational).
ALTER TABLE trails ADD COLUMN s3_bucket TEXT;

-- Lookups by the attributes CloudTrail's LookupEvents and the event history filter on,
-- newest first.
CREATE INDEX events_name ON events (event_name, event_time_ms);
CREATE INDEX events_source ON events (event_source, event_time_ms);
CREATE INDEX events_user ON events (user_name, event_time_ms);
CREATE INDEX events_key ON events (access_key_id, event_time_ms);
CREATE INDEX events_event_id ON events (event_id);
CREATE INDEX events_newest ON events (event_time_ms, id);
