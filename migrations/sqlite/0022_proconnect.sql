-- ProConnect sign-in (SPEC 15).
-- An account's ProConnect identity: the issuer and the `sub` it gave, stored at the first
-- sign-in that matched the account's e-mail; later sign-ins match by them only.
ALTER TABLE users ADD COLUMN proconnect_issuer TEXT;
ALTER TABLE users ADD COLUMN proconnect_sub TEXT;
CREATE UNIQUE INDEX users_proconnect_identity ON users (proconnect_issuer, proconnect_sub);

-- The ID token of a session opened through ProConnect: the logout's `id_token_hint`.
ALTER TABLE sessions ADD COLUMN id_token TEXT;

-- A sign-in or a logout sent to ProConnect and not back yet. The `state` is kept as its HMAC,
-- the browser that left as the HMAC of its cookie; a row is read once, then deleted.
CREATE TABLE proconnect_requests (
    state_hash      TEXT PRIMARY KEY,
    purpose         TEXT NOT NULL,                 -- 'login' or 'logout'
    browser_hash    TEXT NOT NULL,
    nonce           TEXT NOT NULL,
    pkce_verifier   TEXT NOT NULL,
    next_path       TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);

CREATE INDEX proconnect_requests_expires_at ON proconnect_requests (expires_at);
