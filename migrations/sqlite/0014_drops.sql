-- Per trail: whether activity far below its baseline is an insight too (drops; the console
-- shows them with a down arrow). Off by default: an API that simply stops being used is
-- rarely news.
ALTER TABLE trails ADD COLUMN drops INTEGER NOT NULL DEFAULT 0;
