-- Several servers share one database: a lease names the one server that does a piece of
-- background work (detection of one trail) until it expires. A holder renews its lease
-- while it works; a dead holder stops renewing and another server takes over on expiry.
-- (Numbered 0005 so it follows the 0003/0004 migrations of other branches.)
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
