//! The alert rules of SPEC 9.1: pure functions of what is stored of a dossier and of "now".

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use super::status::Status;

/// A rule, by the code stored in the `alerts` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertCode {
    AptDatesMissing,
    AptDatesInverted,
    AptTooLong,
    MessageAfterDecision,
    ConstructionTooLong,
    InstructionTooLong,
}

impl AlertCode {
    pub const ALL: [AlertCode; 6] = [
        AlertCode::AptDatesMissing,
        AlertCode::AptDatesInverted,
        AlertCode::AptTooLong,
        AlertCode::MessageAfterDecision,
        AlertCode::ConstructionTooLong,
        AlertCode::InstructionTooLong,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertCode::AptDatesMissing => "apt_dates_missing",
            AlertCode::AptDatesInverted => "apt_dates_inverted",
            AlertCode::AptTooLong => "apt_too_long",
            AlertCode::MessageAfterDecision => "message_after_decision",
            AlertCode::ConstructionTooLong => "construction_too_long",
            AlertCode::InstructionTooLong => "instruction_too_long",
        }
    }
}

impl fmt::Display for AlertCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertCode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or(())
    }
}

/// The rule of a stored alert: one of this version's, or the code of a rule an earlier version
/// had. Nothing holds the open alerts of a retired rule open: the next evaluation resolves them;
/// the resolved ones stay listed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StoredRule {
    Current(AlertCode),
    Retired(String),
}

impl StoredRule {
    /// The code as stored.
    pub fn as_str(&self) -> &str {
        match self {
            StoredRule::Current(code) => code.as_str(),
            StoredRule::Retired(code) => code,
        }
    }

    pub fn current(&self) -> Option<AlertCode> {
        match self {
            StoredRule::Current(code) => Some(*code),
            StoredRule::Retired(_) => None,
        }
    }
}

/// As read from the `code` column.
impl From<String> for StoredRule {
    fn from(code: String) -> StoredRule {
        code.parse()
            .map_or(StoredRule::Retired(code), StoredRule::Current)
    }
}

impl fmt::Display for StoredRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The delays of the time-based rules (`WIF_ALERT_CONSTRUCTION_DAYS`,
/// `WIF_ALERT_INSTRUCTION_DAYS`) and the time zone their days are counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertRules {
    pub construction_days: u32,
    pub instruction_days: u32,
    pub time_zone: Tz,
}

/// What the rules read of a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertFacts {
    pub status: Status,
    pub initiated_at: Option<DateTime<Utc>>,
    pub received_at: Option<DateTime<Utc>>,
    pub processed_at: Option<DateTime<Utc>>,
    /// Missing or unreadable on DS: `None`.
    pub date_de_debut_apt: Option<NaiveDate>,
    pub date_de_fin_apt: Option<NaiveDate>,
    /// The latest message sent by the applicant (see `applicant_message_at`).
    pub applicant_message_at: Option<DateTime<Utc>>,
}

impl AlertRules {
    /// The rules that hold for a dossier not deleted on DS, in the order of `AlertCode::ALL`.
    pub fn holding(&self, facts: &AlertFacts, now: DateTime<Utc>) -> Vec<AlertCode> {
        AlertCode::ALL
            .into_iter()
            .filter(|code| self.holds(*code, facts, now))
            .collect()
    }

    pub fn holds(&self, code: AlertCode, facts: &AlertFacts, now: DateTime<Utc>) -> bool {
        let accepted = facts.status == Status::Closed;
        let apt = facts.date_de_debut_apt.zip(facts.date_de_fin_apt);
        match code {
            AlertCode::AptDatesMissing => accepted && apt.is_none(),
            AlertCode::AptDatesInverted => accepted && apt.is_some_and(|(debut, fin)| fin < debut),
            AlertCode::AptTooLong => {
                accepted && apt.is_some_and(|(debut, fin)| over_a_year(debut, fin))
            }
            AlertCode::MessageAfterDecision => {
                facts.status.is_completed()
                    && facts
                        .processed_at
                        .zip(facts.applicant_message_at)
                        .is_some_and(|(decided, message)| message > decided)
            }
            AlertCode::ConstructionTooLong => {
                facts.status == Status::Initiated
                    && self.days_since(facts.initiated_at, now) > i64::from(self.construction_days)
            }
            AlertCode::InstructionTooLong => {
                facts.status == Status::Received
                    && self.days_since(facts.received_at, now) > i64::from(self.instruction_days)
            }
        }
    }

