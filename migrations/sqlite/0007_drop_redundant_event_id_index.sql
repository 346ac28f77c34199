-- Lookups by eventID use the UNIQUE (trail, event_id) index once per trail instead
-- (`trail IN (SELECT name FROM trails) AND event_id = ?`): trails are few, and one index
-- fewer on events makes every insert cheaper (ingest is bound by index maintenance).
DROP INDEX IF EXISTS events_event_id;
