-- What CloudTrail's CreateTrail, UpdateTrail, PutEventSelectors, StartLogging and StopLogging
-- set, kept per trail:
-- options: the CreateTrail/UpdateTrail options as JSON (IsMultiRegionTrail, S3KeyPrefix, ...);
--   NULL for trails not made through the AWS API.
-- event_selectors: {"EventSelectors": [...]} or {"AdvancedEventSelectors": [...]}; NULL keeps
--   every event the trail's logs hold (engine/src/selectors.rs).
-- start_logging_ms / stop_logging_ms: the latest StartLogging and StopLogging.
ALTER TABLE trails ADD COLUMN options TEXT;
ALTER TABLE trails ADD COLUMN event_selectors TEXT;
ALTER TABLE trails ADD COLUMN start_logging_ms INTEGER;
ALTER TABLE trails ADD COLUMN stop_logging_ms INTEGER;
UPDATE trails SET start_logging_ms = created_ms WHERE logging;

-- Username as AWS's Event history shows it (engine/src/record.rs): the session name of an
-- assumed role or federated user (the last part of its ARN), "root" for the root user.
-- Earlier versions stored the role name. (The role name has no "/" in an assumed-role ARN.)
UPDATE events
SET user_name = substr(
        substr(user_arn, instr(user_arn, ':assumed-role/') + 14),
        instr(substr(user_arn, instr(user_arn, ':assumed-role/') + 14), '/') + 1)
WHERE user_arn LIKE 'arn:%:assumed-role/%/%';
UPDATE events
SET user_name = substr(user_arn, instr(user_arn, ':federated-user/') + 16)
WHERE user_arn LIKE 'arn:%:federated-user/%';
UPDATE events SET user_name = 'root' WHERE user_arn LIKE 'arn:%:iam::%:root';
