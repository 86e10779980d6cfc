//! DS webhooks (SPEC 12, DS_API.md « Webhooks »): the signature of a delivery and its events.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::dates::parse_timestamp;
use crate::crypto::{from_hex, hex};

/// The header that carries `sha256=<hex HMAC-SHA256 of the raw body>`.
pub const SIGNATURE_HEADER: &str = "X-Webhook-Signature-256";

/// One event of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// Increasing per démarche: a repeated delivery repeats its sequences.
    pub sequence: i64,
    pub event_type: String,
    pub dossier_number: Option<i64>,
    pub at: Option<DateTime<Utc>>,
}

/// A delivery: up to 100 events of one démarche.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub procedure_id: i64,
    pub events: Vec<WebhookEvent>,
}

/// The most events DS sends in one delivery (DS_API.md « Webhooks »).
pub const MAX_EVENTS: usize = 100;

#[derive(Deserialize)]
struct RawDelivery {
    demarche_number: i64,
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    sequence: i64,
    #[serde(rename = "type")]
    event_type: String,
    dossier_number: Option<i64>,
    timestamp: Option<String>,
}

impl Delivery {
    /// Reads DS's body; the error says, in French, what is not of DS's shape.
    pub fn parse(body: &[u8]) -> Result<Delivery, String> {
        let raw: RawDelivery =
            serde_json::from_slice(body).map_err(|e| format!("corps illisible : {e}"))?;
        if raw.demarche_number <= 0 {
            return Err("« demarche_number » invalide".into());
        }
        if raw.events.len() > MAX_EVENTS {
            return Err(format!(
                "{} événements, DS en envoie au plus {MAX_EVENTS}",
                raw.events.len()
            ));
        }
        if let Some(e) = raw.events.iter().find(|e| !is_event_type(&e.event_type)) {
            return Err(format!(
                "type d'événement « {} » invalide",
                e.event_type.escape_debug()
            ));
        }
        let events = raw
            .events
            .into_iter()
            .map(|e| WebhookEvent {
                sequence: e.sequence,
                event_type: e.event_type,
                dossier_number: e.dossier_number,
                at: e.timestamp.as_deref().and_then(parse_timestamp),
            })
            .collect();
        Ok(Delivery {
            procedure_id: raw.demarche_number,
            events,
        })
    }
}

/// DS's event types are short snake_case names (`dossier_accepte`): anything else (a NUL, a
/// control character, a page of text) is not DS's.
fn is_event_type(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// What the signature header says of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    Missing,
    Wrong,
    /// Made with the secret of this index in the configured list.
    Valid(usize),
}

/// Checks `header` against every secret, in constant time for each.
pub fn check_signature(body: &[u8], header: Option<&str>, secrets: &[&str]) -> Signature {
    let Some(header) = header.map(str::trim).filter(|h| !h.is_empty()) else {
        return Signature::Missing;
    };
    let Some(expected) = header.strip_prefix("sha256=").and_then(from_hex) else {
        return Signature::Wrong;
    };
    secrets
        .iter()
        .position(|secret| mac(secret, body).verify_slice(&expected).is_ok())
        .map_or(Signature::Wrong, Signature::Valid)
}

/// The header value DS sends for `body` signed with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let digest = mac(secret, body).finalize().into_bytes();
    format!("sha256={}", hex(&digest))
}

