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
