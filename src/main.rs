use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = wif::cli::Cli::parse();
    if let Err(error) = wif::config::load_dotenv() {
        eprintln!("erreur : {error}");
        return ExitCode::FAILURE;
    }
    wif::telemetry::init();
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .collect();
    for name in wif::config::unknown_variables(names.iter().map(String::as_str)) {
        tracing::warn!(
            variable = name,
            "variable inconnue, ignorée : vérifiez son orthographe (voir .env.example)"
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("erreur : démarrage impossible ({error})");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(wif::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("erreur : {error:#}");
            ExitCode::FAILURE
        }
    }
}
