-- Indexes of the admin's lists at a million dossiers: each sortable column with the DS number (a
-- page is found in the index alone, then its rows are read), the status × department
-- cross-tabulation of the filters' counts, and the prefix search on names and e-mails (bytewise
-- order, so that a prefix is a range).

DROP INDEX dossiers_created_at;
DROP INDEX dossiers_status;
DROP INDEX dossiers_department;
DROP INDEX dossiers_date_de_debut_apt;
DROP INDEX dossiers_date_de_fin_apt;
DROP INDEX dossiers_date_dexpiration_titre_sejour;

CREATE INDEX dossiers_list_created_at ON dossiers (created_at, ds_id);
CREATE INDEX dossiers_list_status ON dossiers (status, ds_id);
CREATE INDEX dossiers_list_department ON dossiers (department, ds_id);
CREATE INDEX dossiers_list_debut_apt ON dossiers (date_de_debut_apt, ds_id);
CREATE INDEX dossiers_list_fin_apt ON dossiers (date_de_fin_apt, ds_id);
CREATE INDEX dossiers_list_instructeurs ON dossiers (instructeurs, ds_id);
CREATE INDEX dossiers_list_expiration ON dossiers (date_dexpiration_titre_sejour, ds_id) INCLUDE (status);
CREATE INDEX dossiers_counts ON dossiers (status, department);

CREATE INDEX dossiers_search_nom ON dossiers ((lower(nom) COLLATE "C"));
CREATE INDEX dossiers_search_prenom ON dossiers ((lower(prenom) COLLATE "C"));
CREATE INDEX dossiers_search_email ON dossiers ((lower(email) COLLATE "C"));
