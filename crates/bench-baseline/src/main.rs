//! `portico-bench-baseline [ADDR]`: serve the seed answer on ADDR (default `127.0.0.1:8099`).

use std::net::SocketAddr;
use std::process::ExitCode;

const USAGE: &str = "usage: portico-bench-baseline [ADDR]   (default 127.0.0.1:8099)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr_text = args.next().unwrap_or_else(|| "127.0.0.1:8099".to_owned());
    if addr_text == "-h" || addr_text == "--help" || args.next().is_some() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let addr: SocketAddr = match addr_text.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("invalid address {addr_text:?}: {err}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the tokio runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        portico_bench_baseline::serve(listener).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("portico-bench-baseline on {addr}: {err}");
            ExitCode::FAILURE
        }
    }
}
