-- Sign-in failures get a number, so that an attempt recorded before its password was checked can
-- be withdrawn when the password proves right; the rows are short-lived, so the table is remade.
DROP TABLE login_failures;
CREATE TABLE login_failures (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL,      -- 'user:<username>' or 'user_address:<username> <ip>'
    failed_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);

-- The access log also records views of Suivi Préfecture and searches by name or e-mail, with
-- the kind of search (never its text).
ALTER TABLE access_log ADD COLUMN detail TEXT;
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check CHECK (action IN
    ('login', 'login_failed', 'logout', 'dossier_view', 'prefecture_view', 'dossier_search'));
