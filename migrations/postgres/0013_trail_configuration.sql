-- What CloudTrail's CreateTrail, UpdateTrail, PutEventSelectors, StartLogging and StopLogging
-- set, kept per trail (see migrations/sqlite/0013_trail_configuration.sql).
ALTER TABLE trails ADD COLUMN options TEXT;
ALTER TABLE trails ADD COLUMN event_selectors TEXT;
ALTER TABLE trails ADD COLUMN start_logging_ms BIGINT;
ALTER TABLE trails ADD COLUMN stop_logging_ms BIGINT;
UPDATE trails SET start_logging_ms = created_ms WHERE logging;

-- Username as AWS's Event history shows it: the session name of an assumed role or federated
-- user (the last part of its ARN), "root" for the root user. Earlier versions stored the
-- role name.
UPDATE events SET user_name = regexp_replace(user_arn, '^.*/', '')
WHERE user_arn LIKE 'arn:%:assumed-role/%/%' OR user_arn LIKE 'arn:%:federated-user/%';
UPDATE events SET user_name = 'root' WHERE user_arn LIKE 'arn:%:iam::%:root';