    /// The French message of a rule, with this configuration's delays.
    pub fn message(&self, code: AlertCode) -> String {
        match code {
            AlertCode::AptDatesMissing => {
                "Dossier accepté : date de début ou de fin d'APT manquante ou illisible".to_owned()
            }
            AlertCode::AptDatesInverted => {
                "Dossier accepté : la fin de l'APT précède son début".to_owned()
            }
            AlertCode::AptTooLong => "Dossier accepté : APT de plus de 12 mois".to_owned(),
            AlertCode::MessageAfterDecision => "Message de l'usager après la décision".to_owned(),
            AlertCode::ConstructionTooLong => {
                format!(
                    "En construction depuis plus de {} jours",
                    self.construction_days
                )
            }
            AlertCode::InstructionTooLong => {
                format!(
                    "En instruction depuis plus de {} jours",
                    self.instruction_days
                )
            }
        }
    }

    /// The French message of a stored alert's rule; a retired rule is named by its code.
    pub fn describe(&self, rule: &StoredRule) -> String {
        match rule {
            StoredRule::Current(code) => self.message(*code),
            StoredRule::Retired(code) => format!("Règle retirée de cette version ({code})"),
        }
    }

    /// Whole days from `since` to `now`, both taken as dates in the time zone: a dossier
    /// deposited yesterday at 23:59 is one day old at 00:01. Unknown: never too old.
    fn days_since(&self, since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
        let local = |t: DateTime<Utc>| t.with_timezone(&self.time_zone).date_naive();
        since.map_or(0, |since| (local(now) - local(since)).num_days())
    }
}

/// The end is later than the start plus twelve calendar months (a start on 29 February ends at
/// the latest on 28 February of the next year).
fn over_a_year(debut: NaiveDate, fin: NaiveDate) -> bool {
    debut
        .checked_add_months(Months::new(12))
        .is_none_or(|limit| fin > limit)
}

