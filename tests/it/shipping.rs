//! How the tool is shipped and wired: `action.yml`, the GitLab component
//! (`templates/docspace-provision.yml`), the release workflow, the Dockerfile and the crate
//! package. The YAML parses; every `docspace-provision` command line in it is accepted by the
//! real CLI definition; the action's and the template's scripts are run by a real shell against
//! the embedded sandbox (`--portal sandbox:FILE`) with the real binary, and do what the book
//! promises for each exit code. GitHub's API is the only stand-in: a recording `gh` script,
//! because there is no GitHub here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use clap::error::ErrorKind;
use docspace_provision::cli::Cli;
use serde_json::Value;

const ACTION: &str = "action.yml";
const GITLAB: &str = "templates/docspace-provision.yml";
const RELEASE: &str = ".github/workflows/release.yml";

/// Every YAML document in a file of the repository, as JSON values.
pub fn yaml_docs(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"))
}

fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The shell expansions the scripts use, with the value a test gives them (None: dropped,
/// they stand for the optional extra arguments).
const EXPANSIONS: &[(&str, Option<&str>)] = &[
    ("\"${manifests[@]}\"", Some("rooms/")),
    ("$MANIFESTS", Some("rooms/")),
    ("${plan_args[@]+\"${plan_args[@]}\"}", None),
    ("${apply_args[@]+\"${apply_args[@]}\"}", None),
    ("$PLAN_ARGS", None),
    ("$APPLY_ARGS", None),
    ("\"$report\"", Some("report.json")),
    ("\"$out/report.json\"", Some("report.json")),
];

/// Every command line starting with `docspace-provision` in the strings of `docs`, cut at
/// shell operators, with the known expansions replaced. An unknown expansion fails the test:
/// it would hide a flag from the check.
pub fn command_lines(file: &str, docs: &[Value]) -> Vec<Vec<String>> {
    let mut all = Vec::new();
    docs.iter().for_each(|d| strings(d, &mut all));
    let mut found = Vec::new();
    for line in all.iter().flat_map(|s| s.lines()) {
        let line = line.trim();
        if !line.starts_with("docspace-provision ") {
            continue;
        }
        let mut cmd = line;
        for op in [" > ", " || ", " | ", " && ", ";"] {
            if let Some(i) = cmd.find(op) {
                cmd = &cmd[..i];
            }
        }
        let mut words = Vec::new();
        for word in cmd.split_whitespace() {
            match EXPANSIONS.iter().find(|(k, _)| *k == word) {
                Some((_, Some(v))) => words.push(v.to_string()),
                Some((_, None)) => {}
                None => {
                    assert!(
                        !word.contains('$'),
                        "{file}: unknown expansion {word} in `{line}`"
                    );
                    words.push(word.to_string());
                }
            }
        }
        found.push(words);
    }
    found
}

/// Parses a command line with the real CLI; `--version` and `--help` count as accepted.
pub fn accepted(file: &str, cmd: &[String]) {
    if let Err(e) = Cli::try_parse_from(cmd)
        && !matches!(e.kind(), ErrorKind::DisplayVersion | ErrorKind::DisplayHelp)
    {
        panic!(
            "{file}: `{}` is not accepted by the CLI:\n{e}",
            cmd.join(" ")
        );
    }
}

fn joined(cmds: &[Vec<String>]) -> Vec<String> {
    cmds.iter().map(|c| c.join(" ")).collect()
}

/// The commands the book's CI page (docs/book/src/howto/ci.md, "The three modes") documents
/// for each mode.
pub const MODE_COMMANDS: &[&str] = &[
    "docspace-provision validate rooms/",
    "docspace-provision plan rooms/ --format markdown --detailed-exitcode",
    "docspace-provision apply rooms/ --auto-approve --report report.json",
    "docspace-provision plan rooms/ --detailed-exitcode",
];

fn action() -> Value {
    yaml_docs(ACTION).remove(0)
}

fn action_step<'a>(action: &'a Value, id_or_name: &str) -> &'a Value {
    action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id_or_name || s["name"] == id_or_name)
        .unwrap_or_else(|| panic!("action.yml has no step {id_or_name}"))
}

#[test]
fn action_is_composite_with_documented_inputs_all_used() {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let inputs: BTreeSet<&str> = action["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for must in [
        "mode",
        "manifests",
        "portal-url",
        "api-key",
        "version",
        "plan-args",
        "apply-args",
        "github-token",
        "fail-on-drift",
    ] {
        assert!(inputs.contains(must), "action.yml lacks input {must}");
    }
    assert_eq!(action["inputs"]["mode"]["default"], "plan");
    assert_eq!(action["inputs"]["portal-url"]["required"], true);
    assert_eq!(action["inputs"]["api-key"]["required"], true);
    // Every declared input is used by a step (an unused input is a silent no-op for users).
    let mut used = Vec::new();
    strings(&action["runs"], &mut used);
    strings(&action["outputs"], &mut used);
    let used = used.join("\n");
    for input in &inputs {
        assert!(
            used.contains(&format!("inputs.{input} "))
                || used.contains(&format!("inputs.{input} }}"))
                || used.contains(&format!("inputs.{input} ||"))
                || used.contains(&format!("inputs.{input} ==")),
            "input {input} is declared but never used"
        );
    }
    // The key reaches the tool only as DOCSPACE_API_KEY in a step's environment.
    assert_eq!(
        used.matches("inputs.api-key").count(),
        1,
        "api-key used more than once"
    );
    let run = action_step(&action, "run");
    assert_eq!(run["env"]["DOCSPACE_API_KEY"], "${{ inputs.api-key }}");
    // No `${{ }}` pasted into a script: inputs reach the shell through env, so a manifest
    // path or an argument cannot inject shell code.
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(script) = step["run"].as_str() {
            assert!(
                !script.contains("${{"),
                "step {} pastes an expression into its script",
                step["name"]
            );
            assert!(
                !script.contains("DOCSPACE_API_KEY"),
                "step {} handles the key in its script",
                step["name"]
            );
        }
    }
    // The artifact step keeps the report even when the apply step failed.
    let keep = action_step(&action, "Keep the plan or report");
    assert!(
        keep["uses"]
            .as_str()
            .unwrap()
            .starts_with("actions/upload-artifact@")
    );
    assert!(keep["if"].as_str().unwrap().starts_with("always()"));
}

