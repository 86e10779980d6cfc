-- Accounts imported from the Python back office keep their names (Django's first_name and
-- last_name); its date_joined and last_login go to created_at and last_login_at.

ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
