-- Accounts limited to départements (SPEC 11) and their lists' indexes.
CREATE TABLE user_departments (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    department  TEXT NOT NULL,
    PRIMARY KEY (user_id, department)
);
CREATE INDEX user_departments_department ON user_departments (department);

ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check CHECK (action IN
    ('login', 'login_failed', 'logout', 'dossier_view', 'prefecture_view', 'dossier_search',
     'alert_acknowledged', 'departments_changed'));

-- A limited agent's dossiers, newest first, at any depth.
CREATE INDEX dossiers_list_department_created ON dossiers (department, created_at, ds_id);

-- Suivi Préfecture's counts per status and département, from the index alone.
DROP INDEX dossiers_list_expiration;
CREATE INDEX dossiers_list_expiration ON dossiers (date_dexpiration_titre_sejour, ds_id) INCLUDE (status, department);
