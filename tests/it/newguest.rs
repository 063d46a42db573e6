//! No surprise emails (issue 20 item 7), through the real binary against the sandbox: an
//! email with no account that is a near miss of an existing account's is a plan error with
//! "did you mean" unless the invitee says `new_account: true`; a misspelt group name gets a
//! suggestion too; `--no-new-guests` and `defaults: {new_guests: false}` refuse every new
//! guest account. None of these refusals writes anything.

use serde_json::Value;

use crate::common::Portal;

fn users(state: &Value) -> Vec<String> {
    state["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap_or_default().to_lowercase())
        .collect()
}

fn room(invitees: &str) -> String {
    format!("version: 1\nrooms:\n  - title: Team\n    type: custom\n    invitees:\n{invitees}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_near_miss_email_is_a_plan_error_with_did_you_mean_until_marked_new() {
    let portal = Portal::start().await;
    let typo = room(
        "      - email: uma.usr@sandbox.test\n        access: read\n      - email: gus.guest@sandbox.tset\n        access: read\n      - email: someone.else@example.com\n        access: read\n",
    );
    let plan = portal.plan(&typo, &[]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    for text in [
        "portal::new_guest_near_miss",
        "did you mean `uma.user@sandbox.test`?",
        "did you mean `gus.guest@sandbox.test`?",
        "rooms.yaml:6:16",
        "new_account: true",
    ] {
        assert!(plan.stderr.contains(text), "{text}\n{}", plan.stderr);
    }
    // A real newcomer at another domain is not a near miss.
    assert!(!plan.stderr.contains("someone.else"), "{}", plan.stderr);

    portal.reset_stats().await;
    let path = portal.manifest(&typo);
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
    assert!(!users(&portal.state()).contains(&"uma.usr@sandbox.test".to_string()));

    // `new_account: true` settles it: the guest account is planned and made.
    let meant = room(
        "      - email: uma.usr@sandbox.test\n        access: read\n        new_account: true\n",
    );
    let plan = portal.plan(&meant, &["--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("new guest"), "{}", plan.stdout);
    let path = portal.manifest(&meant);
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(users(&portal.state()).contains(&"uma.usr@sandbox.test".to_string()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelt_group_gets_a_suggestion() {
    let portal = Portal::start().await;
    let plan = portal.plan(
        &room("      - group: Marketng\n        access: read\n"),
        &[],
    );
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr
            .contains("the portal has no group named `Marketng`"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr.contains("did you mean `Marketing`?"),
        "{}",
        plan.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_new_guests_refuses_every_new_account_by_flag_or_manifest() {
    let portal = Portal::start().await;
    let invitees = "      - email: uma.user@sandbox.test\n        access: read\n      - email: new.one@example.com\n        access: read\n        new_account: true\n      - email: other.one@example.com\n        access: read\n";
    let manifest = room(invitees);
    let by_setting = format!(
        "version: 1\ndefaults:\n  new_guests: false\nrooms:\n  - title: Team\n    type: custom\n    invitees:\n{invitees}"
    );
    let flag = portal.plan(&manifest, &["--no-new-guests"]);
    let setting = portal.plan(&by_setting, &[]);
    for run in [&flag, &setting] {
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("portal::new_guest_refused"),
            "{}",
            run.stderr
        );
        // Each such invitee is named, `new_account: true` or not; existing accounts are fine.
        assert!(
            run.stderr.contains("`new.one@example.com` has no account"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("`other.one@example.com` has no account"),
            "{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("`uma.user@sandbox.test`"),
            "{}",
            run.stderr
        );
    }
    portal.reset_stats().await;
    let path = portal.manifest(&manifest);
    let (run, _) = portal.apply(&path, &["--no-new-guests"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
    let path = portal.manifest(&by_setting);
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(portal.stats().await["writes"], 0);
    // Without new guests in the manifest the setting changes nothing.
    let plan = portal.plan(
        &by_setting.replace(
            "      - email: new.one@example.com\n        access: read\n        new_account: true\n      - email: other.one@example.com\n        access: read\n",
            "",
        ),
        &["--no-new-guests"],
    );
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
}
