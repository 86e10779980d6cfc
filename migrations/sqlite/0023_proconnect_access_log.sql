-- The access log records the ProConnect identities linked and unlinked (SPEC 15). SQLite cannot
-- change a CHECK: the table is remade.
CREATE TABLE access_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT        NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username    TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('login', 'login_failed', 'logout', 'dossier_view',
                                                'prefecture_view', 'dossier_search',
                                                'alert_acknowledged', 'departments_changed',
                                                'purge', 'proconnect_linked',
                                                'proconnect_unlinked')),
    ds_id       BIGINT,
    address     TEXT NOT NULL,
    detail      TEXT
);
INSERT INTO access_log_new (id, at, user_id, username, action, ds_id, address, detail)
    SELECT id, at, user_id, username, action, ds_id, address, detail FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_new RENAME TO access_log;
CREATE INDEX access_log_at ON access_log (at);
