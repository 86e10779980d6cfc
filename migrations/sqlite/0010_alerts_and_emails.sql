-- Alerts (SPEC 9): when the applicant last wrote (never what), the alerts with their history,
-- the e-mails sent or failed, and which alert was notified to whom.
ALTER TABLE dossiers ADD COLUMN applicant_message_at TEXT;

CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    ds_id               BIGINT NOT NULL,
    code                TEXT NOT NULL,
    department          TEXT,               -- the dossier's, for counts and filters
    opened_at           TEXT NOT NULL,
    resolved_at         TEXT,
    acknowledged_at     TEXT,
    acknowledged_by     TEXT
);
-- At most one open alert per dossier and rule; a rule that holds again opens a new row.
CREATE UNIQUE INDEX alerts_open ON alerts (ds_id, code) WHERE resolved_at IS NULL;
CREATE INDEX alerts_open_order ON alerts (opened_at, id) WHERE resolved_at IS NULL;
CREATE INDEX alerts_open_counts ON alerts (code, department) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved_order ON alerts (resolved_at, id) WHERE resolved_at IS NOT NULL;
CREATE INDEX alerts_ds_id ON alerts (ds_id);

CREATE TABLE emails (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    at          TEXT NOT NULL,
    sent        BOOLEAN NOT NULL,
    error       TEXT
);
CREATE INDEX emails_at ON emails (at);

CREATE TABLE alert_notifications (
    alert_id    BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    recipient   TEXT NOT NULL,
    email_id    BIGINT NOT NULL REFERENCES emails (id),
    PRIMARY KEY (alert_id, recipient)
);

-- SQLite cannot change a CHECK: the access log is remade to accept « alerte prise en compte ».
CREATE TABLE access_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT        NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username    TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('login', 'login_failed', 'logout', 'dossier_view',
                                                'prefecture_view', 'dossier_search',
                                                'alert_acknowledged')),
    ds_id       BIGINT,
    address     TEXT NOT NULL,
    detail      TEXT
);
INSERT INTO access_log_new (id, at, user_id, username, action, ds_id, address, detail)
    SELECT id, at, user_id, username, action, ds_id, address, detail FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_new RENAME TO access_log;
CREATE INDEX access_log_at ON access_log (at);
