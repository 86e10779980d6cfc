//! Pure types and rules of the back office: no I/O here.

pub mod account;
pub mod alerts;
pub mod champs;
pub mod cron;
pub mod dates;
pub mod dossier;
pub mod password;
pub mod procedure;
pub mod report;
pub mod retention;
pub mod scope;
pub mod status;
pub mod text;
pub mod validity;
pub mod webhook;

pub use dossier::{ApiVersion, Dossier, DossierError, DsId};
pub use procedure::ProcedureKind;
pub use scope::Scope;
pub use status::Status;
