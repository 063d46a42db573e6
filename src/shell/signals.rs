//! The signals a long command stops on: SIGINT (Ctrl-C) and SIGTERM (what GitLab and most CI
//! runners send on cancel), handled alike, for `apply` and `doctor --scratch`.

use miette::IntoDiagnostic;

/// SIGINT (Ctrl-C) and SIGTERM (what CI runners send on cancel), handled alike.
pub(crate) struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub(crate) fn new() -> miette::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                int: signal(SignalKind::interrupt()).into_diagnostic()?,
                term: signal(SignalKind::terminate()).into_diagnostic()?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for the next signal.
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            Some(()) = self.int.recv() => {}
            Some(()) = self.term.recv() => {}
            else => std::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Whether a signal arrived and has not been seen yet.
    pub(crate) fn pending(&mut self) -> bool {
        use std::task::{Context, Poll, Waker};
        let mut cx = Context::from_waker(Waker::noop());
        #[cfg(unix)]
        {
            matches!(self.int.poll_recv(&mut cx), Poll::Ready(Some(())))
                || matches!(self.term.poll_recv(&mut cx), Poll::Ready(Some(())))
        }
        #[cfg(not(unix))]
        {
            let _ = &mut cx;
            false
        }
    }

    /// Runs `work` unless a signal comes first (`None` then).
    pub(crate) async fn or_interrupted<T>(
        &mut self,
        work: impl std::future::Future<Output = T>,
    ) -> Option<T> {
        tokio::select! {
            value = work => Some(value),
            () = self.recv() => None,
        }
    }
}
