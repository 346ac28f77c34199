-- Per trail: whether activity far below its baseline is an insight too (see
-- migrations/sqlite/0014_drops.sql). Off by default.
ALTER TABLE trails ADD COLUMN drops BOOLEAN NOT NULL DEFAULT FALSE;
