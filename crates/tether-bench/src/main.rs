//! `tether-bench`: load scenarios against a Socket.IO server on 127.0.0.1 (see the library
//! docs). Prints progress to stderr and one JSON line of results to stdout; exits 1 when the
//! scenario's check fails (soak) or nothing went through, 2 on a usage or setup error.
//!
//! ```text
//! cargo run --release -p tether-bench -- echo --url http://127.0.0.1:3000 --clients 50
//! ```

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tether_bench::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = cli.scenario.common().threads.clamp(1, 64);
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tether-bench: no runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(tether_bench::run(&cli.scenario)) {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", outcome.json);
            let _ = out.flush();
            if outcome.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tether-bench: {e}");
            ExitCode::from(2)
        }
    }
}
