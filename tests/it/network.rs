//! How the tool behaves on the network, through the binary: bounded waits on a portal that
//! never answers, retries announced at the default verbosity, the `--timeout` and
//! `--rate-limit` flags.

use std::io::Read;
use std::net::TcpListener;

use crate::common::{bin, run_cmd};

/// A portal that accepts connections, reads what is sent, and never answers.
fn silent_portal() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut socket in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = socket.set_read_timeout(Some(std::time::Duration::from_millis(50)));
            let _ = socket.read(&mut buf);
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_portal_that_never_answers_fails_within_the_timeout_and_says_it_is_retrying() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: A\n    type: collaboration\n",
    )
    .unwrap();
    let run = run_cmd(
        bin()
            .arg("plan")
            .arg(&manifest)
            .args(["--portal", &silent_portal(), "--timeout", "1"])
            .env(
                "DOCSPACE_API_KEY",
                "sk-0000000000000000000000000000000000000000000000000000000000000000",
            ),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Retries are announced at the default verbosity, with the attempt count...
    assert!(
        run.stderr.contains("no answer from the portal") && run.stderr.contains("attempt 2 of 5"),
        "{}",
        run.stderr
    );
    // ...and the run ends with a clear message and a hint naming the flag.
    assert!(
        run.stderr.contains("the portal did not answer in time"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
}

#[test]
fn timeout_and_rate_limit_are_portal_options_with_environment_variables() {
    let help = run_cmd(bin().args(["plan", "--help"]));
    for text in [
        "--timeout <SECONDS>",
        "DOCSPACE_TIMEOUT",
        "--rate-limit <PER_MINUTE>",
        "DOCSPACE_RATE_LIMIT",
    ] {
        assert!(
            help.stdout.contains(text),
            "{text} missing:\n{}",
            help.stdout
        );
    }
    // Out of range: a usage error before anything else.
    let run = run_cmd(bin().args(["plan", "x.yaml", "--timeout", "0"]));
    assert_eq!(run.code, 1, "{}", run.stderr);
}
