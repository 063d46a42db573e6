//! Time-boxed access (`expires:` on an invitee) through the real binary against a sandbox:
//! before the moment the member is ensured, from the moment on the plan removes them with the
//! moment as the reason and never invites them again, and `plan` warns in every format about
//! memberships that end within the window (`--expiring-within`, default 14 days).

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::common::Portal;

const UMA: &str = "5a4db0c5-0000-4000-8000-000000000004";

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({filters => vec![
        (r#""fingerprint": "[0-9a-f]{16}""#, r#""fingerprint": "[FP]""#),
        (r#""manifest_hash": "sha256:[0-9a-f]{64}""#, r#""manifest_hash": "[HASH]""#),
        (r#""desired_digest": "sha256:[0-9a-f]{64}""#, r#""desired_digest": "[HASH]""#),
        (r#""planned_at": "[^"]+""#, r#""planned_at": "[MOMENT]""#),
        (r#""expires": "[0-9T:.Z-]+""#, r#""expires": "[MOMENT]""#),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "[MOMENT]"),
        (r#""at": "[^"]+""#, r#""at": "[MOMENT]""#),
        (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[UUID]"),
    ]}, {
        insta::assert_snapshot!(name, text);
    });
}

/// A moment `days` from now, as a manifest writes a date and time with an offset.
fn in_days(days: i64) -> String {
    (Utc::now() + Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

fn contract(uma_expires: &str) -> String {
    format!(
        "version: 1
rooms:
  - title: Contract
    type: custom
    invitees:
      - email: uma.user@sandbox.test
        access: editing
        expires: {uma_expires}
      - email: temp.contractor@example.com
        access: read
        expires: 2020-01-31
"
    )
}

fn members(state: &Value, title: &str) -> Vec<String> {
    let room = state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == title)
        .unwrap();
    room["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_invitee_is_removed_and_not_re_added() {
    let portal = Portal::start().await;
    // Before the moment: Uma is ensured; the contractor whose access already ended is never
    // invited (no guest account is made).
    let path = portal.manifest(&contract(&in_days(30)));
    let (run, report) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let subjects: Vec<&str> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["uma.user@sandbox.test"], "{report:#}");
    let state = portal.state();
    assert!(members(&state, "Contract").iter().any(|m| m.contains(UMA)));
    assert!(
        !state.to_string().contains("temp.contractor@example.com"),
        "an expired invitee must not get an account"
    );

    // From the moment on: the plan removes Uma and says why.
    let path = portal.manifest(&contract("2021-06-30T17:00:00+02:00"));
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("- remove uma.user@sandbox.test (was editing; expired 2021-06-30 15:00 UTC)"),
        "{}",
        plan.stdout
    );
    snapshot("expired_plan", &portal.scrub(&plan.stdout));
    let json = portal.run(&["plan", path.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    let item = &json["rooms"][0]["items"][0];
    assert_eq!(item["action"], "remove", "{json:#}");
    assert_eq!(
        item["reason"]["expired"]["at"], "2021-06-30T15:00:00Z",
        "{json:#}"
    );

    let (run, report) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let remove = &report["entries"][0];
    assert_eq!(remove["action"], "remove", "{report:#}");
    assert_eq!(remove["status"], "applied", "{report:#}");
    assert!(
        !members(&portal.state(), "Contract")
            .iter()
            .any(|m| m.contains(UMA))
    );

    // The next apply neither re-invites nor writes anything.
    portal.reset_stats().await;
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
    assert!(
        !members(&portal.state(), "Contract")
            .iter()
            .any(|m| m.contains(UMA))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn memberships_expiring_soon_are_warned_about_in_every_format() {
    let portal = Portal::start().await;
    let manifest = format!(
        "version: 1
rooms:
  - title: Audit
    type: custom
    invitees:
      - email: uma.user@sandbox.test
        access: read
        expires: {}
      - group: marketing
        access: read
        expires: {}
      - email: gus.guest@sandbox.test
        access: read
",
        in_days(3),
        in_days(30)
    );
    let path = portal.manifest(&manifest);
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The apply output already warns (a scheduled apply announces it too).
    assert!(
        run.stderr.contains("Warning: 1 membership expires"),
        "{}",
        run.stderr
    );

    // In step, and still warned about: the 3-day membership, not the 30-day one.
    let mut shown = String::new();
    for format in ["text", "markdown", "json"] {
        let run = portal.run(&[
            "plan",
            path.to_str().unwrap(),
            "--format",
            format,
            "--detailed-exitcode",
        ]);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("uma.user@sandbox.test"),
            "{format}: {}",
            run.stdout
        );
        assert!(
            !run.stdout.contains("Marketing"),
            "{format}: {}",
            run.stdout
        );
        shown.push_str(&format!("--- {format}\n{}", run.stdout));
    }
    snapshot("expiring_all_formats", &portal.scrub(&shown));

    // A wider window includes the 30-day membership; a zero window none.
    let wide = portal.run(&["plan", path.to_str().unwrap(), "--expiring-within", "45"]);
    assert!(
        wide.stdout.contains("Warning: 2 memberships expire"),
        "{}",
        wide.stdout
    );
    let none = portal.run(&["plan", path.to_str().unwrap(), "--expiring-within", "0"]);
    assert!(!none.stdout.contains("Warning"), "{}", none.stdout);
    let json = portal.run(&[
        "plan",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--expiring-within",
        "0",
    ]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(json.get("expiring").is_none(), "{json:#}");
    let json = portal.run(&["plan", path.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["expiring"]["within_days"], 14, "{json:#}");
    assert_eq!(
        json["expiring"]["memberships"][0]["subject"],
        "uma.user@sandbox.test"
    );
}

/// Issue 20: a link whose `expires:` has passed is left alone with a note: no error from
/// `validate`, `plan` or `apply`, no write (a write would drop a past expiry from an external
/// link and open it again), and `links_exact` does not revoke it.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_link_is_left_alone_with_a_note_and_nothing_refuses_the_manifest() {
    let portal = Portal::start().await;
    let manifest = |old_expires: &str| {
        format!(
            "version: 1
rooms:
  - title: Links
    type: custom
    links_exact: true
    links:
      - title: Old
        kind: external
        access: read
        expires: {old_expires}
      - title: Gone
        kind: external
        access: read
        expires: 2020-01-01
"
        )
    };
    // The link is made while its moment is ahead; the one already past is never created.
    let path = portal.manifest(&manifest(&in_days(30)));
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let titles = |state: &Value| -> Vec<String> {
        crate::common::state_room(state, "Links")["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles(&portal.state()), ["Old"]);

    // The manifest's moment passes while the portal's link is still open: left as it is,
    // and the plan says so (it cannot set a past expiry; `access: none` revokes).
    let path = portal.manifest(&manifest("2021-03-01T12:00:00Z"));
    let validate = crate::common::run(["validate", path.to_str().unwrap()]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("link \"Old\" expired 2021-03-01 12:00 UTC in the manifest, but the portal's link is still open"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("link \"Gone\" expired 2020-01-01 00:00 UTC: not created"),
        "{}",
        plan.stdout
    );
    portal.reset_stats().await;
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);

    // The portal's link has expired too (a sandbox whose link ran out): still no write and
    // no revoke under `links_exact`, and the note says the server no longer honours it.
    let mut state = portal.state();
    for room in state["rooms"].as_array_mut().unwrap() {
        for link in room["links"].as_array_mut().into_iter().flatten() {
            link["expiration"] = Value::String("2021-03-01T12:00:00Z".into());
        }
    }
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    let expired = Portal::seeded(crate::common::quick(), move |s| *s = state).await;
    let path = expired.manifest(&manifest("2021-03-01T12:00:00Z"));
    let plan = expired.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("link \"Old\" expired 2021-03-01 12:00 UTC: left as it is (the server no longer honours it"),
        "{}",
        plan.stdout
    );
    let json = expired.run(&["plan", path.to_str().unwrap(), "--format", "json"]);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    let note = &json["rooms"][0]["notes"][0]["note"];
    assert_eq!(note["why"], "expired", "{json:#}");
    assert_eq!(note["live"], "expired", "{json:#}");
    expired.reset_stats().await;
    let (run, _) = expired.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(expired.stats().await["writes"], 0);
    let after = expired.state();
    let link = &crate::common::state_room(&after, "Links")["links"][0];
    assert_eq!(link["title"], "Old");
    assert_eq!(link["expiration"], "2021-03-01T12:00:00Z");
}

/// Issue 20 (smaller): the key's own user with a past `expires:` is kept, and the plan says
/// why instead of a bare "No changes"; an expired invitee who is not a member is not silently
/// skipped either.
#[tokio::test(flavor = "multi_thread")]
async fn a_kept_key_user_and_an_expired_non_member_are_noted() {
    let portal = Portal::start().await;
    let path = portal.manifest(
        "version: 1\nrooms:\n  - title: Board\n    type: custom\n    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n",
    );
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let path = portal.manifest(
        "version: 1\nrooms:\n  - title: Board\n    type: custom\n    invitees:\n      - email: uma.user@sandbox.test\n        access: read\n      - email: admin@sandbox.test\n        access: room-manager\n        expires: 2020-01-01\n      - email: temp.contractor@example.com\n        access: read\n        expires: 2020-01-31\n",
    );
    let plan = portal.run(&["plan", path.to_str().unwrap(), "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    for line in [
        "admin@sandbox.test: `expires` passed 2020-01-01 00:00 UTC, but the membership is kept: the tool never removes the API key's own user",
        "temp.contractor@example.com: `expires` passed 2020-01-31 00:00 UTC; not a member, so nothing to remove (and not invited again)",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    portal.reset_stats().await;
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
}

/// Issue 20: durations and dates from the command line or a manifest are parsed with checked
/// arithmetic: far too big is a clear error (exit 1), a far but valid date plans, and nothing
/// panics (exit 101).
#[tokio::test(flavor = "multi_thread")]
async fn huge_durations_and_far_dates_are_errors_or_plans_never_panics() {
    for (args, says) in [
        (
            vec!["apply", "x.yaml", "--resend-pending=9999999999999999w"],
            "too long an age",
        ),
        (
            vec![
                "apply",
                "x.yaml",
                "--resend-pending=99999999999999999999999d",
            ],
            "too long an age",
        ),
        (
            vec!["plan", "x.yaml", "--expiring-within", "99999999999"],
            "--expiring-within",
        ),
        (
            vec!["apply", "x.yaml", "--expiring-within", "4000"],
            "--expiring-within",
        ),
        (
            vec!["plan", "x.yaml", "--timeout", "99999999999999999999"],
            "--timeout",
        ),
    ] {
        let run = crate::common::run(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
    let portal = Portal::start().await;
    let far = "version: 1
rooms:
  - title: Far
    type: custom
    invitees:
      - email: uma.user@sandbox.test
        access: read
        expires: 9999-12-31T23:59:59Z
      - email: gus.guest@sandbox.test
        access: read
        expires: -262143-01-01
";
    let path = portal.manifest(far);
    for args in [
        vec!["plan", path.to_str().unwrap()],
        vec!["plan", path.to_str().unwrap(), "--expiring-within", "3650"],
    ] {
        let run = portal.run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
    }
    let (run, _) = portal.apply(
        &path,
        &["--resend-pending=3650d", "--expiring-within", "3650"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // Beyond what a date can hold: "not a date", located.
    let path = portal.manifest(&far.replace("9999-12-31T23:59:59Z", "+262144-01-01"));
    let run = crate::common::run(["validate", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is not a date"), "{}", run.stderr);
}

/// Issue 20: durations in response headers are hostile input too. A `Retry-After` far beyond
/// any clock (a huge number, `1e300`, an HTTP date in the year 9999) or a huge
/// `X-RateLimit-Reset` ends the run with a clear error at once, never a panic.
#[tokio::test(flavor = "multi_thread")]
async fn huge_header_durations_are_an_error_not_a_panic() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("rooms.yaml");
    std::fs::write(
        &manifest,
        "version: 1\nrooms:\n  - title: A\n    type: custom\n",
    )
    .unwrap();
    for (name, value) in [
        ("Retry-After", "99999999999999999999999999"),
        ("Retry-After", "1e300"),
        ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ("X-RateLimit-Reset", "99999999999999999999999999"),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/people/@self"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header(name, value)
                    .insert_header("X-RateLimit-Remaining", "0"),
            )
            .mount(&server)
            .await;
        let mut cmd = crate::common::bin();
        cmd.args([
            "plan",
            manifest.to_str().unwrap(),
            "--portal",
            &server.uri(),
        ])
        .env(
            "DOCSPACE_API_KEY",
            "sk-0000000000000000000000000000000000000000000000000000000000000000",
        );
        let run = tokio::task::block_in_place(|| crate::common::run_cmd(&mut cmd));
        assert_eq!(run.code, 1, "{name}: {value}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}
