-- Who may use trailsight (issue #11): built-in users, their sessions, API tokens, and an
-- audit log of every change. Secrets are never stored: sessions and tokens by the SHA-256 of
-- their random value, passwords as argon2id PHC strings. The one exception is the secret of an
-- AWS access key pair, which SigV4 needs in the clear to check signatures (as AWS keeps it).
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT,
    created_ms INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_name);

CREATE TABLE tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    aws_access_key_id TEXT UNIQUE,
    aws_secret_access_key TEXT,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_ms INTEGER
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
