//! Pure types and rules of the back office: no I/O here.

pub mod account;
pub mod champs;
pub mod dates;
pub mod dossier;
pub mod status;
pub mod text;

pub use dossier::{ApiVersion, Dossier, DossierError, DsId};
pub use status::Status;
