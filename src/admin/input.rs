//! User input no page accepts: control characters (a NUL byte, which PostgreSQL refuses in text)
//! in the query string or in a form, answered with a 400 before any handler reads them; and a
//! form whose body does not arrive within the header timeout.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::layout::{alert, page};

/// Forms of the admin are small; beyond this a request is refused.
pub const FORM_LIMIT: usize = 1 << 20;

pub async fn reject_control_characters(
    State(patience): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    if request
        .uri()
        .query()
        .is_some_and(|q| has_control(q.as_bytes()))
    {
        return bad_request();
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if request.method() != Method::POST || !is_form {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // A body sent a byte at a time must not hold the connection longer than its headers could.
    let read = tokio::time::timeout(patience, to_bytes(body, FORM_LIMIT));
    let bytes = match read.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return (StatusCode::PAYLOAD_TOO_LARGE, "Formulaire trop long.").into_response();
        }
        Err(_) => return (StatusCode::REQUEST_TIMEOUT, "Formulaire trop lent.").into_response(),
    };
    if has_control(&bytes) {
        return bad_request();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Whether a decoded name or value of `urlencoded` holds a control character.
fn has_control(urlencoded: &[u8]) -> bool {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(urlencoded).unwrap_or_default();
    pairs
        .iter()
        .any(|(k, v)| k.chars().chain(v.chars()).any(char::is_control))
}

fn bad_request() -> Response {
    let message =
        "Requête invalide : elle contient un caractère de contrôle. Vérifiez le texte saisi.";
    (
        StatusCode::BAD_REQUEST,
        page("Requête invalide", None, "", alert("error", message)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::has_control;

    #[test]
    fn control_characters_are_found_once_decoded() {
        assert!(has_control(b"username=ad%00min&password=x"));
        assert!(has_control(b"q=%0A"));
        assert!(has_control(b"departement=75%1B"));
        assert!(!has_control(b"q=Ren%C3%A9e+L%27Hermite&p=2"));
        assert!(!has_control(b""));
    }
}
