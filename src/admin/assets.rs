//! Placeholder: the DSFR assets, served by the binary (being written).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// `GET /admin/static/{*path}`.
pub async fn asset(axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    let _ = path;
    StatusCode::NOT_FOUND.into_response()
}

/// Whether the DSFR stylesheet is embedded.
pub fn dsfr_available() -> bool {
    false
}
