use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = wif::cli::Cli::parse();
    if let Err(error) = wif::config::load_dotenv() {
        eprintln!("erreur : {error}");
        return ExitCode::FAILURE;
    }
    wif::telemetry::init();
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