/// The latest of `messages` (sender e-mail, sent at) sent by the applicant, whose account
/// e-mail is `applicant`: compared without case or surrounding space. Messages by anyone else
/// (instructors, DS's automatic ones) do not count.
pub fn applicant_message_at<'a>(
    applicant: Option<&str>,
    messages: impl IntoIterator<Item = (&'a str, DateTime<Utc>)>,
) -> Option<DateTime<Utc>> {
    let applicant = applicant.map(str::trim).filter(|e| !e.is_empty())?;
    messages
        .into_iter()
        .filter(|(sender, _)| sender.trim().eq_ignore_ascii_case(applicant))
        .map(|(_, at)| at)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> AlertRules {
        AlertRules {
            construction_days: 7,
            instruction_days: 10,
            time_zone: chrono_tz::Europe::Paris,
        }
    }

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    fn facts(status: Status) -> AlertFacts {
        AlertFacts {
            status,
            initiated_at: None,
            received_at: None,
            processed_at: None,
            date_de_debut_apt: None,
            date_de_fin_apt: None,
            applicant_message_at: None,
        }
    }

    fn accepted(debut: &str, fin: &str) -> AlertFacts {
        AlertFacts {
            date_de_debut_apt: date(debut),
            date_de_fin_apt: date(fin),
            processed_at: Some(at("2026-01-10T10:00:00Z")),
            ..facts(Status::Closed)
        }
    }

    const NOW: &str = "2026-06-01T12:00:00Z";

    fn holding(f: &AlertFacts) -> Vec<AlertCode> {
        rules().holding(f, at(NOW))
    }

    #[test]
    fn codes_read_back_from_their_text() {
        for code in AlertCode::ALL {
            assert_eq!(code.as_str().parse::<AlertCode>(), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
        }
        assert_eq!("apt_too_short".parse::<AlertCode>(), Err(()));
    }

    #[test]
    fn a_stored_code_is_a_current_rule_or_a_retired_one() {
        for code in AlertCode::ALL {
            let stored = StoredRule::from(code.as_str().to_owned());
            assert_eq!(stored, StoredRule::Current(code));
            assert_eq!(stored.as_str(), code.as_str());
            assert_eq!(stored.current(), Some(code));
            assert_eq!(rules().describe(&stored), rules().message(code));
        }
        let retired = StoredRule::from("apt_too_short".to_owned());
        assert_eq!(retired, StoredRule::Retired("apt_too_short".into()));
        assert_eq!(retired.current(), None);
        assert_eq!(retired.to_string(), "apt_too_short");
        assert_eq!(
            rules().describe(&retired),
            "Règle retirée de cette version (apt_too_short)"
        );
    }

    #[test]
    fn an_accepted_dossier_with_good_dates_has_no_alert() {
        assert_eq!(holding(&accepted("2026-01-15", "2026-07-14")), []);
    }

    #[test]
    fn missing_or_unreadable_apt_dates_alert_only_when_accepted() {
        assert_eq!(
            holding(&accepted("2026-01-15", "pas une date")),
            [AlertCode::AptDatesMissing]
        );
        assert_eq!(
            holding(&accepted("", "2026-07-14")),
            [AlertCode::AptDatesMissing]
        );
        for status in [Status::Refused, Status::WithoutContinuation, Status::Draft] {
            assert_eq!(holding(&facts(status)), [], "{status:?}");
        }
    }

    #[test]
    fn an_end_before_the_start_is_inverted_the_same_day_is_not() {
        assert_eq!(
            holding(&accepted("2026-03-10", "2026-03-09")),
            [AlertCode::AptDatesInverted]
        );
        assert_eq!(holding(&accepted("2026-03-10", "2026-03-10")), []);
    }

    #[test]
    fn exactly_twelve_months_is_allowed_one_day_more_is_too_long() {
        assert_eq!(holding(&accepted("2026-01-15", "2027-01-15")), []);
        assert_eq!(
            holding(&accepted("2026-01-15", "2027-01-16")),
            [AlertCode::AptTooLong]
        );
        // Calendar months: from 31 August, twelve months end on 31 August.
        assert_eq!(holding(&accepted("2025-08-31", "2026-08-31")), []);
        // From 29 February, twelve months end on 28 February.
        assert_eq!(holding(&accepted("2028-02-29", "2029-02-28")), []);
        assert_eq!(
            holding(&accepted("2028-02-29", "2029-03-01")),
            [AlertCode::AptTooLong]
        );
    }

    #[test]
    fn apt_dates_are_checked_only_on_accepted_dossiers() {
        for status in [
            Status::Refused,
            Status::WithoutContinuation,
            Status::Received,
        ] {
            for (debut, fin) in [("2026-03-10", "2026-03-09"), ("2026-01-15", "2027-06-01")] {
                let f = AlertFacts {
                    status,
                    received_at: Some(at("2026-05-30T09:00:00Z")),
                    ..accepted(debut, fin)
                };
                assert_eq!(holding(&f), [], "{status:?} {debut} {fin}");
            }
        }
    }

    #[test]
    fn a_message_from_the_applicant_after_the_decision_alerts() {
        let decided = at("2026-05-01T09:00:00Z");
        for status in [Status::Closed, Status::Refused, Status::WithoutContinuation] {
            let mut f = AlertFacts {
                processed_at: Some(decided),
                applicant_message_at: Some(at("2026-05-01T09:00:01Z")),
                date_de_debut_apt: date("2026-05-02"),
                date_de_fin_apt: date("2026-06-02"),
                ..facts(status)
            };
            assert_eq!(holding(&f), [AlertCode::MessageAfterDecision], "{status:?}");
            // Sent at the very time of the decision: before it, as far as anyone can tell.
            f.applicant_message_at = Some(decided);
            assert_eq!(holding(&f), [], "{status:?}");
        }
        // Not decided: no decision to come after.
        let waiting = AlertFacts {
            applicant_message_at: Some(at("2026-05-01T09:00:01Z")),
            received_at: Some(at("2026-05-30T09:00:00Z")),
            ..facts(Status::Received)
        };
        assert_eq!(holding(&waiting), []);
        // Sent back to instruction after a decision: no decision stands any more.
        let reopened = AlertFacts {
            processed_at: Some(decided),
            ..waiting
        };
        assert_eq!(holding(&reopened), []);
    }

    #[test]
    fn only_the_applicants_messages_count() {
        let applicant = Some("Etudiant@Example.org");
        let mine = at("2026-05-02T10:00:00Z");
        let messages = [
            ("agent@dreets.gouv.fr", at("2026-05-03T10:00:00Z")),
            (" etudiant@example.ORG ", mine),
            ("etudiant@example.org", at("2026-04-01T10:00:00Z")),
            (
                "contact@demarches-simplifiees.fr",
                at("2026-05-04T10:00:00Z"),
            ),
        ];
        assert_eq!(applicant_message_at(applicant, messages), Some(mine));
        assert_eq!(applicant_message_at(None, messages), None);
        assert_eq!(applicant_message_at(Some("  "), messages), None);
        assert_eq!(
            applicant_message_at(applicant, [("agent@dreets.gouv.fr", mine)]),
            None
        );
    }

    #[test]
    fn construction_is_too_long_after_the_delay_in_local_days() {
        let in_construction = |deposited: &str| AlertFacts {
            initiated_at: Some(at(deposited)),
            ..facts(Status::Initiated)
        };
        // Deposited on 25 May, Paris time: 7 days on 1 June, not more than 7.
        assert_eq!(holding(&in_construction("2026-05-25T08:00:00Z")), []);
        assert_eq!(
            holding(&in_construction("2026-05-24T21:59:59Z")),
            [AlertCode::ConstructionTooLong]
        );
        // 24 May at 22:00 UTC is 25 May at midnight in Paris (summer time): 7 days only.
        assert_eq!(holding(&in_construction("2026-05-24T22:00:00Z")), []);
        // Unknown deposit date: never too old.
        assert_eq!(holding(&facts(Status::Initiated)), []);
    }

    #[test]
    fn instruction_is_too_long_after_its_own_delay() {
        let in_instruction = |received: &str| AlertFacts {
            received_at: Some(at(received)),
            initiated_at: Some(at("2020-01-01T00:00:00Z")),
            ..facts(Status::Received)
        };
        assert_eq!(holding(&in_instruction("2026-05-22T10:00:00Z")), []);
        assert_eq!(
            holding(&in_instruction("2026-05-21T10:00:00Z")),
            [AlertCode::InstructionTooLong]
        );
        // "Now" late in the evening of 1 June UTC is already 2 June in Paris.
        let late = at("2026-06-01T22:30:00Z");
        assert_eq!(
            rules().holding(&in_instruction("2026-05-22T10:00:00Z"), late),
            [AlertCode::InstructionTooLong]
        );
    }

    #[test]
    fn the_delays_apply_only_while_in_their_status() {
        let long_ago = Some(at("2020-01-01T00:00:00Z"));
        let old = |status| AlertFacts {
            initiated_at: long_ago,
            received_at: long_ago,
            ..facts(status)
        };
        assert_eq!(
            holding(&old(Status::Initiated)),
            [AlertCode::ConstructionTooLong]
        );
        assert_eq!(
            holding(&old(Status::Received)),
            [AlertCode::InstructionTooLong]
        );
        for status in [Status::Draft, Status::Refused, Status::WithoutContinuation] {
            assert_eq!(holding(&old(status)), [], "{status:?}");
        }
        let decided = AlertFacts {
            processed_at: long_ago,
            ..accepted("2026-01-15", "2026-07-14")
        };
        assert_eq!(holding(&old(Status::Closed)), [AlertCode::AptDatesMissing]);
        assert_eq!(
            holding(&AlertFacts {
                initiated_at: long_ago,
                received_at: long_ago,
                ..decided
            }),
            []
        );
    }

    #[test]
    fn messages_carry_the_configured_delays() {
        assert_eq!(
            rules().message(AlertCode::ConstructionTooLong),
            "En construction depuis plus de 7 jours"
        );
        assert_eq!(
            rules().message(AlertCode::InstructionTooLong),
            "En instruction depuis plus de 10 jours"
        );
        assert_eq!(
            rules().message(AlertCode::AptTooLong),
            "Dossier accepté : APT de plus de 12 mois"
        );
    }
}
