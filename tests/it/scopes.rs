//! API-key scopes through the real binary against a sandbox running with a restricted key
//! (`--key-scopes`): every command either succeeds or fails before any write, naming the
//! missing scope; `doctor` says per command whether the key can run it.

use crate::common::{Portal, quick};
use docspace_provision::cli::FaultArgs;

/// The scopes the book documents for plan, apply (with --prune) and export.
const MINIMAL: &[&str] = &[
    "accounts.self:read",
    "rooms:write",
    "accounts:read",
    "files:read",
];

async fn restricted(scopes: &[&str]) -> Portal {
    Portal::with(FaultArgs {
        key_scopes: scopes.iter().map(|s| s.to_string()).collect(),
        ..quick()
    })
    .await
}

const TWO_ROOMS: &str = "version: 1
managed_tag: provisioned
manifest_set: [rooms.yaml]
rooms:
  - title: Scoped One
    type: collaboration
    invitees:
      - email: scoped.person@example.com
        access: editing
  - title: Scoped Two
    type: custom
";

const ONE_ROOM: &str = "version: 1
managed_tag: provisioned
manifest_set: [rooms.yaml]
rooms:
  - title: Scoped One
    type: collaboration
    invitees:
      - email: scoped.person@example.com
        access: editing
";

#[tokio::test(flavor = "multi_thread")]
async fn with_the_minimal_scopes_every_command_succeeds_or_fails_before_writing() {
    let portal = restricted(MINIMAL).await;
    let two = portal.manifest(TWO_ROOMS);

    // validate needs no portal.
    let run = crate::common::run(["validate", two.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    let run = portal.run(&["plan", two.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);

    let (run, _) = portal.apply(&two, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // The apply did its work with these scopes: planning again is clean.
    let run = portal.run(&["plan", two.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The same file without the second room.
    let one = portal.manifest(ONE_ROOM);
    // --prune archives the dropped room and polls the operation (files:read).
    let (run, report) = portal.apply(&one, &["--prune", "--allow-removals"]);
    assert_eq!(run.code, 0, "{}\n{}\n{report:#}", run.stdout, run.stderr);
    assert_eq!(
        crate::common::state_room(&portal.state(), "Scoped Two")["archived"],
        true
    );

    let run = portal.run(&["export"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("Scoped One"), "{}", run.stdout);

    // doctor (read-only) runs; it cannot read the version (*:read) and says so as a warning.
    let run = portal.run(&["doctor"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // Resends go through the room's route (rooms:write): no accounts:write needed.
    let (run, _) = portal.apply(&one, &["--resend-pending"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // The commands this key cannot finish are refused before any write, naming the scope.
    portal.reset_stats().await;
    let run = portal.run(&["doctor", "--scratch"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("lacks the scope files:write"),
        "{}",
        run.stderr
    );
    let stats = portal.stats().await;
    assert_eq!(stats["writes"], 0, "{stats:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_star_without_self_read_fails_plan_naming_accounts_self_read() {
    let portal = restricted(&[
        "rooms:read",
        "rooms:write",
        "accounts:read",
        "accounts:write",
        "files:read",
    ])
    .await;
    let run = portal.plan(TWO_ROOMS, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("lacks the scope accounts.self:read"),
        "{}",
        run.stderr
    );
    let stats = portal.stats().await;
    // Only the key's own record was read.
    assert_eq!(stats["total"], 1, "{stats:#}");
    assert_eq!(stats["writes"], 0, "{stats:#}");
    let run = portal.run(&["export"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("accounts.self:read"), "{}", run.stderr);
}

#[test]
fn the_embedded_sandbox_takes_its_key_scopes_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let portal = format!("sandbox:{}", dir.path().join("s.json").display());
    let mut cmd = crate::common::bin();
    cmd.args(["plan", "examples/rooms.yaml", "--portal", &portal])
        .env("DOCSPACE_SANDBOX_KEY_SCOPES", "rooms:write,accounts:read");
    let run = crate::common::run_cmd(&mut cmd);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("lacks the scope accounts.self:read"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_says_per_command_whether_the_key_can_run_it() {
    let portal = restricted(MINIMAL).await;
    let run = portal.run(&["doctor", "--format", "json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let find = |id: &str| {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    // The version needs *:read: a warning, not a failure.
    let version = find("portal");
    assert_eq!(version["status"], "warn", "{version:#}");
    assert!(version["message"].as_str().unwrap().contains("*:read"));
    let check = &find("key-scopes");
    assert_eq!(check["status"], "warn", "{check:#}");
    let message = check["message"].as_str().unwrap();
    for line in [
        "validate: yes",
        "plan: yes",
        "apply: yes, except groups as code (`groups:`) (missing accounts:write)",
        "apply --prune: yes",
        "apply --resend-pending: yes",
        "export: yes",
        "doctor: yes",
        "doctor --scratch: no, missing files:write",
        "doctor --scratch --invite-probe: no, missing files:write",
    ] {
        assert!(message.contains(line), "{line}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_scope_is_an_empty_403_or_a_bare_problem_document() {
    // The sandbox refuses a call the way the server does.
    let portal = restricted(MINIMAL).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |path: &str| {
        http.get(portal.url(path))
            .bearer_auth(&portal.handle.api_key)
            .send()
    };
    let version = get("/api/2.0/settings/version/build").await.unwrap();
    assert_eq!(version.status(), 403);
    assert_eq!(version.text().await.unwrap(), "");
    let key = get("/api/2.0/keys/@self").await.unwrap();
    assert_eq!(key.status(), 200);
    let key: serde_json::Value = key.json().await.unwrap();
    assert_eq!(key["response"]["permissions"][0], "accounts.self:read");
    // createBy is the short profile (EmployeeDto): no email.
    assert!(key["response"]["createBy"]["email"].is_null(), "{key:#}");
    assert!(key["response"]["createBy"]["displayName"].is_string());

    let only_rooms = restricted(&["accounts.self:read", "rooms:write"]).await;
    let ops = http
        .get(only_rooms.url("/api/2.0/files/fileops"))
        .bearer_auth(&only_rooms.handle.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(ops.status(), 403);
    let problem: serde_json::Value = ops.json().await.unwrap();
    assert_eq!(problem["status"], 403);
    assert!(problem.get("response").is_none());
}

/// A key with only what a lean manifest needs: its own profile and rooms.
const LEAN_KEY: &[&str] = &["accounts.self:read", "rooms:write"];

/// Issue 22: the scopes a run asks for follow what its manifest and its plan need. A key
/// without `accounts:read` and `files:read` applies a manifest with no invitees and no
/// archive; the same key is refused, before any write and naming the scope, a manifest with
/// an invitee by email (people lookups: `accounts:read`) or one that archives a room (the
/// operation is polled: `files:read`, known only once the plan is made).
#[tokio::test(flavor = "multi_thread")]
async fn the_scopes_asked_for_follow_the_manifest_and_the_plan() {
    let portal = restricted(LEAN_KEY).await;
    let lean = portal.manifest(
        "version: 1
rooms:
  - title: Lean Room
    type: custom
    color: 1b6ca8
",
    );
    let (run, report) = portal.apply(&lean, &[]);
    assert_eq!(run.code, 0, "{}\n{}\n{report:#}", run.stdout, run.stderr);
    assert!(
        crate::common::state_room(&portal.state(), "Lean Room").is_object(),
        "created"
    );

    let cases = [
        (
            "version: 1
rooms:
  - title: Lean Room
    type: custom
    color: 1b6ca8
    invitees:
      - email: lean.person@example.com
        access: read
",
            "accounts:read, which this run needs for invitees by `email:`",
        ),
        (
            "version: 1
rooms:
  - title: Lean Room
    type: custom
    color: 1b6ca8
    state: archived
",
            "files:read, which this run needs for archiving or unarchiving a room",
        ),
    ];
    for (manifest, scope) in cases {
        portal.reset_stats().await;
        let path = portal.manifest(manifest);
        let (run, _) = portal.apply(&path, &["--allow-removals"]);
        assert_eq!(run.code, 1, "{scope}: {}\n{}", run.stdout, run.stderr);
        let said = run.stderr.replace('│', " ");
        let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            said.contains("the API key cannot run `apply`")
                && said.contains(&format!("lacks the scope {scope}")),
            "{scope}: {said}"
        );
        let stats = portal.stats().await;
        assert_eq!(stats["writes"], 0, "{scope}: {stats:#}");
    }
    assert_eq!(
        crate::common::state_room(&portal.state(), "Lean Room")["archived"],
        false
    );
    // `plan` only reads: the archive needs nothing more of it, the email lookup does.
    let plan = portal.plan(cases[1].0, &[]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let plan = portal.plan(cases[0].0, &[]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stderr.contains("lacks the scope accounts:read"),
        "{}",
        plan.stderr
    );
}

const LINKED: &str = "version: 1
rooms:
  - title: Linked
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
        password_env: SCOPES_TEST_PW
";

/// Issue 22: the policy reads are rows of the scope table. A key that may not read the
/// password policy (`*:read`) or the link restrictions (`files:read`) gets the server's
/// default with one warning each, and the plan goes on; `doctor` names those reads.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_that_cannot_read_the_policies_gets_the_defaults_with_a_warning() {
    for (scopes, warned) in [
        (MINIMAL, vec!["password policy"]),
        (LEAN_KEY, vec!["password policy", "link-sharing settings"]),
    ] {
        let portal = restricted(scopes).await;
        let path = portal.manifest(LINKED);
        let mut cmd = crate::common::bin();
        cmd.args(["plan", path.to_str().unwrap(), "--portal"])
            .arg(portal.handle.base_url.as_str())
            .env("DOCSPACE_API_KEY", &portal.handle.api_key)
            .env("SCOPES_TEST_PW", "Long-enough-9");
        let run = tokio::task::block_in_place(|| crate::common::run_cmd(&mut cmd));
        assert_eq!(run.code, 0, "{scopes:?}: {}\n{}", run.stdout, run.stderr);
        for what in ["password policy", "link-sharing settings"] {
            let count = run
                .stderr
                .matches(&format!("could not read the portal's {what}"))
                .count();
            let expected = usize::from(warned.contains(&what));
            assert_eq!(count, expected, "{scopes:?} {what}: {}", run.stderr);
        }
        assert!(!run.stderr.contains("Long-enough-9"));

        let doctor = portal.run(&["doctor", "--format", "json"]);
        let json: serde_json::Value = serde_json::from_str(&doctor.stdout).unwrap();
        let message = json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "key-scopes")
            .unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains(
                "the portal's password policy (read when a link names `password_env`): not \
                 readable, missing *:read (the server's default is assumed)"
            ),
            "{message}"
        );
        assert_eq!(
            message.contains("the portal's link restrictions"),
            warned.contains(&"link-sharing settings"),
            "{message}"
        );
    }
}

/// What the table-driven test sets up: one portal, prepared with a full key, whose state
/// each case copies into a sandbox running with a restricted key. The manifests hold a
/// `people:` entry, so that `apply`'s documented `accounts:write` is needed by the run.
const PREPARED: &str = "version: 1
managed_tag: provisioned
manifest_set: [rooms.yaml]
people:
  - {email: nell.new@example.com, type: user}
rooms:
  - title: Scoped One
    type: custom
    color: 1b6ca8
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: stale.pending@sandbox.test
        access: read
      - group: Marketing
        access: read
    links:
      - title: Clients
        kind: external
        access: read
  - title: Scoped Two
    type: custom
";

/// The prepared manifest with a new room (email invitees) and `Scoped Two` archived.
const CHANGED: &str = "version: 1
managed_tag: provisioned
manifest_set: [rooms.yaml]
people:
  - {email: nell.new@example.com, type: user}
rooms:
  - title: Scoped One
    type: custom
    color: 1b6ca8
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: stale.pending@sandbox.test
        access: read
      - group: Marketing
        access: read
    links:
      - title: Clients
        kind: external
        access: read
  - title: Scoped Two
    type: custom
    state: archived
  - title: Scoped Three
    type: custom
    invitees:
      - email: rick.roomadmin@sandbox.test
        access: editing
";

/// The prepared manifest without `Scoped Two` (an orphan for `--prune`).
const PRUNED: &str = "version: 1
managed_tag: provisioned
manifest_set: [rooms.yaml]
people:
  - {email: nell.new@example.com, type: user}
rooms:
  - title: Scoped One
    type: custom
    color: 1b6ca8
    invitees:
      - email: uma.user@sandbox.test
        access: editing
      - email: stale.pending@sandbox.test
        access: read
      - group: Marketing
        access: read
    links:
      - title: Clients
        kind: external
        access: read
";

/// How one run of a command is made: the manifest written as `rooms.yaml` (if any), the
/// arguments (`{m}` is the manifest's path, `{p}` a saved plan of it), and whether it writes.
struct Case {
    manifest: Option<&'static str>,
    args: &'static [&'static str],
    writes: bool,
}

/// The run that exercises every call a row of `model::scopes::COMMANDS` may make. A row
/// without a case fails the test: a new command (or option) must say how it is run here.
fn case(command: &str) -> Case {
    let (manifest, args, writes): (Option<&'static str>, &'static [&'static str], bool) =
        match command {
            "validate" => (Some(CHANGED), &["validate", "{m}"], false),
            "plan" => (Some(CHANGED), &["plan", "{m}"], false),
            "apply" => (
                Some(CHANGED),
                &["apply", "{m}", "--auto-approve", "--allow-removals"],
                true,
            ),
            "apply --prune" => (
                Some(PRUNED),
                &[
                    "apply",
                    "{m}",
                    "--auto-approve",
                    "--prune",
                    "--allow-removals",
                ],
                true,
            ),
            "apply --resend-pending" => (
                Some(PREPARED),
                &["apply", "{m}", "--auto-approve", "--resend-pending"],
                true,
            ),
            "export" => (None, &["export"], false),
            "access" => (None, &["access"], false),
            "audit" => (None, &["audit", "--policy", "{policy}"], false),
            "doctor" => (None, &["doctor"], false),
            "doctor --scratch" => (None, &["doctor", "--scratch"], true),
            "doctor --scratch --invite-probe" => (
                None,
                &[
                    "doctor",
                    "--scratch",
                    "--invite-probe",
                    "probe.person@example.com",
                ],
                true,
            ),
            other => panic!(
                "tests/it/scopes.rs has no run for the scope row `{other}`: add one to `case`"
            ),
        };
    Case {
        manifest,
        args,
        writes,
    }
}

/// The prepared portal's state: `PREPARED` applied with a full key, with a pending invitee
/// whose invitation is 20 days old (for `--resend-pending`).
async fn prepared_state() -> sandbox_state::PortalState {
    let now = chrono::Utc::now();
    let portal = Portal::seeded(quick(), |s| {
        s.add_pending_user(
            "stale.pending@sandbox.test",
            now - chrono::Duration::days(20),
        );
    })
    .await;
    let path = portal.manifest(PREPARED);
    let (run, report) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}\n{}\n{report:#}", run.stdout, run.stderr);
    serde_json::from_value(portal.state()).unwrap()
}

use docspace_provision::sandbox::state as sandbox_state;

/// Runs `case` on a copy of `state` with a key holding `scopes`; returns the run and the
/// number of writes the sandbox counted.
async fn run_case(
    state: &sandbox_state::PortalState,
    case: &Case,
    scopes: &[&str],
    saved: &std::path::Path,
) -> (crate::common::Run, u64) {
    let portal = Portal::seeded(
        FaultArgs {
            key_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            ..quick()
        },
        |s| *s = state.clone(),
    )
    .await;
    let manifest = case.manifest.map(|m| portal.manifest(m));
    let policy = portal.dir.join("policy.yaml");
    std::fs::write(&policy, "policy:\n  room_managers: {min: 0, max: 50}\n").unwrap();
    // A saved plan names its portal: the copy this case runs against.
    let saved = if case.args.contains(&"--plan") {
        let mut plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(saved).unwrap()).unwrap();
        plan["portal"] = portal.handle.base_url.as_str().trim_end_matches('/').into();
        let copy = portal.dir.join("saved.json");
        std::fs::write(&copy, plan.to_string()).unwrap();
        copy
    } else {
        saved.to_path_buf()
    };
    let run_args = |args: &[&str]| {
        let args: Vec<String> = args
            .iter()
            .map(|a| match *a {
                "{m}" => manifest.as_ref().unwrap().display().to_string(),
                "{policy}" => policy.display().to_string(),
                "{p}" => saved.display().to_string(),
                a => a.to_string(),
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if args[0] == "validate" {
            tokio::task::block_in_place(|| crate::common::run(&args))
        } else {
            portal.run(&args)
        }
    };
    let run = run_args(case.args);
    let writes = portal.stats().await["writes"].as_u64().unwrap();
    (run, writes)
}

/// Issue 22, "Must show": with the scopes the book documents for a command (the scope
/// table, `model::scopes::COMMANDS`), every command succeeds; with any one of them taken
/// away, it either still succeeds (this run did not need it) or fails before any write,
/// naming the scope. Every row of the table is run; a row without a run fails.
#[tokio::test(flavor = "multi_thread")]
async fn every_command_runs_with_its_documented_scopes_and_fails_cleanly_without_each() {
    use docspace_provision::model::scopes;
    let state = prepared_state().await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.json");
    // `apply --plan` is a run of `apply`: a plan of `CHANGED`, saved with a full key.
    let save = Case {
        manifest: Some(CHANGED),
        args: &["plan", "{m}", "--out", "{p}"],
        writes: false,
    };
    let (run, _) = run_case(&state, &save, &[], &saved).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let apply_saved = (
        "apply",
        Case {
            manifest: Some(CHANGED),
            args: &[
                "apply",
                "--plan",
                "{p}",
                "--auto-approve",
                "--allow-removals",
            ],
            writes: true,
        },
    );
    let rows = scopes::COMMANDS
        .iter()
        .map(|row| (row.command, case(row.command)));
    for (command, case) in rows.chain([apply_saved]) {
        let row = scopes::command(command).unwrap();
        let minimal = row.scopes();
        let (run, writes) = run_case(&state, &case, &minimal, &saved).await;
        assert!(
            run.code == 0 || (run.code == 2 && !case.writes),
            "`{}` with {minimal:?}: exit {}\n{}\n{}",
            row.command,
            run.code,
            run.stdout,
            run.stderr
        );
        assert_eq!(
            writes > 0,
            case.writes,
            "`{}` with {minimal:?}: {writes} writes\n{}",
            row.command,
            run.stderr
        );
        let mut refused = 0;
        for gone in &minimal {
            let fewer: Vec<&str> = minimal.iter().copied().filter(|s| s != gone).collect();
            let (run, writes) = run_case(&state, &case, &fewer, &saved).await;
            if run.code == 0 || (run.code == 2 && !case.writes) {
                continue;
            }
            refused += 1;
            assert_eq!(
                run.code, 1,
                "`{}` without {gone}: {}",
                row.command, run.stderr
            );
            assert_eq!(
                writes, 0,
                "`{}` without {gone}: {}",
                row.command, run.stderr
            );
            let said = format!("{}\n{}", run.stdout, run.stderr).replace('│', " ");
            let said = said.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                said.contains(gone),
                "`{}` without {gone} does not name it: {said}",
                row.command
            );
        }
        // The documented scopes are not more than the command needs: the case needs most.
        assert!(
            minimal.is_empty() || refused + 1 >= minimal.len(),
            "`{command}`: only {refused} of {minimal:?} are needed by its run"
        );
    }
}

/// Every subcommand that talks to a portal has a row in the scope table (so the test above
/// runs it); the others never reach a portal.
#[test]
fn every_portal_command_has_a_scope_row() {
    use clap::CommandFactory;
    use docspace_provision::model::scopes;
    let offline = [
        "validate",
        "sandbox",
        "schema",
        "completions",
        "man",
        "help",
    ];
    for sub in docspace_provision::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        if offline.contains(&name) {
            continue;
        }
        assert!(
            scopes::command(name).is_some(),
            "`{name}` talks to a portal but has no row in model::scopes::COMMANDS"
        );
    }
    for row in scopes::COMMANDS {
        let _ = case(row.command);
    }
}