#[test]
fn action_runs_the_documented_commands_with_real_flags() {
    let docs = yaml_docs(ACTION);
    // The steps only: `author:` and descriptions are prose.
    let cmds = command_lines(ACTION, &[docs[0]["runs"].clone()]);
    let joined = joined(&cmds);
    for must in MODE_COMMANDS {
        assert!(
            joined.iter().any(|c| c == must),
            "{ACTION} lacks `{must}`: {joined:#?}"
        );
    }
    for cmd in &cmds {
        accepted(ACTION, cmd);
    }
    // The examples given for the extra-argument inputs are accepted where they are appended.
    for (input, base) in [
        ("plan-args", MODE_COMMANDS[1]),
        ("plan-args", MODE_COMMANDS[3]),
        ("apply-args", MODE_COMMANDS[2]),
    ] {
        let description = docs[0]["inputs"][input]["description"].as_str().unwrap();
        let examples = description
            .split_once("e.g. ")
            .unwrap_or_else(|| panic!("{input} has no example"))
            .1
            .trim_end_matches('.');
        for example in examples.split(" or ") {
            let cmd: Vec<String> = base
                .split_whitespace()
                .chain(example.split_whitespace())
                .map(String::from)
                .collect();
            accepted(&format!("{ACTION} {input}"), &cmd);
        }
    }
}

/// A scratch directory for one scripted run: manifests, the sandbox state, runner files.
struct Runner {
    dir: tempfile::TempDir,
}

/// What one run of a step's script left behind.
#[derive(Debug)]
struct StepRun {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: String,
    summary: String,
    gh_calls: String,
    gh_body: String,
}

