-- Several servers share one database: a lease names the one server that does a piece of
-- background work (detection of one trail) until it expires. A holder renews its lease
-- while it works; a dead holder stops renewing and another server takes over on expiry.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
