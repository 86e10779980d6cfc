-- The admin web app: the access log (RGPD: who viewed which dossier, who signed in) and the
-- failed sign-ins that slow down password guessing, shared by every instance.

CREATE TABLE access_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT        NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username    TEXT NOT NULL,      -- as typed for a failed sign-in
    action      TEXT NOT NULL CHECK (action IN ('login', 'login_failed', 'logout', 'dossier_view')),
    ds_id       BIGINT,
    address     TEXT NOT NULL
);

CREATE INDEX access_log_at ON access_log (at);

CREATE TABLE login_failures (
    key         TEXT NOT NULL,      -- 'user:<username>' or 'address:<ip>'
    failed_at   TEXT        NOT NULL
);

CREATE INDEX login_failures_key ON login_failures (key, failed_at);
