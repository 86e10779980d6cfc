//! What a DS démarche is for: APT requests, or introduction requests (SPEC 5.1 `type`).

use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcedureKind {
    /// An *autorisation provisoire de travail*: the WIF procedure itself.
    #[default]
    Authorization,
    /// An introduction request (*demande d'introduction*), exported with some of its champs.
    Introduction,
}

impl ProcedureKind {
    /// The stored value, also the `type` of a `validity_check.json` record.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcedureKind::Authorization => "authorization",
            ProcedureKind::Introduction => "introduction",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("type de démarche inconnu « {0} » (authorization ou introduction)")]
pub struct UnknownKind(pub String);

impl FromStr for ProcedureKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "authorization" => Ok(ProcedureKind::Authorization),
            "introduction" => Ok(ProcedureKind::Introduction),
            other => Err(UnknownKind(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_by_name_and_read_back() {
        // The stored form is also the `type` of the public export: it must not change.
        assert_eq!(
            (
                ProcedureKind::Authorization.as_str(),
                ProcedureKind::Introduction.as_str()
            ),
            ("authorization", "introduction")
        );
        for kind in [ProcedureKind::Authorization, ProcedureKind::Introduction] {
            assert_eq!(kind.as_str().parse::<ProcedureKind>().unwrap(), kind);
        }
        let error = "Introduction".parse::<ProcedureKind>().unwrap_err();
        assert!(error.to_string().contains("« Introduction »"), "{error}");
    }
}
