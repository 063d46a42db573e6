//! What a user sees at the edges, through the real binary: `--portal` mistakes, causes said
//! once, the API key kept out of every output, key files with invisible characters, the man
//! page and which commands list the portal options, and the full example.

use std::net::TcpListener;

use serde_json::json;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::{Portal, bin, run, run_cmd};

fn snapshot(name: &str, text: &str) {
    insta::assert_snapshot!(name, text);
}

#[test]
fn a_portal_with_a_path_is_refused_with_the_address_alone() {
    let mut out = String::new();
    for url in [
        "https://portal.example.com/api/2.0",
        "https://portal.example.com/rooms/shared",
        "https://portal.example.com:8443/products/files/?folder=5",
    ] {
        let r = run(["plan", "examples/rooms.yaml", "--portal", url]);
        assert_eq!(r.code, 1, "{url}: {}", r.stderr);
        out.push_str(&r.stderr);
    }
    assert!(
        out.contains("help: use --portal https://portal.example.com\n"),
        "{out}"
    );
    assert!(
        out.contains("use --portal https://portal.example.com:8443\n"),
        "{out}"
    );
    snapshot("portal_with_path", &out);
}

#[tokio::test(flavor = "multi_thread")]
async fn https_to_a_plain_http_port_gets_a_hint_about_the_scheme() {
    let portal = Portal::start().await;
    let port = portal.handle.base_url.port().unwrap();
    let mut cmd = bin();
    cmd.args(["plan", "examples/rooms.yaml", "--portal"])
        .arg(format!("https://127.0.0.1:{port}"))
        .env("DOCSPACE_API_KEY", &portal.handle.api_key);
    let r = tokio::task::block_in_place(|| run_cmd(&mut cmd));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("answered in plain HTTP, not TLS"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("use http://"), "{}", r.stderr);
    // Not the generic advice about private certificate authorities.
    assert!(!r.stderr.contains("--ca-cert"), "{}", r.stderr);
}

