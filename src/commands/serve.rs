//! `wif serve`: the admin web app, and the scheduled jobs unless `--no-scheduler`.

use super::open_database;
use crate::cli::ServeArgs;
use crate::scheduler;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let (settings, db) = open_database().await?;
    let jobs = match args.no_scheduler {
        true => Vec::new(),
        false => scheduler::jobs(&settings),
    };
    if !jobs.is_empty() {
        let (db, settings, jobs) = (db.clone(), settings.clone(), jobs.clone());
        // A thread of its own: the sync's future cannot be proven `Send` for `tokio::spawn`
        // (rust-lang/rust#102211); `block_on` needs no `Send`. It ends with the process.
        let runtime = tokio::runtime::Handle::current();
        std::thread::spawn(move || runtime.block_on(scheduler::run(db, settings, jobs)));
    }
    let result = crate::admin::serve(&settings, db.clone(), jobs).await;
    db.close().await;
    result
}
