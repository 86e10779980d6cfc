-- Alerts (SPEC 9): when the applicant last wrote (never what), the alerts with their history,
-- the e-mails sent or failed, and which alert was notified to whom.
ALTER TABLE dossiers ADD COLUMN applicant_message_at TIMESTAMPTZ;

CREATE TABLE alerts (
    id                  BIGSERIAL PRIMARY KEY,
    ds_id               BIGINT NOT NULL,
    code                TEXT NOT NULL,
    department          TEXT,               -- the dossier's, for counts and filters
    opened_at           TIMESTAMPTZ NOT NULL,
    resolved_at         TIMESTAMPTZ,
    acknowledged_at     TIMESTAMPTZ,
    acknowledged_by     TEXT
);
-- At most one open alert per dossier and rule; a rule that holds again opens a new row.
CREATE UNIQUE INDEX alerts_open ON alerts (ds_id, code) WHERE resolved_at IS NULL;
CREATE INDEX alerts_open_order ON alerts (opened_at, id) WHERE resolved_at IS NULL;
CREATE INDEX alerts_open_counts ON alerts (code, department) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved_order ON alerts (resolved_at, id) WHERE resolved_at IS NOT NULL;
CREATE INDEX alerts_ds_id ON alerts (ds_id);

CREATE TABLE emails (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
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

ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check CHECK (action IN
    ('login', 'login_failed', 'logout', 'dossier_view', 'prefecture_view', 'dossier_search',
     'alert_acknowledged'));
