//! The status of a dossier, in the seed's vocabulary whichever DS API it came from.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Draft,
    Initiated,
    Received,
    Closed,
    Refused,
    WithoutContinuation,
}

impl Status {
    /// Every status, in the order used by the admin and the statistics.
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::Initiated,
        Status::Received,
        Status::Closed,
        Status::Refused,
        Status::WithoutContinuation,
    ];

    /// The value stored in the database (and DS v1's `state`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Initiated => "initiated",
            Status::Received => "received",
            Status::Closed => "closed",
            Status::Refused => "refused",
            Status::WithoutContinuation => "without_continuation",
        }
    }

    /// The French label shown to agents and in `stats.json`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "Brouillon",
            Status::Initiated => "En construction",
            Status::Received => "En instruction",
            Status::Closed => "Accepté",
            Status::Refused => "Refusé",
            Status::WithoutContinuation => "Sans suite",
        }
    }

    /// DS v1 `state` (the same words as the stored vocabulary).
    pub fn from_v1(state: &str) -> Option<Status> {
        state.parse().ok()
    }

    /// DS v2 `state` (GraphQL enum `DossierState`).
    pub fn from_v2(state: &str) -> Option<Status> {
        Some(match state {
            "brouillon" => Status::Draft,
            "en_construction" => Status::Initiated,
            "en_instruction" => Status::Received,
            "accepte" => Status::Closed,
            "refuse" => Status::Refused,
            "sans_suite" => Status::WithoutContinuation,
            _ => return None,
        })
    }

    /// `closed`, `refused` and `without_continuation`: DS will not move the dossier any more.
    pub fn is_completed(self) -> bool {
        matches!(
            self,
            Status::Closed | Status::Refused | Status::WithoutContinuation
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("statut inconnu « {0} »")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// As read from a text column.
impl TryFrom<String> for Status {
    type Error = UnknownStatus;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_vocabularies_map_to_the_same_statuses() {
        let pairs = [
            ("draft", "brouillon"),
            ("initiated", "en_construction"),
            ("received", "en_instruction"),
            ("closed", "accepte"),
            ("refused", "refuse"),
            ("without_continuation", "sans_suite"),
        ];
        for (v1, v2) in pairs {
            let status = Status::from_v1(v1).unwrap();
            assert_eq!(Status::from_v2(v2), Some(status));
            assert_eq!(status.as_str(), v1);
        }
        assert_eq!(Status::from_v1("accepte"), None);
        assert_eq!(Status::from_v2("closed"), None);
    }

    #[test]
    fn displays_and_parses_the_stored_vocabulary() {
        let shown: Vec<_> = Status::ALL.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            shown,
            [
                "draft",
                "initiated",
                "received",
                "closed",
                "refused",
                "without_continuation"
            ]
        );
        for status in Status::ALL {
            assert_eq!(status.to_string().parse::<Status>().unwrap(), status);
        }
        let unknown = "accepte".parse::<Status>().unwrap_err();
        assert_eq!(unknown.to_string(), "statut inconnu « accepte »");
    }

    #[test]
    fn labels_are_the_seeds_french_labels_in_order() {
        let labels: Vec<_> = Status::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(
            labels,
            [
                "Brouillon",
                "En construction",
                "En instruction",
                "Accepté",
                "Refusé",
                "Sans suite"
            ]
        );
    }

    #[test]
    fn only_closed_refused_and_without_continuation_are_completed() {
        let completed: Vec<_> = Status::ALL
            .into_iter()
            .filter(|s| s.is_completed())
            .collect();
        assert_eq!(
            completed,
            [Status::Closed, Status::Refused, Status::WithoutContinuation]
        );
    }
}
