//! Portal policies checked at plan time (issue 22, item 4): the portal's password policy,
//! its link restrictions and its list of covers refuse a manifest value before anything is
//! written, located in the manifest; an invitation link update keeps its use count
//! (docs/docspace-api.md, "Portal link policies").

use serde_json::Value;

use crate::common::{Portal, Run, bin, quick, run_cmd};

/// A link password of 9 characters: enough for the server's default policy, too short for a
/// portal that asks for 12. It must appear in no output.
const SHORT_PW: &str = "Qz7-pw-41";

/// Output and errors as one line of words (diagnostics wrap their messages).
fn flat(run: &Run) -> String {
    format!("{}{}", run.stdout, run.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn run_env(portal: &Portal, args: &[&str], password: &str) -> Run {
    let mut cmd = bin();
    cmd.args(args)
        .arg("--portal")
        .arg(portal.handle.base_url.as_str())
        .env("DOCSPACE_API_KEY", &portal.handle.api_key)
        .env("POLICY_TEST_PW", password);
    tokio::task::block_in_place(|| run_cmd(&mut cmd))
}

const PASSWORDED: &str = r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
        password_env: POLICY_TEST_PW
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_stricter_password_policy_refuses_a_short_link_password_at_plan_time() {
    let portal = Portal::seeded(quick(), |s| s.policy.password_min_length = 12).await;
    let manifest = portal.manifest(PASSWORDED);
    let manifest = manifest.to_str().unwrap();
    let plan = run_env(&portal, &["plan", manifest], SHORT_PW);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let out = flat(&plan);
    assert!(
        out.contains("the password in `POLICY_TEST_PW` breaks this portal's password policy, so DocSpace would refuse the link: it must have 12 to 30 characters (it has 9)"),
        "{out}"
    );
    assert!(
        out.contains("rooms.yaml:6:16") && out.contains("this link"),
        "located: {out}"
    );
    assert!(!out.contains(SHORT_PW), "the password was shown: {out}");

    portal.reset_stats().await;
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], SHORT_PW);
    assert_ne!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(
        portal.stats().await["writes"],
        0,
        "refused before any write"
    );
    assert!(!format!("{}{}", apply.stdout, apply.stderr).contains(SHORT_PW));

    // The same password on a portal with the default policy is fine.
    let default = Portal::start().await;
    let plan = run_env(&default, &["plan", manifest], SHORT_PW);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

/// A password of the right length without a capital, a digit or a special character. It
/// must appear in no output.
const PLAIN_PW: &str = "plainlowercasepw";

/// A portal whose policy asks for capitals, digits and special characters refuses, at plan
/// time and located, a link password without them, naming each rule broken and never the
/// password; before any write. A password that has them all passes.
#[tokio::test(flavor = "multi_thread")]
async fn a_password_policy_asking_for_character_classes_refuses_a_plain_password_at_plan_time() {
    let portal = Portal::seeded(quick(), |s| {
        s.policy.password_upper_case = true;
        s.policy.password_digits = true;
        s.policy.password_spec_symbols = true;
    })
    .await;
    let manifest = portal.manifest(PASSWORDED);
    let manifest = manifest.to_str().unwrap();
    let plan = run_env(&portal, &["plan", manifest], PLAIN_PW);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(!plan.stdout.contains(PLAIN_PW) && !plan.stderr.contains(PLAIN_PW));
    insta::assert_snapshot!("password_policy_classes_plan", portal.scrub(&plan.stderr));

    portal.reset_stats().await;
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], PLAIN_PW);
    assert_ne!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(
        portal.stats().await["writes"],
        0,
        "refused before any write"
    );
    assert!(!format!("{}{}", apply.stdout, apply.stderr).contains(PLAIN_PW));

    // Only the missing class is named.
    let plan = run_env(&portal, &["plan", manifest], "plainlowercase-7");
    let out = flat(&plan);
    assert_eq!(plan.code, 1, "{out}");
    assert!(out.contains("it must have a capital letter"), "{out}");
    // The help line names the whole policy; the message only the rule broken.
    assert_eq!(out.matches("a digit").count(), 1, "{out}");
    assert!(!out.contains("a special character such"), "{out}");

    let apply = run_env(
        &portal,
        &["apply", manifest, "--auto-approve"],
        "Plain-lower-7",
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
}

