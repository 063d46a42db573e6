//! Secrets never shown (issue 20, item 1): a password, or anything written where one may be,
//! appears in no output of `validate`, `plan` or `apply`, whatever error sits next to it; a
//! `password_env` that names the tool's own key, a CI token or a system variable is refused.

use std::path::Path;

use crate::common::{Run, run};

/// Every value in [`LEAKY`] that must never be printed.
const SECRETS: &[&str] = &[
    "hunter2-secret",
    "S3cr3tValue!",
    "xyzPaswordValue",
    "xyzPaswordEnvValue",
    "CapitalPasswordValue",
    "apiTokenValue42",
    "flowPasswordValue",
    "commentedPasswordValue",
    "blockPasswordValue",
];

/// Secrets next to other mistakes: an unknown key on the line after a password, a bad
/// access level below a `password_env` holding a value, misspelt secret keys, a flow
/// mapping, a commented-out password and a block scalar.
const LEAKY: &str = r#"version: 1
rooms:
  - title: Board Pack
    type: custom
    links:
      - title: Board
        kind: external
        access: read
        password: hunter2-secret
        bogus: 1
      - title: Investors
        kind: external
        access: raed
        password_env: S3cr3tValue!
      - title: Auditors
        kind: external
        access: read
        pasword: xyzPaswordValue
        pasword_env: xyzPaswordEnvValue
      - title: Staff
        kind: external
        access: read
        Password: CapitalPasswordValue
        api_token: apiTokenValue42
      - {title: Flow, kind: external, access: reed, password: flowPasswordValue}
      # password: commentedPasswordValue
      - title: Block
        kind: external
        access: read
        secret: |
          blockPasswordValue
        internal: maybe
"#;

/// A syntax error on the line after a password: the parse error's snippet must not show it.
const LEAKY_SYNTAX: &str = "version: 1\nrooms:\n  - title: Board Pack\n    type: custom\n    links:\n      - title: Board\n        kind: external\n        access: read\n        password: hunter2-secret\n        deny_download: Sales: Q3\n";

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert_eq!(
            text.matches(secret).count(),
            0,
            "{what} shows {secret}:\n{text}"
        );
    }
}

/// Every file under `dir` but the manifests themselves.
fn assert_no_secret_in_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") || path.is_dir() {
            continue;
        }
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert_no_secret(&path.display().to_string(), &text);
    }
}

fn runs(dir: &Path, manifest: &Path) -> Vec<(String, Run)> {
    let m = manifest.to_str().unwrap();
    let portal = format!("sandbox:{}", dir.join("state.json").display());
    let report = dir.join("report.json");
    let saved = dir.join("plan.json");
    let commands: Vec<Vec<&str>> = vec![
        vec!["validate", m],
        vec!["validate", "-vvv", m],
        vec!["plan", m, "--portal", &portal],
        vec!["plan", m, "--portal", &portal, "--format", "json"],
        vec![
            "plan",
            m,
            "--portal",
            &portal,
            "--out",
            saved.to_str().unwrap(),
        ],
        vec![
            "apply",
            m,
            "--portal",
            &portal,
            "--auto-approve",
            "--report",
            report.to_str().unwrap(),
        ],
    ];
    commands
        .into_iter()
        .map(|args| (args.join(" "), run(&args)))
        .collect()
}

#[test]
fn secrets_next_to_other_errors_appear_in_no_output_of_validate_plan_or_apply() {
    for (name, text) in [("leaky.yaml", LEAKY), ("syntax.yaml", LEAKY_SYNTAX)] {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join(name);
        std::fs::write(&manifest, text).unwrap();
        for (command, out) in runs(dir.path(), &manifest) {
            assert_eq!(out.code, 1, "{command}: {}", out.stderr);
            assert_no_secret(&format!("{command} (stdout)"), &out.stdout);
            assert_no_secret(&format!("{command} (stderr)"), &out.stderr);
            // The neighbouring mistakes are still reported, with their snippets.
            if name == "leaky.yaml" {
                for shown in [
                    "unknown key `bogus` in a link",
                    "unknown access level `raed`",
                    "did you mean `password_env`?",
                    "unknown key `pasword` in a link",
                    "unknown key `Password` in a link",
                    "unknown key `api_token` in a link",
                    "unknown key `secret` in a link",
                    "`password_env` looks like a value, not a variable name",
                    "        password: **************\n",
                ] {
                    assert!(
                        out.stderr.contains(shown),
                        "{command}: no {shown:?}:\n{}",
                        out.stderr
                    );
                }
            } else {
                assert!(out.stderr.contains("invalid YAML"), "{}", out.stderr);
            }
        }
        assert_no_secret_in_files(dir.path());
    }
}

/// Writes a manifest whose one link reads its password from `variable`.
fn with_password_env(dir: &Path, variable: &str) -> std::path::PathBuf {
    let path = dir.join("m.yaml");
    std::fs::write(
        &path,
        format!("version: 1\nrooms:\n  - title: Sales\n    type: custom\n    links:\n      - title: Clients\n        kind: external\n        access: read\n        password_env: {variable}\n"),
    )
    .unwrap();
    path
}

#[test]
fn password_env_naming_the_tools_key_a_ci_token_or_a_system_variable_is_refused_located() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, why) in [
        (
            "DOCSPACE_API_KEY",
            "names a variable this tool reads itself",
        ),
        ("DOCSPACE_URL", "names a variable this tool reads itself"),
        ("GITHUB_TOKEN", "names a credential of the CI system"),
        ("CI_JOB_TOKEN", "names a credential of the CI system"),
        (
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "names a credential of the CI system",
        ),
        ("PATH", "names a variable the system sets"),
        ("HOME", "names a variable the system sets"),
    ] {
        let manifest = with_password_env(dir.path(), variable);
        let portal = format!("sandbox:{}", dir.path().join("state.json").display());
        let m = manifest.to_str().unwrap();
        for args in [
            vec!["validate", m],
            vec!["plan", m, "--portal", &portal],
            vec!["apply", m, "--portal", &portal, "--auto-approve"],
        ] {
            let out = run(&args);
            assert_eq!(out.code, 1, "{variable}: {}", out.stderr);
            assert!(
                out.stderr
                    .contains(&format!("`password_env: {variable}` {why}")),
                "{variable}: {}",
                out.stderr
            );
            assert!(out.stderr.contains("m.yaml:9:23"), "{}", out.stderr);
            assert!(
                out.stderr.contains("help:") && out.stderr.contains("SALES_LINK_PASSWORD"),
                "{}",
                out.stderr
            );
            // Only apply, the command that could have changed something, says it did not.
            assert_eq!(
                out.stderr.contains("nothing was changed"),
                args[0] == "apply",
                "{}",
                out.stderr
            );
        }
    }
    // The apply above never reached the portal: nothing was created.
    let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap_or_default();
    assert!(!state.contains("\"Sales\""), "{state}");
    // A name of the link's own is accepted.
    let manifest = with_password_env(dir.path(), "SALES_LINK_PASSWORD");
    let out = run(["validate", manifest.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
