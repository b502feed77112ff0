//! All four databases of a system at once, on one task (no spawning: works the same in WebAssembly).

use futures::future::join_all;
use mesbackup_core::mes::{JobEvent, JobSpec, Mode, Outcome};
use mesbackup_core::naming::system_databases;
use mesbackup_core::Error;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::driver::MesClient;
use crate::sink::SinkFactory;

/// Backs up `<system>`, `<system>CDM`, `<system>ODS`, `<system>DWH` concurrently.
/// `customise(database, spec)` adjusts each database's job before it starts (its installer file
/// name, overwrite, the SQL Server backup time...); events are tagged with the database they belong
/// to. Returns one outcome per database, in the order above.
pub async fn backup_system<F, C, E, N>(
    client: &MesClient,
    system: &str,
    sinks: &F,
    clock: &C,
    cancel: &CancellationToken,
    customise: N,
    on_event: &E,
) -> Result<Vec<(String, Outcome)>, Error>
where
    F: SinkFactory + ?Sized,
    C: Clock + ?Sized,
    E: Fn(&str, &JobEvent) + ?Sized,
    N: Fn(&str, &mut JobSpec),
{
    let databases = system_databases(system)?;
    let jobs = databases.iter().map(|(_, database)| {
        let mut spec = client.spec(Mode::Backup, Some(database), None);
        customise(database, &mut spec);
        let db = database.clone();
        async move {
            let forward = |e: &JobEvent| on_event(&db, e);
            let outcome = client.run(spec, sinks, clock, cancel, &forward).await;
            (db, outcome)
        }
    });
    Ok(join_all(jobs).await)
}