fn mac(secret: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"webhook_id":"w1","demarche_number":12345,"events":[{"sequence":981,"type":"dossier_accepte","dossier_number":424242,"timestamp":"2026-03-05T14:12:31+01:00"}]}"#;

    fn delivery_of(events: usize, event_type: &str) -> Vec<u8> {
        let events: Vec<_> = (0..events)
            .map(|i| serde_json::json!({"sequence": i, "type": event_type, "dossier_number": 1}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"demarche_number": 1, "events": events})).unwrap()
    }

    #[test]
    fn more_events_than_ds_sends_are_refused() {
        assert_eq!(
            Delivery::parse(&delivery_of(MAX_EVENTS, "dossier_accepte"))
                .unwrap()
                .events
                .len(),
            MAX_EVENTS
        );
        let err = Delivery::parse(&delivery_of(MAX_EVENTS + 1, "dossier_accepte")).unwrap_err();
        assert!(err.contains("au plus 100"), "{err}");
    }

    #[test]
    fn an_event_type_that_is_not_ds_s_is_refused() {
        for bad in [
            "dossier\u{0}accepte",
            "",
            "dossier\naccepte",
            "Dossier",
            &"x".repeat(65),
        ] {
            let err = Delivery::parse(&delivery_of(1, bad)).unwrap_err();
            assert!(err.contains("type d'événement"), "{bad:?}: {err}");
            assert!(!err.contains('\0') && !err.contains('\n'), "{err}");
        }
        assert!(Delivery::parse(&delivery_of(1, "dossier_en_construction2")).is_ok());
    }

    #[test]
    fn a_signature_made_with_either_secret_is_valid() {
        let secrets = ["whsec_nouveau", "whsec_ancien"];
        assert_eq!(
            check_signature(BODY, Some(&sign("whsec_nouveau", BODY)), &secrets),
            Signature::Valid(0)
        );
        assert_eq!(
            check_signature(BODY, Some(&sign("whsec_ancien", BODY)), &secrets),
            Signature::Valid(1)
        );
        assert_eq!(
            check_signature(BODY, Some(&sign("whsec_autre", BODY)), &secrets),
            Signature::Wrong
        );
    }

    #[test]
    fn a_missing_malformed_or_altered_signature_is_refused() {
        let secrets = ["whsec_nouveau"];
        let good = sign("whsec_nouveau", BODY);
        assert_eq!(check_signature(BODY, None, &secrets), Signature::Missing);
        assert_eq!(
            check_signature(BODY, Some("  "), &secrets),
            Signature::Missing
        );
        assert_eq!(
            check_signature(BODY, Some(&good[7..]), &secrets),
            Signature::Wrong
        );
        assert_eq!(
            check_signature(BODY, Some("sha256=zz"), &secrets),
            Signature::Wrong
        );
        assert_eq!(
            check_signature(
                BODY,
                Some(&good.to_uppercase().replace("SHA256", "sha256")),
                &secrets
            ),
            Signature::Valid(0)
        );
        // The same bytes written with a sign: Rust's integer parsing would read `+f` as `0f`.
        let pair = (7..good.len())
            .step_by(2)
            .find(|i| good[*i..].starts_with('0'))
            .expect("a byte below 16");
        let signed = format!("{}+{}", &good[..pair], &good[pair + 1..]);
        assert_eq!(
            check_signature(BODY, Some(&signed), &secrets),
            Signature::Wrong
        );
        let mut altered = BODY.to_vec();
        altered[30] ^= 1;
        assert_eq!(
            check_signature(&altered, Some(&good), &secrets),
            Signature::Wrong
        );
        assert_eq!(check_signature(BODY, Some(&good), &[]), Signature::Wrong);
    }

    #[test]
    fn reads_ds_deliveries_and_refuses_other_shapes() {
        let delivery = Delivery::parse(BODY).unwrap();
        assert_eq!(delivery.procedure_id, 12345);
        assert_eq!(
            delivery.events,
            [WebhookEvent {
                sequence: 981,
                event_type: "dossier_accepte".into(),
                dossier_number: Some(424242),
                at: parse_timestamp("2026-03-05T13:12:31Z"),
            }]
        );
        for bad in [
            &b"pas du json"[..],
            b"{}",
            br#"{"demarche_number":1}"#,
            br#"{"demarche_number":"x","events":[]}"#,
            br#"{"demarche_number":0,"events":[]}"#,
        ] {
            assert!(
                Delivery::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // An event type we do not know is read like any other; the receiver ignores it.
        let unknown = br#"{"demarche_number":7,"events":[{"sequence":1,"type":"dossier_envole"}]}"#;
        assert_eq!(
            Delivery::parse(unknown).unwrap().events[0].event_type,
            "dossier_envole"
        );
    }
}
