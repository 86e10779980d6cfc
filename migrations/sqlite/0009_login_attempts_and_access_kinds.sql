-- Sign-in failures get a number, so that an attempt recorded before its password was checked can
-- be withdrawn when the password proves right; the rows are short-lived, so the table is remade.
DROP TABLE login_failures;
CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL,      -- 'user:<username>' or 'user_address:<username> <ip>'
    failed_at   TEXT        NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);

-- The access log also records views of Suivi Préfecture and searches by name or e-mail, with
-- the kind of search (never its text). SQLite cannot change a CHECK: the table is remade.
CREATE TABLE access_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT        NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username    TEXT NOT NULL,      -- as typed for a failed sign-in
    action      TEXT NOT NULL CHECK (action IN ('login', 'login_failed', 'logout', 'dossier_view',
                                                'prefecture_view', 'dossier_search')),
    ds_id       BIGINT,
    address     TEXT NOT NULL,
    detail      TEXT
);
INSERT INTO access_log_new (id, at, user_id, username, action, ds_id, address)
    SELECT id, at, user_id, username, action, ds_id, address FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_new RENAME TO access_log;
CREATE INDEX access_log_at ON access_log (at);
