//! `docspace-provision sandbox`: run the embedded DocSpace-compatible API until Ctrl-C/SIGTERM.
//!
//! stdout gets two `NAME=value` lines (`DOCSPACE_URL`, `DOCSPACE_API_KEY`) that a shell can
//! source (`set -a; . ./sandbox.env; set +a`); stderr gets a human line. The listen address is
//! loopback only unless `--allow-remote`: the sandbox is an unencrypted test server.

use miette::{IntoDiagnostic, WrapErr, miette};

use crate::cli::SandboxArgs;
use crate::exit::ExitStatus;
use crate::printer::Printer;
use crate::sandbox::{self, SandboxConfig};

pub fn run(args: SandboxArgs, printer: &Printer) -> miette::Result<ExitStatus> {
    if !args.listen.ip().is_loopback() && !args.allow_remote {
        return Err(miette!(
            help = "listen on 127.0.0.1 (or ::1), or pass --allow-remote to expose the sandbox to the network",
            "refusing to listen on {}: the sandbox serves plain HTTP with a test key",
            args.listen
        ));
    }
    let requested = match args.api_key {
        Some(key) if sandbox::is_valid_api_key(&key) => Some(key),
        Some(_) => {
            return Err(miette!(
                help = "omit --api-key to reuse the key stored in the state file (or get a generated one)",
                "--api-key must look like a DocSpace API key: `sk-` followed by 64 lowercase hex characters"
            ));
        }
        None => None,
    };
    // Read (or seed) the state file before binding or printing anything: a bad file must fail
    // here, not after the address and key were handed to a script.
    let opened = sandbox::open_state(&args.state, requested).map_err(|e| {
        miette!(
            help = "fix the file or point --state at another path; a missing file is created with the demo seed",
            "cannot use the sandbox state file: {e}"
        )
    })?;
    let api_key = opened.api_key.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .into_diagnostic()
        .wrap_err("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot listen on {}", args.listen))?;
        // With port 0 the kernel picks one: print the real address.
        let addr = listener.local_addr().into_diagnostic()?;
        let config = SandboxConfig {
            state_path: args.state.clone(),
            faults: sandbox::FaultConfig::from(&args.faults),
        };
        let server = tokio::spawn(sandbox::serve(opened, config, listener, shutdown_signal()));
        printer
            .stdout(&format!(
                "DOCSPACE_URL=http://{addr}\nDOCSPACE_API_KEY={api_key}\n"
            ))
            .into_diagnostic()
            .wrap_err("cannot write to stdout")?;
        printer.status(&format!(
            "sandbox listening on http://{addr} (state: {}); stop with Ctrl-C\n",
            args.state.display()
        ));
        server
            .await
            .into_diagnostic()?
            .into_diagnostic()
            .wrap_err_with(|| format!("sandbox failed (state file {})", args.state.display()))?;
        printer.status("sandbox stopped\n");
        Ok(ExitStatus::Success)
    })
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
