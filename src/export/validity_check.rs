//! `validity_check.json`: every accepted dossier, anonymised (SPEC 5.1).

use std::io::Write;

use chrono::NaiveDate;
use futures_util::TryStreamExt;

use super::{ExportError, ExportFile, Output};
use crate::domain::ProcedureKind;
use crate::domain::validity::{AcceptedDossier, ValidityRecord};
use crate::store::{Db, StoreError, dossiers};

pub const FILE_NAME: &str = "validity_check.json";

/// Writes the file, one record per line, streaming from the database; returns the number of
/// records. `today` (in `WIF_TIME_ZONE`) decides `has_expired`.
pub async fn export(db: &Db, output: &Output, today: NaiveDate) -> Result<u64, ExportError> {
    let mut file = ExportFile::create(output)?;
    let mut rows = dossiers::validity_rows(db);
    let mut count = 0u64;
    // Each record is written whole from this buffer rather than piece by piece into the file.
    let mut line = Vec::with_capacity(512);
    file.write_all(b"[").map_err(|e| file.error(e))?;
    while let Some(row) = rows.try_next().await? {
        let kind: ProcedureKind =
            row.kind
                .parse()
                .map_err(|e: crate::domain::procedure::UnknownKind| {
                    StoreError::Corrupt(e.to_string())
                })?;
        let record = ValidityRecord::new(
            AcceptedDossier {
                ds_id: row.ds_id,
                kind,
                siret: row.siret,
                prenom: row.prenom.as_deref(),
                nom: row.nom.as_deref(),
                date_de_naissance: row.date_de_naissance,
                date_de_debut_apt: row.date_de_debut_apt,
                date_de_fin_apt: row.date_de_fin_apt,
                champs: row.champs.as_ref().map(|c| &c.0),
            },
            today,
        );
        line.clear();
        line.extend_from_slice(if count == 0 { b"\n" } else { b",\n" });
        serde_json::to_writer(&mut line, &record).map_err(|e| file.error(e.into()))?;
        file.write_all(&line).map_err(|e| file.error(e))?;
        count += 1;
    }
    file.write_all(b"\n]\n").map_err(|e| file.error(e))?;
    file.commit()?;
    Ok(count)
}
