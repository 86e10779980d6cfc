-- The access log records the ProConnect identities linked and unlinked (SPEC 15).
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check CHECK (action IN
    ('login', 'login_failed', 'logout', 'dossier_view', 'prefecture_view', 'dossier_search',
     'alert_acknowledged', 'departments_changed', 'purge', 'proconnect_linked',
     'proconnect_unlinked'));