#[test]
fn a_repeated_cause_is_printed_once() {
    // A port nothing listens on: bind, note it, release it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = bin();
    cmd.args(["plan", "examples/rooms.yaml", "--portal"])
        .arg(format!("http://127.0.0.1:{port}"))
        .env("DOCSPACE_API_KEY", format!("sk-{}", "cd".repeat(32)));
    let r = run_cmd(&mut cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lower = r.stderr.to_lowercase();
    assert_eq!(
        lower.matches("connection refused").count(),
        1,
        "{}",
        r.stderr
    );

    let r = run([
        "plan",
        "examples/rooms.yaml",
        "--portal",
        "https://portal.example.com",
        "--api-key-file",
        "no/such/key.txt",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        r.stderr
    );
}

/// A server (or proxy) that echoes the request's `Authorization` header in every error.
async fn echoing_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &Request| {
            let auth = req
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            ResponseTemplate::new(403).set_body_json(json!({
                "error": {"message": format!("Access denied for Authorization: {auth}")},
                "status": 1,
                "statusCode": 403,
            }))
        })
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_echoed_by_the_server_is_never_printed() {
    let server = echoing_server().await;
    let key = format!("sk-{}", "9f".repeat(32));
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    for args in [
        vec!["plan", "examples/rooms.yaml", "--format", "json", "-vv"],
        vec![
            "apply",
            "examples/rooms.yaml",
            "--auto-approve",
            "--format",
            "json",
            "-vv",
        ],
        vec!["export", "-vv"],
    ] {
        let mut cmd = bin();
        cmd.args(&args)
            .arg("--portal")
            .arg(server.uri())
            .arg("--api-key-file")
            .arg(&key_file);
        let r = tokio::task::block_in_place(|| run_cmd(&mut cmd));
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains(&key[3..]) && !r.stdout.contains(&key[3..]),
            "{args:?} printed the key:\n{}\n{}",
            r.stdout,
            r.stderr
        );
        assert!(
            r.stderr
                .contains("Access denied for Authorization: [REDACTED]"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // The server did receive the key: it was only kept off the terminal.
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().any(|r| {
        r.headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {key}"))
    }));
}

#[tokio::test(flavor = "multi_thread")]
async fn portal_text_holding_the_key_is_scrubbed_on_stdout() {
    let portal = Portal::start().await;
    let key = portal.handle.api_key.clone();
    portal.create_room(&format!("Leak {key}"), 2).await;
    let r = portal.run(&["export"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains(&key), "{}", r.stdout);
    assert!(r.stdout.contains("Leak [REDACTED]"), "{}", r.stdout);

    // A plan and an apply report (JSON on stdout) naming such a room.
    let manifest = portal.dir.join("leak.yaml");
    std::fs::write(
        &manifest,
        format!("version: 1\nrooms:\n  - title: New {key}\n    type: custom\n"),
    )
    .unwrap();
    let m = manifest.to_str().unwrap();
    for args in [
        vec!["plan", m, "--format", "json"],
        vec!["plan", m, "--format", "markdown"],
        vec!["apply", m, "--auto-approve", "--format", "json"],
    ] {
        let r = portal.run(&args);
        assert!(r.code == 0 || r.code == 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.contains("New [REDACTED]"),
            "{args:?}: {}",
            r.stdout
        );
        assert!(
            !r.stdout.contains(&key) && !r.stderr.contains(&key),
            "{args:?}: {}\n{}",
            r.stdout,
            r.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_file_with_a_byte_order_mark_works() {
    let portal = Portal::start().await;
    let key_file = portal.dir.join("key.txt");
    std::fs::write(&key_file, format!("\u{feff}{}\r\n", portal.handle.api_key)).unwrap();
    let mut cmd = bin();
    cmd.args(["plan", "examples/rooms.yaml", "--portal"])
        .arg(portal.handle.base_url.as_str())
        .arg("--api-key-file")
        .arg(&key_file);
    let r = tokio::task::block_in_place(|| run_cmd(&mut cmd));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Plan: "), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_with_an_invisible_character_is_refused_before_it_is_sent() {
    let portal = Portal::start().await;
    let key = &portal.handle.api_key;
    let key_file = portal.dir.join("key.txt");
    // A zero-width space pasted in the middle of the key.
    std::fs::write(&key_file, format!("{}\u{200b}{}\n", &key[..10], &key[10..])).unwrap();
    portal.reset_stats().await;
    let mut cmd = bin();
    cmd.args(["plan", "examples/rooms.yaml", "--portal"])
        .arg(portal.handle.base_url.as_str())
        .arg("--api-key-file")
        .arg(&key_file)
        .env("COLUMNS", "400");
    let r = tokio::task::block_in_place(|| run_cmd(&mut cmd));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("contains a non-ASCII or invisible character (U+200B) at character 11"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("rejected the API key"), "{}", r.stderr);
    assert!(!r.stderr.contains(&key[10..]), "{}", r.stderr);
    let stats = portal.stats().await;
    assert_eq!(stats["reads"], 0, "the key was sent: {stats}");

    let mut cmd = bin();
    cmd.args(["plan", "examples/rooms.yaml", "--portal"])
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", format!("{}\u{7}", key))
        .env("COLUMNS", "400");
    let r = tokio::task::block_in_place(|| run_cmd(&mut cmd));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("DOCSPACE_API_KEY contains a control character (U+0007)"),
        "{}",
        r.stderr
    );
}

#[test]
fn portal_options_are_listed_only_by_commands_that_use_the_network() {
    for cmd in ["plan", "apply", "export", "doctor"] {
        let r = run([cmd, "--help"]);
        assert_eq!(r.code, 0);
        for flag in ["--portal", "--api-key-file", "--ca-cert", "--insecure-http"] {
            assert!(r.stdout.contains(flag), "{cmd} --help lacks {flag}");
        }
    }
    for cmd in ["validate", "schema", "sandbox", "completions", "man"] {
        let r = run([cmd, "--help"]);
        assert_eq!(r.code, 0);
        for flag in ["--portal", "--api-key-file", "--ca-cert", "--insecure-http"] {
            assert!(!r.stdout.contains(flag), "{cmd} --help lists {flag}");
        }
        assert!(
            r.stdout.contains("--color"),
            "{cmd} --help lacks the common options"
        );
    }
    // Offline commands refuse them rather than ignoring them.
    let r = run([
        "validate",
        "examples/rooms.yaml",
        "--portal",
        "https://x.example.com",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn portal_options_before_the_command_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let portal = format!("sandbox:{}", state.display());
    let r = run(["--portal", &portal, "plan", "examples/rooms.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Plan: "), "{}", r.stdout);
}

#[test]
fn the_man_page_documents_every_command_and_the_exit_codes() {
    let r = run(["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = r.stdout;
    let (head, commands) = page.split_once(".SH COMMANDS").expect("a COMMANDS section");
    let (commands, tail) = commands
        .split_once(".SH \"EXIT STATUS\"")
        .expect("exit codes");
    // The common options once, at the top; no portal options there.
    assert!(head.contains("\\-\\-color"), "{head}");
    assert!(!head.contains("\\-\\-portal"), "{head}");
    let sections: Vec<&str> = commands.split(".SS ").skip(1).collect();
    let names: Vec<&str> = sections
        .iter()
        .map(|s| s.lines().next().unwrap().trim_matches('"'))
        .collect();
    assert_eq!(
        names,
        [
            "docspace\\-provision validate",
            "docspace\\-provision plan",
            "docspace\\-provision apply",
            "docspace\\-provision export",
            "docspace\\-provision access",
            "docspace\\-provision audit",
            "docspace\\-provision doctor",
            "docspace\\-provision sandbox",
            "docspace\\-provision schema",
            "docspace\\-provision completions",
            "docspace\\-provision man",
        ]
    );
    for section in &sections {
        let network = ["plan", "apply", "export", "access", "audit", "doctor"]
            .iter()
            .any(|c| {
                section
                    .lines()
                    .next()
                    .unwrap()
                    .ends_with(&format!(" {c}\""))
            });
        assert_eq!(section.contains("\\-\\-portal"), network, "{section}");
    }
    assert!(
        sections[1].contains("\\-\\-detailed\\-exitcode"),
        "{}",
        sections[1]
    );
    let sandbox = sections
        .iter()
        .find(|s| s.lines().next().unwrap().ends_with(" sandbox\""))
        .unwrap();
    assert!(sandbox.contains("\\-\\-listen"), "{sandbox}");
    for code in 0..=3 {
        assert!(tail.contains(&format!(".TP\n\\fB{code}\\fR\n")), "{tail}");
    }
    assert!(tail.contains("DOCSPACE_API_KEY"), "{tail}");
}

#[test]
fn the_full_example_plans_cleanly_against_a_fresh_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("fresh.json");
    let portal = format!("sandbox:{}", state.display());
    // The example's link takes its password from this variable: plan refuses an unset one.
    let r = run_cmd(
        bin()
            .args(["plan", "examples/full.yaml", "--portal", &portal])
            .arg("--detailed-exitcode")
            .env("DESIGN_PREVIEW_PASSWORD", "preview-pass-2026"),
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains('×'), "{}", r.stderr);
    assert!(r.stdout.contains("Plan: 5 rooms to create"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("+ room \"Old Launch 2024\" (public, archived)"),
        "{}",
        r.stdout
    );
}

/// The exit-code table of the book's commands reference (docs/book/src/reference/commands.md,
/// "Exit codes") is the help text's.
#[test]
fn the_book_exit_code_table_is_the_help_text() {
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/book/src/reference/commands.md"
    ))
    .unwrap();
    let table = page.split_once("\n## Exit codes\n").unwrap().1;
    let table = table.split_once("\n## ").map_or(table, |(t, _)| t);
    let rows: Vec<(u8, String)> = table
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.parse().ok()?;
            Some((code, cells.get(2)?.to_string()))
        })
        .collect();
    assert_eq!(rows, docspace_provision::cli::exit_codes());
}
