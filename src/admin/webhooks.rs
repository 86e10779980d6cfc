//! `POST /webhooks/ds` (SPEC 12): DS's signed deliveries, without a session. The answer comes
//! as soon as the events are recorded; the sync they lead to runs afterwards.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::domain::webhook::SIGNATURE_HEADER;
use crate::webhooks::{MAX_BODY, Outcome, Rejection};

pub async fn receive(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(receiver) = &state.webhooks else {
        return (StatusCode::NOT_FOUND, "Adresse inconnue.").into_response();
    };
    // A body sent slowly must not hold the connection longer than its headers could.
    let read = tokio::time::timeout(state.limits.header_read_timeout, to_bytes(body, MAX_BODY));
    let (bytes, too_large) = match read.await {
        Ok(Ok(bytes)) => (bytes, false),
        Ok(Err(_)) => (Default::default(), true),
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "Corps trop lent.").into_response(),
    };
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    match receiver
        .receive(&state.db, &bytes, too_large, signature)
        .await
    {
        Outcome::Accepted { .. } => (StatusCode::OK, "ok").into_response(),
        Outcome::Ignored { .. } => {
            (StatusCode::ACCEPTED, "démarche non synchronisée").into_response()
        }
        Outcome::Refused(rejection) => {
            let status = match rejection {
                Rejection::MissingSignature | Rejection::WrongSignature => StatusCode::UNAUTHORIZED,
                Rejection::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                Rejection::Malformed => StatusCode::BAD_REQUEST,
                Rejection::DatabaseDown => StatusCode::SERVICE_UNAVAILABLE,
            };
            status.into_response()
        }
    }
}
