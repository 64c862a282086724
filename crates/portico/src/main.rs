//! `portico`: an AWS-compatible API Gateway and Lambda in one binary.
//!
//! This crate is composition only: it parses the command line, opens the store, builds the
//! services, wires them to each other through `portico-core`'s traits, serves the one listener
//! and shuts everything down cleanly.

mod cli;
mod server;
mod telemetry;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => {
            let _log = telemetry::init(&args.log_level)?;
            let workers = args.worker_threads();
            // Which CPUs the workers take while busy, leaving the others to function runtimes.
            let placement = match args.cpu_placement {
                cli::CpuPlacementMode::Adaptive => portico_sandbox::CpuPlacement::reserve(workers),
                cli::CpuPlacementMode::Shared => None,
            };
            // One worker: a current-thread scheduler, which skips the multi-thread one's
            // work-stealing bookkeeping and cross-thread wake-ups (docs/performance.md).
            let runtime = if workers == 1 {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
            } else {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()?
            };
            runtime.block_on(server::serve(args, placement))
        }
    }
}
