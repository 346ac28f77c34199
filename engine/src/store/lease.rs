//! Leases, the same SQL for every backend: one row per lease in the `leases` table
//! (migration 0005), taken with an upsert that only succeeds for the current holder or once
//! the lease has expired. The database serialises the upsert, so two servers racing for
//! the same lease never both get it.
//!
//! Numbered placeholders work in both SQLite (as named parameters, numbered in order of
//! first use) and Postgres.

/// Binds: name, holder, expires_ms, now_ms. Affects one row when the lease is taken.
pub(crate) const ACQUIRE: &str = "INSERT INTO leases (name, holder, expires_ms) VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
    WHERE leases.holder = excluded.holder OR leases.expires_ms <= $4";

/// Binds: name, holder.
pub(crate) const RELEASE: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2";