/// The sandbox refuses, as the server's `CheckPassword` does, a link password that lacks a
/// class the policy asks for, with the server's message naming every class asked.
#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_refuses_a_link_password_without_the_classes_its_policy_asks_for() {
    let portal = Portal::seeded(quick(), |s| {
        s.policy.password_upper_case = true;
        s.policy.password_digits = true;
        s.policy.password_spec_symbols = true;
    })
    .await;
    let policy = portal
        .call(
            reqwest::Method::GET,
            "/api/2.0/settings/security/password",
            None,
        )
        .await;
    assert_eq!(policy["response"]["upperCase"], true);
    assert_eq!(policy["response"]["digits"], true);
    assert_eq!(policy["response"]["specSymbols"], true);
    let room = portal.create_room("Partner", 5).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let put = |password: &str| {
        let req = client
            .put(portal.url(&format!("/api/2.0/files/rooms/{room}/links")))
            .bearer_auth(&portal.handle.api_key)
            .json(&serde_json::json!({
                "linkId": "44444444-4444-4444-8444-444444444444",
                "linkType": 1, "access": 2, "title": "L", "password": password,
            }));
        async move { req.send().await.unwrap() }
    };
    for refused in ["abcdefgh1-", "ABCDEFGHi-", "Abcdefgh12"] {
        let answer = put(refused).await;
        assert_eq!(answer.status(), 400, "{refused}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(
            body["error"]["message"],
            "Password must contain from 8 to 30 characters, only latin letters, no spaces, \
             capital letters, digits, special characters",
            "{refused}"
        );
    }
    assert_eq!(put("Abcdefgh1-").await.status(), 200);
}

const COVERED: &str = r#"version: 1
rooms:
  - title: Deal room
    type: custom
    color: '#1B6CA8'
    cover: no_such_cover
"#;

/// Before: a bad cover passed `plan` and failed in the middle of `apply`, taking the colour
/// of the same update down with it.
#[tokio::test(flavor = "multi_thread")]
async fn a_cover_the_portal_does_not_have_is_refused_by_plan_before_any_write() {
    let portal = Portal::start().await;
    let manifest = portal.manifest(COVERED);
    let plan = portal.plan(COVERED, &[]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let out = flat(&plan);
    assert!(
        out.contains("`cover: no_such_cover` is not one of this portal's covers"),
        "{out}"
    );
    assert!(
        out.contains("rooms.yaml:6:5") && out.contains("this cover"),
        "located at the key: {out}"
    );
    portal.reset_stats().await;
    let (run, _) = portal.apply(&manifest, &[]);
    assert_ne!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        portal.stats().await["writes"],
        0,
        "refused before any write"
    );
    // A good cover plans as before.
    let good = portal.plan(&COVERED.replace("no_such_cover", "book_open"), &[]);
    assert_eq!(good.code, 0, "{}\n{}", good.stdout, good.stderr);
}

const PUBLIC: &str = r#"version: 1
rooms:
  - title: Press kit
    type: public
    links:
      - title: Press
        kind: external
        access: read
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
        internal: false
"#;

