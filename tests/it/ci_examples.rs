//! The CI recipes in `examples/ci/` are YAML that parses and wire the GitHub Action and the
//! GitLab component (whose commands `shipping.rs` checks against the real CLI) in each mode.
//! Also: completions, man page, `--version`, and an example in every command's help.

use serde_json::Value;

use crate::common::run;
use crate::shipping::yaml_docs;

/// The GitHub recipe wires the three modes through the action of this very release, with only
/// inputs the action declares, every required one given, and the key from a secret.
#[test]
fn github_recipe_uses_the_action_in_each_mode() {
    let file = "examples/ci/github-actions.yml";
    let recipe = yaml_docs(file).remove(0);
    let action = yaml_docs("action.yml").remove(0);
    let inputs = action["inputs"].as_object().unwrap();
    let uses = format!(
        "docspace-provision/docspace-provision@v{}",
        env!("CARGO_PKG_VERSION")
    );
    let mut modes = Vec::new();
    for (job_name, job) in recipe["jobs"].as_object().unwrap() {
        let steps = job["steps"].as_array().unwrap();
        let step = steps
            .iter()
            .find(|s| s["uses"] == uses.as_str())
            .unwrap_or_else(|| panic!("{file}: job {job_name} does not use {uses}"));
        let with = step["with"].as_object().unwrap();
        for key in with.keys() {
            assert!(inputs.contains_key(key), "{file}: {key} is not an input");
        }
        for (name, input) in inputs {
            if input["required"] == true {
                assert!(with.contains_key(name), "{file}: {job_name} lacks {name}");
            }
        }
        assert_eq!(with["api-key"], "${{ secrets.DOCSPACE_API_KEY }}");
        assert_eq!(with["manifests"], "rooms/");
        modes.push(with["mode"].as_str().unwrap().to_string());
        // Plan comments need write access to pull requests; nothing else does.
        let writes_prs = job["permissions"]["pull-requests"] == "write";
        assert_eq!(writes_prs, with["mode"] == "plan", "{job_name}");
    }
    modes.sort();
    assert_eq!(modes, ["apply", "drift", "plan"]);
    assert_eq!(
        recipe["jobs"]["apply"]["concurrency"]["cancel-in-progress"],
        false
    );
    assert!(recipe["on"]["schedule"].is_array());
}

/// The GitLab recipe includes the component once per mode, at this release, with declared
/// inputs only.
#[test]
fn gitlab_recipe_includes_the_component_in_each_mode() {
    let file = "examples/ci/gitlab-ci.yml";
    let recipe = yaml_docs(file).remove(0);
    let spec = yaml_docs("templates/docspace-provision.yml").remove(0);
    let inputs = spec["spec"]["inputs"].as_object().unwrap();
    let mut modes = Vec::new();
    let includes = recipe["include"].as_array().unwrap();
    for include in includes {
        let remote = include["remote"].as_str().unwrap();
        assert!(
            remote.ends_with(&format!(
                "/v{}/templates/docspace-provision.yml",
                env!("CARGO_PKG_VERSION")
            )),
            "{remote}"
        );
        let with = include["inputs"].as_object().unwrap();
        for key in with.keys() {
            assert!(inputs.contains_key(key), "{file}: {key} is not an input");
        }
        let stage = with["stage"].as_str().unwrap();
        assert!(
            recipe["stages"]
                .as_array()
                .unwrap()
                .contains(&Value::from(stage)),
            "{stage}"
        );
        modes.push(with["mode"].as_str().unwrap().to_string());
    }
    modes.sort();
    assert_eq!(modes, ["apply", "drift", "plan"]);
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

/// The bash completion script, loaded into a real bash, completes a subcommand's option and an
/// option's value (clap_complete's script alone completed neither for this hyphenated binary
/// name; `commands::fix_bash_labels` says why). zsh and fish are not on the CI machine.
#[test]
fn bash_completion_completes_subcommand_options_and_values() {
    let script = run(["completions", "bash"]);
    assert_eq!(script.code, 0, "{}", script.stderr);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("completion.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let driver = format!(
        r#"source '{}'
complete_words() {{
  COMP_WORDS=("$@"); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}
  _docspace__provision docspace-provision "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
  echo "${{COMPREPLY[*]}}"
}}
complete_words docspace-provision apply --res
complete_words docspace-provision plan --format ""
complete_words docspace-provision pl
"#,
        path.display()
    );
    let out = std::process::Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(&driver)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["--resend-pending", "text json markdown", "plan"],
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
