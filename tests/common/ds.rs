//! The DS simulator of the tests and benchmarks, served over HTTP, and the settings to reach it.

use wif::config::{DsSettings, Secret};
use wif::domain::ApiVersion;
use wif::fake_ds::FakeDs;

/// Serves `ds` on a port of 127.0.0.1 chosen by the system, for the rest of the test; returns
/// its base URL.
pub async fn start_simulator(ds: &FakeDs) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(ds.clone().serve(listener));
    url
}

/// The settings of a client of the simulator at `url`, for démarche `procedure` and `token`,
/// with no rate limit to speak of.
pub fn simulator_settings(url: &str, procedure: i64, token: &str, api: ApiVersion) -> DsSettings {
    DsSettings {
        token: Some(Secret::new(token.into())),
        procedure_ids: vec![procedure],
        api_url: url.to_owned(),
        api_version: api,
        rate_limit_per_minute: u32::MAX,
    }
}
