-- Secrets the servers sharing this database must agree on, such as the key that signs
-- the AWS API's NextTokens (so a token issued by one server is accepted by another).
-- The first server to need one inserts a random value; every server then reads that row.
-- Nothing to do with sign-in: user credentials live elsewhere.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