impl Runner {
    fn new() -> Runner {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("rooms")).unwrap();
        std::fs::create_dir_all(dir.path().join("runner-temp")).unwrap();
        std::fs::create_dir_all(dir.path().join("fake-bin")).unwrap();
        // GitHub's CLI, recording each call and the comment body it would send; the comment
        // listing answers with $FAKE_GH_EXISTING (the id of an earlier plan comment).
        let gh = dir.path().join("fake-bin/gh");
        std::fs::write(
            &gh,
            "#!/bin/sh\n\
             printf 'token=%s %s\\n' \"$GH_TOKEN\" \"$*\" >> \"$FAKE_GH_LOG\"\n\
             for a in \"$@\"; do case \"$a\" in body=@*) cp \"${a#body=@}\" \"$FAKE_GH_LOG.body\";; esac; done\n\
             case \"$*\" in *--jq*) [ -n \"$FAKE_GH_EXISTING\" ] && printf '%s\\n%s\\n' \"$FAKE_GH_EXISTING\" 999;; esac\n\
             exit 0\n",
        )
        .unwrap();
        make_executable(&gh);
        // curl for GitLab's notes API (calls carrying a PRIVATE-TOKEN): records each call and
        // the JSON it sends, lists $FAKE_GH_EXISTING as an earlier plan note. Every other call
        // (the release download) goes to the real curl.
        let curl = dir.path().join("fake-bin/curl");
        std::fs::write(
            &curl,
            "#!/bin/sh\n\
             case \"$*\" in *PRIVATE-TOKEN*) ;; *) exec /usr/bin/curl \"$@\" ;; esac\n\
             printf '%s\\n' \"$*\" >> \"$FAKE_GH_LOG\"\n\
             prev=\"\"\n\
             for a in \"$@\"; do [ \"$prev\" = --data ] && cp \"${a#@}\" \"$FAKE_GH_LOG.body\"; prev=\"$a\"; done\n\
             case \"$*\" in *'-X PUT'* | *'-X POST'*) echo '{}'; exit 0 ;; esac\n\
             if [ -n \"$FAKE_GH_EXISTING\" ]; then\n\
               printf '[{\"id\": 1, \"body\": \"looks good\"}, {\"id\": %s, \"body\": \"<!-- docspace-provision plan -->\\\\nold plan\"}]' \"$FAKE_GH_EXISTING\"\n\
             else echo '[{\"id\": 1, \"body\": \"looks good\"}]'; fi\n",
        )
        .unwrap();
        make_executable(&curl);
        Runner { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn manifest(&self, text: &str) {
        std::fs::write(self.path().join("rooms/rooms.yaml"), text).unwrap();
    }

    /// PATH for the scripts: the recording `gh`, the binary under test, the system tools.
    fn path_var(&self) -> String {
        let bin_dir = Path::new(env!("CARGO_BIN_EXE_docspace-provision"))
            .parent()
            .unwrap();
        format!(
            "{}:{}:/usr/local/bin:/usr/bin:/bin",
            self.path().join("fake-bin").display(),
            bin_dir.display()
        )
    }

    /// Runs the action's "run" step as GitHub does (`bash --noprofile --norc -eo pipefail`),
    /// in this directory, with the step's environment filled in as `env` says.
    fn action(&self, env: &[(&str, &str)]) -> StepRun {
        let action = action();
        let step = action_step(&action, "run");
        let declared: BTreeSet<&str> = step["env"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let script = self.path().join("runner-temp/step.sh");
        std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", self.path_var())
            .env("HOME", self.path())
            .env("NO_COLOR", "1")
            .env("RUNNER_TEMP", self.path().join("runner-temp"))
            .env("GITHUB_OUTPUT", self.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", self.path().join("summary"))
            .env("GITHUB_REPOSITORY", "acme/rooms")
            .env("FAKE_GH_LOG", self.path().join("gh.log"));
        let defaults = [
            ("MODE", "plan"),
            ("MANIFESTS", "rooms/"),
            ("PLAN_ARGS", ""),
            ("APPLY_ARGS", ""),
            ("COMMENT", "true"),
            ("FAIL_ON_DRIFT", "true"),
            ("DOCSPACE_API_KEY", "sandbox-needs-no-key"),
            ("GH_TOKEN", "ghs_test"),
            ("PR_NUMBER", ""),
            ("RUN_URL", "https://github.com/acme/rooms/actions/runs/1"),
            ("COMMIT", "0123abc"),
        ];
        let sandbox = format!("sandbox:{}", self.path().join("sandbox.json").display());
        let mut given = BTreeSet::new();
        for (k, v) in defaults
            .iter()
            .copied()
            .chain([("DOCSPACE_URL", sandbox.as_str())])
            .chain(env.iter().copied())
        {
            if k.starts_with("FAKE_") {
                cmd.env(k, v);
                continue;
            }
            assert!(declared.contains(k), "the run step has no env {k}");
            given.insert(k);
            cmd.env(k, v);
        }
        assert_eq!(
            given, declared,
            "the test must give every env the step declares"
        );
        self.finish(&mut cmd)
    }

    fn finish(&self, cmd: &mut Command) -> StepRun {
        for file in ["output", "summary", "gh.log", "gh.log.body"] {
            let _ = std::fs::remove_file(self.path().join(file));
        }
        let out = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .expect("the shell runs");
        let read = |f: &str| std::fs::read_to_string(self.path().join(f)).unwrap_or_default();
        StepRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            outputs: read("output"),
            summary: read("summary"),
            gh_calls: read("gh.log"),
            gh_body: read("gh.log.body"),
        }
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

const ONE_ROOM: &str = "version: 1\nrooms:\n  - title: Project Collaboration\n    type: collaboration\n    invitees:\n      - email: example.user@mail.com\n        access: editing\n";

const FOUR_MEMBERS: &str = "version: 1\nrooms:\n  - title: Team\n    type: collaboration\n    invitees:\n      - email: a@example.com\n        access: editing\n      - email: b@example.com\n        access: editing\n      - email: c@example.com\n        access: editing\n      - email: d@example.com\n        access: editing\n";

const ONE_OF_FOUR_EXACT: &str = "version: 1\nrooms:\n  - title: Team\n    type: collaboration\n    members: exact\n    invitees:\n      - email: a@example.com\n        access: editing\n";

#[test]
fn action_plan_mode_comments_once_and_updates_in_place() {
    let runner = Runner::new();
    runner.manifest(ONE_ROOM);
    // Changes pending (exit 2) is a success in plan mode; a new comment is posted.
    let first = runner.action(&[("PR_NUMBER", "7")]);
    assert_eq!(first.code, 0, "{first:#?}");
    assert!(first.outputs.contains("exitcode=2\n"), "{}", first.outputs);
    assert!(
        first.outputs.contains("changes=true\n"),
        "{}",
        first.outputs
    );
    assert!(
        first.summary.contains("1 room to create"),
        "{}",
        first.summary
    );
    let calls: Vec<&str> = first.gh_calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(
        calls[0]
            .starts_with("token=ghs_test api --paginate repos/acme/rooms/issues/7/comments --jq")
    );
    assert!(
        calls[1].starts_with("token=ghs_test api repos/acme/rooms/issues/7/comments -F body=@")
    );
    assert!(
        first
            .gh_body
            .starts_with("<!-- docspace-provision plan -->\n### docspace-provision plan")
    );
    assert!(
        first.gh_body.contains("+ room \"Project Collaboration\""),
        "{}",
        first.gh_body
    );
    assert!(first.gh_body.contains("Commit 0123abc"));
    assert!(first.stdout.contains("Posted the plan comment"));

    // The next push finds the earlier comment by its marker and edits the first one found.
    let second = runner.action(&[("PR_NUMBER", "7"), ("FAKE_GH_EXISTING", "4242")]);
    assert_eq!(second.code, 0, "{second:#?}");
    let calls: Vec<&str> = second.gh_calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(
        calls[1].starts_with(
            "token=ghs_test api -X PATCH repos/acme/rooms/issues/comments/4242 -F body=@"
        ),
        "{calls:#?}"
    );
    assert!(second.stdout.contains("Updated the plan comment 4242"));

    // Without a pull request, or with comments off, nothing is posted; the summary still is.
    let push = runner.action(&[]);
    assert_eq!(push.code, 0);
    assert!(push.gh_calls.is_empty(), "{}", push.gh_calls);
    assert!(push.summary.contains("1 room to create"));
    let off = runner.action(&[("PR_NUMBER", "7"), ("COMMENT", "false")]);
    assert_eq!(off.code, 0);
    assert!(off.gh_calls.is_empty());
}

#[test]
fn action_plan_mode_long_plan_still_fits_a_comment() {
    let runner = Runner::new();
    let mut manifest = String::from("version: 1\nrooms:\n");
    for i in 0..600 {
        manifest.push_str(&format!(
            "  - title: Room number {i} with a fairly long title\n    type: collaboration\n    invitees:\n      - email: person{i}@example.com\n        access: editing\n"
        ));
    }
    runner.manifest(&manifest);
    let run = runner.action(&[("PR_NUMBER", "7")]);
    assert_eq!(run.code, 0, "{run:#?}");
    // GitHub refuses comments over 65,536 characters: with the marker and the footer the
    // comment still fits, and says how many rooms it leaves out.
    let chars = run.gh_body.chars().count();
    assert!((60_000..65_536).contains(&chars), "{chars}");
    assert!(
        run.gh_body.contains("more changed rooms not shown"),
        "{}",
        &run.gh_body[run.gh_body.len() - 500..]
    );
    assert!(run.gh_body.trim_end().ends_with(")</sub>"));
}

#[test]
fn action_plan_mode_failure_fails_and_replaces_the_old_plan() {
    let runner = Runner::new();
    runner.manifest("version: 1\nrooms:\n  - title: X\n    type: nonsense\n");
    let run = runner.action(&[("PR_NUMBER", "7"), ("FAKE_GH_EXISTING", "4242")]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.outputs.contains("exitcode=1\n"));
    // validate's diagnostics reach the log, and the stale comment says there is no plan.
    assert!(run.stderr.contains("nonsense"), "{}", run.stderr);
    assert!(
        run.stdout
            .contains("::error::docspace-provision could not plan (exit 1)")
    );
    assert!(
        run.gh_calls
            .contains("-X PATCH repos/acme/rooms/issues/comments/4242")
    );
    assert!(
        run.gh_body.contains("The plan failed (exit 1)"),
        "{}",
        run.gh_body
    );
}

#[test]
fn action_apply_mode_writes_the_report_and_fails_clearly_on_exit_3() {
    let runner = Runner::new();
    runner.manifest(FOUR_MEMBERS);
    let run = runner.action(&[("MODE", "apply"), ("APPLY_ARGS", "--parallelism 2")]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.outputs.contains("exitcode=0\n"));
    let report_path = run
        .outputs
        .lines()
        .find_map(|l| l.strip_prefix("report="))
        .expect("report output");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(report_path).unwrap()).unwrap();
    assert_eq!(report["format_version"], 2);
    assert!(report["entries"].as_array().unwrap().len() >= 5);
    assert!(run.gh_calls.is_empty());

    // Removing 3 of 4 members trips the removal guard: apply runs, skips them, exits 3.
    runner.manifest(ONE_OF_FOUR_EXACT);
    let guarded = runner.action(&[("MODE", "apply")]);
    assert_eq!(guarded.code, 3, "{guarded:#?}");
    assert!(guarded.outputs.contains("exitcode=3\n"));
    assert!(
        guarded.stdout.contains(
            "::error::apply finished, but the portal does not fully match the manifests (exit 3)"
        ),
        "{}",
        guarded.stdout
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(report_path).unwrap()).unwrap();
    assert!(
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["status"] == "skipped"),
        "{report:#}"
    );
    // The extra arguments reach apply: --allow-removals lets the removals through.
    let allowed = runner.action(&[("MODE", "apply"), ("APPLY_ARGS", "--allow-removals")]);
    assert_eq!(allowed.code, 0, "{allowed:#?}");
}

#[test]
fn action_drift_mode_fails_on_drift_or_only_reports_it() {
    let runner = Runner::new();
    runner.manifest(ONE_ROOM);
    let drift = runner.action(&[("MODE", "drift")]);
    assert_eq!(drift.code, 2, "{drift:#?}");
    assert!(drift.outputs.contains("changes=true\n"));
    assert!(drift.stdout.contains("::error::Drift: the portal differs"));
    // The plan is in the log and in the summary, so the drift is visible without re-running.
    assert!(
        drift.stdout.contains("Project Collaboration"),
        "{}",
        drift.stdout
    );
    assert!(drift.summary.contains("Project Collaboration"));

    let reported = runner.action(&[("MODE", "drift"), ("FAIL_ON_DRIFT", "false")]);
    assert_eq!(reported.code, 0, "{reported:#?}");
    assert!(reported.outputs.contains("changes=true\n"));
    assert!(reported.stdout.contains("::warning::Drift"));

    assert_eq!(runner.action(&[("MODE", "apply")]).code, 0);
    let clean = runner.action(&[("MODE", "drift")]);
    assert_eq!(clean.code, 0, "{clean:#?}");
    assert!(clean.outputs.contains("changes=false\n"));

    // Paths may be separated by newlines (a YAML block), each reaching the tool.
    std::fs::write(
        runner.path().join("other.yaml"),
        ONE_ROOM.replace("Project Collaboration", "Other Room"),
    )
    .unwrap();
    let listed = runner.action(&[
        ("MODE", "drift"),
        ("MANIFESTS", "rooms/rooms.yaml\n  other.yaml\n"),
    ]);
    assert_eq!(listed.code, 2, "{listed:#?}");
    assert!(listed.stdout.contains("Other Room"), "{}", listed.stdout);
    let none = runner.action(&[("MODE", "drift"), ("MANIFESTS", " \n")]);
    assert_eq!(none.code, 1);
    assert!(none.stdout.contains("the manifests input is empty"));

    // A plan error is exit 1, not drift; an unknown mode is refused.
    runner.manifest("version: 1\nrooms: 5\n");
    assert_eq!(runner.action(&[("MODE", "drift")]).code, 1);
    let bad = runner.action(&[("MODE", "destroy")]);
    assert_eq!(bad.code, 1);
    assert!(bad.stdout.contains("mode must be plan, apply or drift"));
}

/// A release directory laid out as the release workflow publishes it, holding the binary
/// under test; returns the `file://` URL of the releases root.
fn fake_release(root: &Path, version: &str, target: &str) -> String {
    let name = format!("docspace-provision-{target}");
    let dir = root.join(format!("releases/v{version}"));
    std::fs::create_dir_all(dir.join(&name)).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_docspace-provision"),
        dir.join(&name).join("docspace-provision"),
    )
    .unwrap();
    let archive = format!("{name}.tar.gz");
    let status = Command::new("tar")
        .args(["-czf", &archive, &name])
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let sum = Command::new("sha256sum")
        .arg(&archive)
        .current_dir(&dir)
        .output()
        .unwrap();
    std::fs::write(dir.join(format!("{archive}.sha256")), sum.stdout).unwrap();
    format!("file://{}", root.join("releases").display())
}

#[test]
fn action_install_checks_the_sha256_and_never_falls_back_on_a_mismatch() {
    let runner = Runner::new();
    let target = "x86_64-unknown-linux-musl";
    let releases = fake_release(runner.path(), "9.8.7", target);
    // The action's own checkout: its Cargo.toml names the version and the repository.
    let action_dir = runner.path().join("action");
    std::fs::create_dir_all(&action_dir).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
        action_dir.join("Cargo.toml"),
    )
    .unwrap();
    let action = action();
    let step = action_step(&action, "Install docspace-provision");
    assert_eq!(step["env"]["INPUT_VERSION"], "${{ inputs.version }}");
    let script = runner.path().join("install.sh");
    std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
    // System tools only: no cargo, so a fallback build would show as an error.
    let system_path = "/usr/bin:/bin";
    let cargo_on_system_path = ["/usr/bin/cargo", "/bin/cargo"]
        .iter()
        .any(|p| Path::new(p).exists());
    let install = |version: &str| {
        let _ = std::fs::remove_dir_all(runner.path().join("runner-temp"));
        std::fs::create_dir_all(runner.path().join("runner-temp")).unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(runner.path())
            .env_clear()
            .env("PATH", system_path)
            .env("HOME", runner.path())
            .env("INPUT_VERSION", version)
            .env("GITHUB_ACTION_PATH", &action_dir)
            .env("GITHUB_PATH", runner.path().join("output"))
            .env("RUNNER_TEMP", runner.path().join("runner-temp"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("DOCSPACE_PROVISION_RELEASES", &releases);
        runner.finish(&mut cmd)
    };

    let ok = install("v9.8.7");
    assert_eq!(ok.code, 0, "{ok:#?}");
    let bin_dir = ok.outputs.trim();
    assert!(Path::new(bin_dir).join("docspace-provision").is_file());
    assert!(
        ok.stdout.contains(&format!(
            "Installed docspace-provision {}: release v9.8.7 ({target}, SHA-256 ",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        ok.stdout
    );

    // A tampered archive (its checksum no longer matches) stops the step.
    let sum_file = runner.path().join(format!(
        "releases/v9.8.7/docspace-provision-{target}.tar.gz.sha256"
    ));
    let good = std::fs::read_to_string(&sum_file).unwrap();
    std::fs::write(&sum_file, format!("{}{}", "0".repeat(64), &good[64..])).unwrap();
    let bad = install("9.8.7");
    assert_eq!(bad.code, 1, "{bad:#?}");
    assert!(
        bad.stdout.contains("does not match its published SHA-256"),
        "{}",
        bad.stdout
    );
    assert!(!bad.stdout.contains("cargo install") && !bad.stderr.contains("Compiling"));
    assert!(bad.outputs.is_empty(), "nothing may be put on PATH");

    // No release for this version: the step says so and builds from the action's checkout
    // (here there is no cargo, which it reports).
    if !cargo_on_system_path {
        let missing = install("9.9.9");
        assert_eq!(missing.code, 1, "{missing:#?}");
        assert!(
            missing
                .stdout
                .contains("::notice::No release archive at file://")
        );
        assert!(
            missing.stdout.contains("no cargo on this runner"),
            "{}",
            missing.stdout
        );
    }
}

fn gitlab() -> (Value, Value) {
    let mut docs = yaml_docs(GITLAB);
    assert_eq!(
        docs.len(),
        2,
        "a component is a spec document and a job document"
    );
    let jobs = docs.remove(1);
    (docs.remove(0), jobs)
}

#[test]
fn gitlab_component_has_the_modes_and_runs_real_commands() {
    let (spec, jobs) = gitlab();
    let inputs = spec["spec"]["inputs"].as_object().unwrap();
    assert_eq!(
        inputs["mode"]["options"],
        serde_json::json!(["plan", "apply", "drift"])
    );
    assert_eq!(
        inputs["version"]["default"],
        env!("CARGO_PKG_VERSION"),
        "the template downloads the release it ships with"
    );
    // Every input is interpolated somewhere in the job.
    let mut used = Vec::new();
    strings(&jobs, &mut used);
    let job_text = format!(
        "{}\n{}",
        used.join("\n"),
        jobs.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    for name in inputs.keys() {
        assert!(
            job_text.contains(&format!("$[[ inputs.{name} ]]")),
            "input {name} is never used"
        );
    }
    assert!(
        !job_text.contains("DOCSPACE_API_KEY"),
        "the key stays a CI/CD variable"
    );
    let cmds = command_lines(GITLAB, std::slice::from_ref(&jobs));
    let joined = joined(&cmds);
    for must in MODE_COMMANDS {
        assert!(
            joined.iter().any(|c| c == must),
            "{GITLAB} lacks `{must}`: {joined:#?}"
        );
    }
    for cmd in &cmds {
        accepted(GITLAB, cmd);
    }
    let job = &jobs["docspace-provision-$[[ inputs.mode ]]"];
    assert_eq!(job["artifacts"]["when"], "always");
}

impl Runner {
    /// Runs the GitLab job's before_script and script in one `sh`, as a runner does, with the
    /// job's variables as `vars` gives them and the release from `releases`.
    fn gitlab(&self, releases: &str, vars: &[(&str, &str)]) -> StepRun {
        self.gitlab_with(releases, vars, &[])
    }

    /// As [`Runner::gitlab`], with predefined GitLab variables (`predefined`) too.
    fn gitlab_with(
        &self,
        releases: &str,
        vars: &[(&str, &str)],
        predefined: &[(&str, &str)],
    ) -> StepRun {
        let (_, jobs) = gitlab();
        let job = &jobs["docspace-provision-$[[ inputs.mode ]]"];
        let declared: BTreeSet<&str> = job["variables"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut script = String::new();
        for part in ["before_script", "script"] {
            for line in job[part].as_array().unwrap() {
                script.push_str(line.as_str().unwrap());
                script.push('\n');
            }
        }
        let file = self.path().join("runner-temp/job.sh");
        std::fs::write(&file, script).unwrap();
        let project = self.path();
        let mut cmd = Command::new("sh");
        cmd.arg(&file)
            .current_dir(project)
            .env_clear()
            .env("PATH", self.path_var())
            .env("HOME", project)
            .env("NO_COLOR", "1")
            .env("CI_PROJECT_DIR", project)
            .env(
                "DOCSPACE_URL",
                format!("sandbox:{}", project.join("sandbox.json").display()),
            );
        let defaults = [
            ("DOCSPACE_PROVISION_MODE", "plan"),
            ("DOCSPACE_PROVISION_VERSION", "9.8.7"),
            ("DOCSPACE_PROVISION_RELEASES", releases),
            ("MANIFESTS", "rooms/"),
            ("PLAN_ARGS", ""),
            ("APPLY_ARGS", ""),
            ("FAIL_ON_DRIFT", "true"),
        ];
        let mut given = BTreeSet::new();
        for (k, v) in defaults.iter().copied().chain(vars.iter().copied()) {
            given.insert(k);
            cmd.env(k, v);
        }
        assert_eq!(
            given, declared,
            "the test must give every variable the job sets"
        );
        for (k, v) in predefined {
            cmd.env(k, v);
        }
        self.finish(&mut cmd)
    }
}

#[test]
fn gitlab_component_jobs_run_each_mode() {
    let runner = Runner::new();
    let target = match std::env::consts::ARCH {
        "aarch64" => "aarch64-unknown-linux-musl",
        _ => "x86_64-unknown-linux-musl",
    };
    let releases = fake_release(runner.path(), "9.8.7", target);
    runner.manifest(ONE_ROOM);
    let out = runner.path().join(".docspace-provision");

    let plan = runner.gitlab(&releases, &[]);
    assert_eq!(plan.code, 0, "{plan:#?}");
    assert!(plan.stdout.contains("No GITLAB_TOKEN"), "{}", plan.stdout);
    let md = std::fs::read_to_string(out.join("plan.md")).unwrap();
    assert!(md.contains("1 room to create"), "{md}");

    // In a merge request with a token: one note, found again by its marker and updated.
    let log = runner.path().join("gh.log");
    let mr = [
        ("GITLAB_TOKEN", "glpat-test"),
        ("CI_MERGE_REQUEST_IID", "5"),
        ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
        ("CI_PROJECT_ID", "12"),
        ("CI_COMMIT_SHA", "0123abc"),
        ("CI_JOB_URL", "https://gitlab.example/acme/rooms/-/jobs/9"),
        ("FAKE_GH_LOG", log.to_str().unwrap()),
    ];
    let notes = "https://gitlab.example/api/v4/projects/12/merge_requests/5/notes";
    let posted = runner.gitlab_with(&releases, &[], &mr);
    assert_eq!(posted.code, 0, "{posted:#?}");
    let calls: Vec<&str> = posted.gh_calls.lines().collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(calls[0].contains("PRIVATE-TOKEN: glpat-test"));
    assert!(
        calls[0].ends_with(&format!("{notes}?per_page=100&sort=asc")),
        "{}",
        calls[0]
    );
    assert!(
        calls[1].starts_with("-fsS -X POST") && calls[1].ends_with(notes),
        "{}",
        calls[1]
    );
    let note: Value = serde_json::from_str(&posted.gh_body).unwrap();
    let body = note["body"].as_str().unwrap();
    assert!(body.starts_with("<!-- docspace-provision plan -->\n### docspace-provision plan"));
    assert!(
        body.contains("1 room to create") && body.contains("Commit 0123abc"),
        "{body}"
    );
    let mut with_note = mr.to_vec();
    with_note.push(("FAKE_GH_EXISTING", "77"));
    let updated = runner.gitlab_with(&releases, &[], &with_note);
    assert_eq!(updated.code, 0, "{updated:#?}");
    let calls: Vec<&str> = updated.gh_calls.lines().collect();
    assert!(
        calls[1].starts_with("-fsS -X PUT") && calls[1].ends_with(&format!("{notes}/77")),
        "{calls:#?}"
    );

    let drift = runner.gitlab(&releases, &[("DOCSPACE_PROVISION_MODE", "drift")]);
    assert_eq!(drift.code, 2, "{drift:#?}");
    let relaxed = runner.gitlab(
        &releases,
        &[
            ("DOCSPACE_PROVISION_MODE", "drift"),
            ("FAIL_ON_DRIFT", "false"),
        ],
    );
    assert_eq!(relaxed.code, 0, "{relaxed:#?}");
    assert!(relaxed.stdout.contains("Drift: the portal differs"));

    runner.manifest(FOUR_MEMBERS);
    let apply = runner.gitlab(&releases, &[("DOCSPACE_PROVISION_MODE", "apply")]);
    assert_eq!(apply.code, 0, "{apply:#?}");
    assert!(out.join("report.json").is_file());
    runner.manifest(ONE_OF_FOUR_EXACT);
    let guarded = runner.gitlab(&releases, &[("DOCSPACE_PROVISION_MODE", "apply")]);
    assert_eq!(guarded.code, 3, "{guarded:#?}");
    assert!(
        guarded
            .stdout
            .contains("does not fully match the manifests (exit 3)")
    );

    // A broken plan is exit 1 and the artifact says there is no plan.
    runner.manifest("version: 1\nrooms: 5\n");
    let broken = runner.gitlab(&releases, &[]);
    assert_eq!(broken.code, 1, "{broken:#?}");
    let md = std::fs::read_to_string(out.join("plan.md")).unwrap();
    assert!(md.contains("The plan failed (exit 1)"), "{md}");
}

/// The targets in the release matrix.
fn release_targets(release: &Value) -> BTreeSet<String> {
    release["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn release_workflow_builds_every_archive_the_installers_download() {
    let release = yaml_docs(RELEASE).remove(0);
    let tags = &release["on"]["push"]["tags"];
    assert!(tags[0].as_str().unwrap().starts_with("v"), "{tags}");
    let targets = release_targets(&release);
    let want: BTreeSet<String> = [
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ]
    .map(String::from)
    .into();
    assert_eq!(targets, want);
    // The action and the template download exactly what the release publishes.
    let install = action_step(&action(), "Install docspace-provision")["run"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, jobs) = gitlab();
    let gitlab_install = jobs["docspace-provision-$[[ inputs.mode ]]"]["before_script"][0]
        .as_str()
        .unwrap()
        .to_string();
    for target in &targets {
        assert!(
            install.contains(&format!("target={target}")),
            "action: {target}"
        );
    }
    for target in targets.iter().filter(|t| t.contains("linux")) {
        assert!(
            gitlab_install.contains(&format!("target={target}")),
            "gitlab: {target}"
        );
    }
    for text in [&install, &gitlab_install] {
        assert!(text.contains("archive=\"docspace-provision-$target."));
        assert!(text.contains("/v$"));
        assert!(text.contains(".sha256"));
    }
    let mut scripts = Vec::new();
    strings(&release, &mut scripts);
    let scripts = scripts.join("\n");
    assert!(scripts.contains("name=\"docspace-provision-$TARGET\""));
    assert!(scripts.contains("tar -czf \"$name.tar.gz\" \"$name\""));
    assert!(scripts.contains("sha256sum \"$archive\" > \"$archive.sha256\""));
    assert!(scripts.contains("cargo publish --locked"));
    assert!(scripts.contains("cargo build --release --locked --target \"$TARGET\""));
    // The image: both architectures, the labels' build arguments passed, one tag joining them.
    let image = &release["jobs"]["image"];
    let arches: Vec<&str> = image["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["arch"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"]);
    let build = image["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "build")
        .unwrap();
    let args = build["with"]["build-args"].as_str().unwrap();
    assert!(
        args.contains("VERSION=") && args.contains("SOURCE="),
        "{args}"
    );
    assert!(scripts.contains("docker buildx imagetools create"));
    for cmd in command_lines(RELEASE, std::slice::from_ref(&release)) {
        accepted(RELEASE, &cmd);
    }
    // The CI workflow parses and drives the action from this checkout.
    let ci = yaml_docs(".github/workflows/ci.yml").remove(0);
    let steps = ci["jobs"]["action"]["steps"].as_array().unwrap();
    let modes: Vec<&str> = steps
        .iter()
        .filter(|s| s["uses"] == "./")
        .map(|s| s["with"]["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, ["apply", "drift"]);
}

#[test]
fn dockerfile_is_multi_stage_static_non_root_and_labelled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(
        froms[0].starts_with("FROM rust:${RUST_VERSION}-alpine"),
        "{}",
        froms[0]
    );
    // The builder's Rust is pinned to a full version, at least the crate's rust-version.
    let pinned = lines
        .iter()
        .find_map(|l| l.strip_prefix("ARG RUST_VERSION="))
        .expect("pinned Rust version");
    assert_eq!(pinned.split('.').count(), 3, "{pinned}");
    let msrv: Vec<u32> = env!("CARGO_PKG_RUST_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap())
        .collect();
    let have: Vec<u32> = pinned.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(have[..2] >= msrv[..2], "{pinned} < {msrv:?}");
    assert_eq!(froms[1], "FROM scratch AS runtime");
    let runtime = &text[text.find("FROM scratch").unwrap()..];
    for label in [
        "org.opencontainers.image.version=\"${VERSION}\"",
        "org.opencontainers.image.source=\"${SOURCE}\"",
        "org.opencontainers.image.licenses=\"MIT OR Apache-2.0\"",
    ] {
        assert!(runtime.contains(label), "{label}");
    }
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .unwrap();
    assert!(
        !user.starts_with('0') && !user.starts_with("root"),
        "{user}"
    );
    assert!(runtime.contains("COPY --from=build /etc/ssl/certs/ca-certificates.crt"));
    assert_eq!(
        lines
            .iter()
            .rev()
            .find(|l| l.starts_with("ENTRYPOINT"))
            .unwrap(),
        &"ENTRYPOINT [\"/usr/local/bin/docspace-provision\"]"
    );
    assert!(text.contains("cargo build --release --locked --bin docspace-provision"));
    // The build context holds only what the build copies; the COPY sources are all let in.
    let ignore = std::fs::read_to_string(root.join(".dockerignore")).unwrap();
    let allowed: Vec<&str> = ignore
        .lines()
        .filter_map(|l| l.strip_prefix('!'))
        .map(|l| l.trim_end_matches('/'))
        .collect();
    assert!(ignore.lines().any(|l| l == "*"), "everything else excluded");
    for line in lines
        .iter()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[1..words.len() - 1] {
            assert!(
                allowed.contains(source),
                "{source} is not in the build context"
            );
        }
    }
}

/// Runs `cargo` from the toolchain running the tests, offline.
fn cargo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TERM_COLOR", "never")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn crate_package_ships_code_and_docs_only() {
    let (ok, stdout, stderr) = cargo(&["package", "--list", "--allow-dirty", "--offline"]);
    assert!(ok, "{stderr}");
    let files: BTreeSet<PathBuf> = stdout.lines().map(PathBuf::from).collect();
    for must in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "CHANGELOG.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "src/main.rs",
        "src/lib.rs",
        "examples/rooms.yaml",
        "schemas/manifest.schema.json",
    ] {
        assert!(
            files.contains(Path::new(must)),
            "{must} missing: {files:#?}"
        );
    }
    for file in &files {
        let s = file.to_string_lossy();
        assert!(
            !(s.starts_with("tests/")
                || s.starts_with("benches/")
                || s.starts_with("tools/")
                || s.starts_with(".ci/")
                || s.starts_with(".github/")
                || s.starts_with("examples/ci/")
                || s.starts_with("templates/")
                || s.starts_with("target/")
                || s == "action.yml"
                || s == "Dockerfile"),
            "{s} should not be packaged"
        );
    }
    // No shipped document or example holds an API key (`sk-` and 64 hex digits), not even a
    // sample one (the code's unit tests use an obviously fake one to test redaction).
    for file in files
        .iter()
        .filter(|f| f.extension().is_none_or(|e| e != "rs"))
    {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (at, _) in text.match_indices("sk-") {
            let tail = &text[at + 3..];
            let hex = tail.chars().take_while(char::is_ascii_hexdigit).count();
            assert!(hex < 64, "{} holds an API key at byte {at}", file.display());
        }
    }
}

#[test]
fn crate_metadata_and_changelog_promise() {
    let (ok, stdout, stderr) = cargo(&[
        "metadata",
        "--no-deps",
        "--offline",
        "--format-version",
        "1",
    ]);
    assert!(ok, "{stderr}");
    let meta: Value = serde_json::from_str(&stdout).unwrap();
    let pkg = &meta["packages"][0];
    for field in [
        "description",
        "repository",
        "license",
        "readme",
        "rust_version",
    ] {
        assert!(
            pkg[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}"
        );
    }
    let keywords = pkg["keywords"].as_array().unwrap();
    assert!(!keywords.is_empty() && keywords.len() <= 5, "{keywords:?}");
    for k in keywords {
        let k = k.as_str().unwrap();
        assert!(
            k.len() <= 20
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
    // crates.io's category slugs (a wrong one makes `cargo publish` fail).
    for c in pkg["categories"].as_array().unwrap() {
        assert!(
            ["command-line-utilities", "config", "development-tools"]
                .contains(&c.as_str().unwrap()),
            "{c}"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains("## [Unreleased]"));
    assert!(changelog.contains("keepachangelog.com"));
    for promise in [
        "**CLI**",
        "**Exit codes**",
        "**Manifest format**",
        "**JSON formats**",
    ] {
        assert!(changelog.contains(promise), "{promise}");
    }
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(root.join(license).is_file());
    }
}
