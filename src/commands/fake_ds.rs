//! `wif fake-ds`: a simulated DS on 127.0.0.1, for trying the sync without a real token.

use crate::cli::FakeDsArgs;
use crate::fake_ds::{FakeDs, WebhookTarget};

pub async fn run(args: FakeDsArgs) -> anyhow::Result<()> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| anyhow::anyhow!("--port : impossible d'écouter sur {address} ({e})"))?;
    let ds = FakeDs::new(args.dossiers, args.seed, args.procedure, &args.token);
    println!(
        "DS simulé sur http://{address} : démarche {}, {} dossiers. Pour s'y synchroniser :",
        args.procedure, args.dossiers
    );
    println!("  DEMARCHES_SIMPLIFIEES_API_URL=http://{address}");
    println!("  DEMARCHES_SIMPLIFIEES_API_TOKEN={}", args.token);
    println!(
        "  DEMARCHES_SIMPLIFIEES_PROCEDURE_ID_APT={}",
        args.procedure
    );
    println!("  DEMARCHES_SIMPLIFIEES_API_VERSION=v2   (ou v1 pour l'API REST historique)");
    if let (Some(url), Some(secret)) = (args.webhook_url, args.webhook_secret) {
        println!(
            "Webhooks envoyés à {url} à chaque changement (signés ; WIF_DS_WEBHOOK_SECRETS=<le secret>)."
        );
        println!(
            "Changer un dossier : curl -X POST http://{address}/control/dossiers/<numéro>/accepter (ou refuser, modifier)"
        );
        ds.set_webhook(Some(WebhookTarget {
            url,
            secret,
            retry_delays: WebhookTarget::ds_schedule(),
        }));
    }
    tokio::select! {
        result = ds.serve(listener) => result?,
        () = crate::shutdown_signal() => {}
    }
    Ok(())
}