#[tokio::test(flavor = "multi_thread")]
async fn restricted_links_refuse_a_public_room_link_and_internal_false_at_plan_time() {
    let portal = Portal::seeded(quick(), |s| s.policy.links_restricted = true).await;
    let plan = portal.plan(PUBLIC, &[]);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let out = flat(&plan);
    assert!(
        out.contains("DocSpace refuses the external link `Press` of a public room"),
        "{out}"
    );
    assert!(
        out.contains("DocSpace makes the link `Clients` internal whatever `internal: false` says"),
        "{out}"
    );
    // What the sandbox does with them, as the server: the public room's link is refused, the
    // other one made internal.
    let free = Portal::start().await;
    let plan = free.plan(PUBLIC, &[]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}

const INVITE: &str = r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Join us
        kind: invitation
        access: editing
        max_uses: 5
"#;

fn invitation(state: &Value) -> &Value {
    state["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["title"] == "Partner Share")
        .unwrap()["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["title"] == "Join us")
        .unwrap()
}

/// `SetInvitationLinkAsync` resets the use count of an update without `maxUseCount`; the tool
/// always sends it, so a link used twice is still used twice after its access changed.
#[tokio::test(flavor = "multi_thread")]
async fn an_invitation_link_update_keeps_its_use_count() {
    let first = Portal::start().await;
    let (run, _) = first.apply(&first.manifest(INVITE), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let mut state = first.state();
    for room in state["rooms"].as_array_mut().unwrap() {
        for link in room["links"].as_array_mut().unwrap() {
            link["current_use_count"] = Value::from(2);
        }
    }
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    let portal = Portal::seeded(quick(), move |s| *s = state).await;
    // Another access, and `max_uses` left out: the limit is the link's own.
    let changed = INVITE
        .replace("access: editing", "access: read")
        .replace("        max_uses: 5\n", "");
    let (run, _) = portal.apply(&portal.manifest(&changed), &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let state = portal.state();
    let link = invitation(&state);
    assert_eq!(link["access"], 2, "{link}");
    assert_eq!(link["max_use_count"], 5, "{link}");
    assert_eq!(
        link["current_use_count"], 2,
        "the use count survives: {link}"
    );
}

/// The sandbox's side, as the server: under the restriction a public room refuses an external
/// link not asked internal (403) and a custom room's one becomes internal; the policies read
/// back; an invitation link update without `maxUseCount` starts its count again from 0.
#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_enforces_the_portal_policies_as_the_server_does() {
    let portal = Portal::seeded(quick(), |s| {
        s.policy.links_restricted = true;
        s.policy.password_min_length = 10;
    })
    .await;
    let settings = portal
        .call(reqwest::Method::GET, "/api/2.0/files/settings", None)
        .await;
    assert_eq!(settings["response"]["externalShare"], false);
    let password = portal
        .call(
            reqwest::Method::GET,
            "/api/2.0/settings/security/password",
            None,
        )
        .await;
    assert_eq!(password["response"]["minLength"], 10);

    let public = portal.create_room("Press kit", 6).await;
    let custom = portal.create_room("Partner", 5).await;
    let put = |room: i64, body: Value| {
        let req = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .put(portal.url(&format!("/api/2.0/files/rooms/{room}/links")))
            .bearer_auth(&portal.handle.api_key)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let link = |id: &str, extra: Value| {
        let mut body = serde_json::json!({"linkId": id, "linkType": 1, "access": 2, "title": "L"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let a = "11111111-1111-4111-8111-111111111111";
    let b = "22222222-2222-4222-8222-222222222222";
    let refused = put(public, link(a, serde_json::json!({}))).await;
    assert_eq!(refused.status(), 403);
    let made = put(custom, link(a, serde_json::json!({"internal": false}))).await;
    assert_eq!(made.status(), 200);
    let made: Value = made.json().await.unwrap();
    assert_eq!(made["response"]["sharedLink"]["internal"], true);
    let short = put(
        custom,
        link(b, serde_json::json!({"password": "Abc-12345"})),
    )
    .await;
    assert_eq!(short.status(), 400, "9 characters under a policy of 10");

    let c = "33333333-3333-4333-8333-333333333333";
    let invite = serde_json::json!({"linkId": c, "linkType": 0, "access": 2, "maxUseCount": 5});
    assert_eq!(put(custom, invite.clone()).await.status(), 200);
    let mut state = portal.state();
    let count = |state: &Value| -> i64 {
        state["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["links"].as_array().unwrap())
            .find(|l| l["id"] == c)
            .unwrap()["current_use_count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(count(&state), 0);
    for room in state["rooms"].as_array_mut().unwrap() {
        for l in room["links"].as_array_mut().unwrap() {
            if l["id"] == c {
                l["current_use_count"] = Value::from(3);
            }
        }
    }
    let state: docspace_provision::sandbox::state::PortalState =
        serde_json::from_value(state).unwrap();
    let portal = Portal::seeded(quick(), move |s| *s = state).await;
    let put = |body: Value| {
        let req = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .put(portal.url(&format!("/api/2.0/files/rooms/{custom}/links")))
            .bearer_auth(&portal.handle.api_key)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(put(invite.clone()).await.status(), 200);
    assert_eq!(count(&portal.state()), 3, "kept with maxUseCount");
    let without = serde_json::json!({"linkId": c, "linkType": 0, "access": 2});
    assert_eq!(put(without).await.status(), 200);
    assert_eq!(count(&portal.state()), 0, "reset without maxUseCount");
}

/// Under the restriction, an external link of a custom room whose `internal` the manifest
/// leaves out is created (internal, as the server makes it) and converges.
#[tokio::test(flavor = "multi_thread")]
async fn restricted_links_still_create_a_custom_room_link_that_converges() {
    let portal = Portal::seeded(quick(), |s| s.policy.links_restricted = true).await;
    let manifest = r#"version: 1
rooms:
  - title: Partner Share
    type: custom
    links:
      - title: Clients
        kind: external
        access: read
"#;
    let path = portal.manifest(manifest);
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    portal.reset_stats().await;
    let (run, _) = portal.apply(&path, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(portal.stats().await["writes"], 0, "converged");
}

/// A key that cannot read a policy (here a guest's key, which may not list covers) gets the
/// server's default, said once as a warning, and the plan goes on.
#[tokio::test(flavor = "multi_thread")]
async fn a_policy_the_key_cannot_read_is_assumed_with_one_warning() {
    let portal = Portal::seeded(quick(), |s| {
        let me = s.key_user;
        if let Some(u) = s.users.iter_mut().find(|u| u.id == me) {
            u.user_type = docspace_provision::sandbox::rules::UserType::Guest;
        }
    })
    .await;
    let plan = portal.plan(COVERED, &[]);
    let out = flat(&plan);
    assert_eq!(
        out.matches("could not read the portal's list of covers")
            .count(),
        1,
        "{out}"
    );
    assert!(out.contains("assuming the server's default"), "{out}");
    assert!(!out.contains("portal::cover"), "{out}");
}

/// A portal running with `web:password:ascii:cut` (`PasswordSettingsManager`: no
/// `'-/=[\]`|` in passwords; it says so in `allowedCharactersRegexStr`) refuses at plan time,
/// located, a link password with `-`, which a default portal takes; nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_portal_with_the_cut_alphabet_refuses_a_dash_in_a_link_password_at_plan_time() {
    const DASHED: &str = "long-enough-pw";
    let portal = Portal::seeded(quick(), |s| s.policy.password_ascii_cut = true).await;
    let manifest = portal.manifest(PASSWORDED);
    let manifest = manifest.to_str().unwrap();
    let plan = run_env(&portal, &["plan", manifest], DASHED);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let out = flat(&plan);
    assert!(
        out.contains("it must have only latin letters, digits and the symbols !\"#$%&()*+"),
        "{out}"
    );
    assert!(out.contains("rooms.yaml:6:16"), "located: {out}");
    assert!(!out.contains(DASHED), "the password was shown: {out}");
    portal.reset_stats().await;
    let apply = run_env(&portal, &["apply", manifest, "--auto-approve"], DASHED);
    assert_ne!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(portal.stats().await["writes"], 0);

    let plain = Portal::start().await;
    let plan = run_env(&plain, &["plan", manifest], DASHED);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
}
