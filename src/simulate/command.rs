//! The command-line ends of `orderdeck simulate` and `orderdeck broker
//! declare`: options in, progress on stderr, the report on stdout.

use super::{SimError, SimulateSpec};
use crate::cli::SimulateArgs;
use crate::config::mask_secrets;
use crate::topology::{self, Topology};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often `simulate` prints its progress line.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// `orderdeck simulate`: runs until the duration is up or Ctrl-C.
pub async fn simulate(args: &SimulateArgs) -> Result<(), SimError> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(42, |d| d.as_secs())
    });
    let spec = SimulateSpec {
        database_url: args.database_url.clone(),
        amqp_url: args.amqp_url.clone(),
        rate: args.rate,
        duration: args.duration,
        chaos: super::ChaosSet::from_list(&args.chaos),
        seed,
        backdate_share: args.backdate,
        topology: Topology::reference(),
        progress_every: PROGRESS_EVERY,
    };
    let cancel = CancellationToken::new();
    let signals = tokio::spawn(stop_on_signal(cancel.clone()));
    let result = super::run(spec, cancel, &mut |line: &str| eprintln!("{line}")).await;
    signals.abort();
    let summary = result?;
    crate::outln!("{summary}");
    Ok(())
}

/// Ctrl-C (and SIGTERM, e.g. from a CI runner) end the run cleanly.
async fn stop_on_signal(cancel: CancellationToken) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            cancel.cancel();
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_ok() {
        cancel.cancel();
    }
}

/// `orderdeck broker declare`: declares the reference topology and prints it.
pub async fn broker_declare(amqp_url: &str) -> Result<(), SimError> {
    let conn = topology::connect(amqp_url, "orderdeck broker declare").await?;
    let masked = mask_secrets(amqp_url);
    let declared = match conn.create_channel().await {
        Ok(channel) => topology::declare_reference_topology(&channel)
            .await
            .map_err(SimError::from),
        Err(e) => Err(SimError::Unreachable(format!(
            "RabbitMQ at {masked}: opening a channel: {}",
            super::error::one_line(&e.to_string())
        ))),
    };
    let _ = conn.close(200, "declared".into()).await;
    let declared = declared?;
    crate::outln!("declared the reference topology on {masked}:");
    print!("{declared}");
    Ok(())
}
