//! The CI recipes in `examples/ci/` are YAML that parses, and every `docspace-provision`
//! command they run exists and accepts those flags (parsed by the real CLI definition).
//! Also: completions, man page, `--version`, and an example in every command's help.

use clap::Parser;
use docspace_provision::cli::Cli;
use docspace_provision::manifest::yaml::{self, Node, Value};

use crate::common::run;

fn strings(node: &Node, out: &mut Vec<String>) {
    match &node.value {
        Value::Str(s) => out.push(s.clone()),
        Value::Seq(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Map(entries) => entries.iter().for_each(|(_, v)| strings(v, out)),
        _ => {}
    }
}

/// Every `docspace-provision ...` command line in a CI file, cut at shell operators.
fn commands(file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(file).unwrap();
    let tree =
        yaml::parse(&text).unwrap_or_else(|e| panic!("{file} is not valid YAML: {}", e.message));
    let mut all = Vec::new();
    strings(&tree, &mut all);
    let mut found = Vec::new();
    for line in all.iter().flat_map(|s| s.lines()) {
        let Some(start) = line.find("docspace-provision ") else {
            continue;
        };
        // Skip installs and mentions inside quoted text (the comment marker).
        if line[..start].contains("cargo install") || line[..start].contains(['"', '\'']) {
            continue;
        }
        let mut cmd = &line[start..];
        for op in [" > ", " || ", " | ", " && ", ";"] {
            if let Some(i) = cmd.find(op) {
                cmd = &cmd[..i];
            }
        }
        found.push(
            cmd.split_whitespace()
                .map(|w| w.trim_matches('"').to_string())
                .collect(),
        );
    }
    found
}

#[test]
fn ci_recipes_parse_and_call_real_commands() {
    for file in [
        "examples/ci/github-actions.yml",
        "examples/ci/gitlab-ci.yml",
    ] {
        let cmds = commands(file);
        let joined: Vec<String> = cmds.iter().map(|c| c.join(" ")).collect();
        for must in [
            "docspace-provision validate rooms/",
            "docspace-provision plan rooms/ --format markdown --detailed-exitcode",
            "docspace-provision apply rooms/ --auto-approve --report report.json",
            "docspace-provision plan rooms/ --detailed-exitcode",
        ] {
            assert!(
                joined.iter().any(|c| c == must),
                "{file} lacks `{must}`: {joined:#?}"
            );
        }
        for cmd in cmds {
            if let Err(e) = Cli::try_parse_from(&cmd) {
                panic!(
                    "{file}: `{}` is not accepted by the CLI:\n{e}",
                    cmd.join(" ")
                );
            }
        }
    }
}

#[test]
fn completions_man_version_and_help_examples() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(["completions", shell]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stdout.contains("docspace-provision") && out.stdout.contains("detailed-exitcode"),
            "{shell}"
        );
    }
    let man = run(["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    let version = run(["--version"]);
    assert_eq!(
        version.stdout.trim(),
        format!("docspace-provision {}", env!("CARGO_PKG_VERSION"))
    );
    for command in [
        "validate",
        "plan",
        "apply",
        "export",
        "doctor",
        "sandbox",
        "schema",
        "completions",
        "man",
    ] {
        let help = run([command, "--help"]);
        assert_eq!(help.code, 0);
        assert!(
            help.stdout.contains("Example: docspace-provision"),
            "`{command} --help` has no example"
        );
    }
}

#[test]
fn usage_errors_exit_1_not_2() {
    // 2 means "changes pending" to pipelines; a typo in a drift check must not look like drift.
    for args in [
        vec!["plan", "--bogus", "x.yaml"],
        vec!["plan", "x.yaml", "--format", "xml"],
        vec![],
    ] {
        let out = run(&args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(!out.stderr.is_empty());
    }
    assert_eq!(run(["--help"]).code, 0);
}
