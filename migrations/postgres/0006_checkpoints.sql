-- Where each incremental source (an S3 bucket location) was read up to, per trail, so that
-- the next run reads only what is new. The value's format belongs to the source.
-- (Numbered 0006 so it follows the 0003/0004 migrations of other branches.)
CREATE TABLE checkpoints (
    trail TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (trail, key)
);
