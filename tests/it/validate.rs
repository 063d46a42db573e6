//! `validate` through the real binary: every kind of mistake gets a located, helpful
//! diagnostic (snapshotted), exit 1, and all mistakes of a run are shown at once.

use std::io::Write;

use crate::common::{run, scrub};

/// Runs `validate` on one fixture and snapshots exit code and stderr.
fn snapshot_fixture(name: &str) {
    let path = format!("tests/fixtures/invalid/{name}.yaml");
    let out = run(["validate", &path]);
    assert_eq!(out.stdout, "", "validate writes nothing to stdout");
    insta::assert_snapshot!(
        format!("validate_{name}"),
        format!("exit code: {}\n{}", out.code, out.stderr)
    );
}

macro_rules! fixture_tests {
    ($($name:ident => $code:expr),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                snapshot_fixture(stringify!($name));
                let out = run(["validate", concat!("tests/fixtures/invalid/", stringify!($name), ".yaml")]);
                assert_eq!(out.code, $code, "{}", out.stderr);
            }
        )*
    };
}

fixture_tests! {
    unknown_key => 1,
    wrong_type => 1,
    duplicate_key => 1,
    yaml11_boolean => 1,
    empty_title => 1,
    long_title => 1,
    emoji_title => 1,
    title_replaced_chars => 0,
    duplicate_room => 1,
    email_and_group => 1,
    no_subject => 1,
    bad_email => 1,
    duplicate_invitee => 1,
    access_not_allowed => 1,
    group_room_manager => 1,
    readwrite => 1,
    unknown_access => 1,
    access_number => 1,
    unknown_room_type => 1,
    bad_quota => 1,
    no_version => 1,
    unsupported_version => 1,
    tabs => 1,
    syntax_error => 1,
    bad_culture => 1,
    missing_type_and_access => 1,
    bad_members_and_state => 1,
    several_mistakes => 1,
    alias_bomb => 1,
    deep_nesting => 1,
    several_documents => 1,
    only_comments => 1,
    top_level_list => 1,
    tabs_in_list => 1,
    undefined_alias => 1,
    emoji_stored_title => 0,
    emoji_duplicate_room => 1,
    title_control => 1,
    blank_title => 1,
    title_invisible => 0,
    email_invisible => 1,
    confusable => 0,
    managed_tag => 1,
    invitee_expires => 1,
    link_mistakes => 1,
    link_room_rules => 1,
    link_password => 1,
    link_keep_password => 1,
    room_settings => 1,
}

/// A password written in a manifest (as `password:` or where a variable name belongs) is
/// refused, located by line, and never echoed: not the line, not the value, at any verbosity.
#[test]
fn a_password_in_the_manifest_is_refused_and_never_shown() {
    for args in [
        vec!["validate", "tests/fixtures/invalid/link_password.yaml"],
        vec![
            "validate",
            "-vvv",
            "tests/fixtures/invalid/link_password.yaml",
        ],
    ] {
        let out = run(args);
        assert_eq!(out.code, 1, "{}", out.stderr);
        for secret in ["Tr0ub4dor", "c0rrect horse", "12345678"] {
            assert!(
                !out.stdout.contains(secret) && !out.stderr.contains(secret),
                "{secret} shown:\n{}",
                out.stderr
            );
        }
        for location in [
            "link_password.yaml:9:9",
            "link_password.yaml:13:23",
            "link_password.yaml:17:23",
        ] {
            assert!(
                out.stderr.contains(location),
                "no {location}:\n{}",
                out.stderr
            );
        }
        assert!(out.stderr.contains("password_env"), "{}", out.stderr);
        // The well-formed `password_env` of the fourth link is accepted.
        assert!(out.stderr.contains("3 errors"), "{}", out.stderr);
    }
}

/// An `expires` already past is valid on an invitee (it asks for the removal) and on a link
/// (the plan leaves the link alone with a note): a moment set weeks earlier must not make a
/// scheduled `validate` refuse the whole manifest (issue 20).
#[test]
fn a_past_expiry_is_valid_on_an_invitee_and_on_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(
        &path,
        "version: 1\nrooms:\n  - title: Sales\n    type: custom\n    invitees:\n      - email: gone@mail.com\n        access: read\n        expires: 2020-01-31\n",
    )
    .unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::write(
        &path,
        "version: 1\nrooms:\n  - title: Sales\n    type: custom\n    links:\n      - title: Old\n        kind: external\n        access: read\n        expires: 2020-01-31T10:00:00Z\n      - title: Invite\n        kind: invitation\n        access: read\n        expires: 2021-01-31\n",
    )
    .unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The far end stays checked, without overflowing: the server's ten-year limit.
    std::fs::write(
        &path,
        "version: 1\nrooms:\n  - title: Sales\n    type: custom\n    links:\n      - title: Old\n        kind: external\n        access: read\n        expires: 9999-12-31T23:59:59Z\n",
    )
    .unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("manifest::link_expires_too_late"),
        "{}",
        out.stderr
    );
}

/// One file of a set declares `managed_tag` and lists the set in `manifest_set`; a second
/// declaration, even of the same tag in another case, is refused (it used to be allowed, and
/// let a run of that file alone prune the rooms of the others).
#[test]
fn managed_tag_is_declared_in_one_file_of_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    let c = dir.path().join("c.yaml");
    std::fs::write(
        &a,
        "version: 1\nmanaged_tag: provisioned\nmanifest_set: [a.yaml, b.yaml]\nrooms:\n  - title: Sales\n    type: custom\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "version: 1\nrooms:\n  - title: Legal\n    type: custom\n",
    )
    .unwrap();
    let out = run(["validate".as_ref(), a.as_os_str(), b.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::write(
        &b,
        "version: 1\nmanaged_tag: Provisioned\nrooms:\n  - title: Legal\n    type: custom\n",
    )
    .unwrap();
    std::fs::write(
        &c,
        "version: 1\nmanaged_tag: infra-as-code\nmanifest_set: [c.yaml, d.yaml]\nrooms:\n  - title: Ops\n    type: custom\n",
    )
    .unwrap();
    let out = run([
        "validate".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        c.as_os_str(),
    ]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!("validate_managed_tag_twice", scrub(&out.stderr, dir.path()));

    // A listed path that does not exist is a located error, relative to the listing file.
    std::fs::write(
        &a,
        "version: 1\nmanaged_tag: provisioned\nmanifest_set: [a.yaml, teams/]\nrooms: []\n",
    )
    .unwrap();
    let out = run(["validate".as_ref(), a.as_os_str()]);
    assert_eq!(out.code, 1);
    let stderr = scrub(&out.stderr, dir.path());
    assert!(
        stderr.contains("manifest::set_path_missing") && stderr.contains("[TMP]/a.yaml:3:24"),
        "{stderr}"
    );
}

#[test]
fn several_mistakes_are_all_reported_with_their_lines() {
    let out = run(["validate", "tests/fixtures/invalid/several_mistakes.yaml"]);
    assert_eq!(out.code, 1);
    for location in [
        "several_mistakes.yaml:4:11",  // notify: yes
        "several_mistakes.yaml:7:11",  // colaboration
        "several_mistakes.yaml:11:16", // carol@example
        "several_mistakes.yaml:14:17", // group room-manager
        "several_mistakes.yaml:17:12", // quota: lots
        "several_mistakes.yaml:20:17", // editing in a form-filling room
    ] {
        assert!(
            out.stderr.contains(location),
            "missing {location} in:\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("error: 6 errors\n"), "{}", out.stderr);
}

#[test]
fn every_example_validates() {
    let mut examples: Vec<_> = std::fs::read_dir("examples")
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    examples.sort();
    assert!(examples.len() >= 2);
    for example in &examples {
        let text = std::fs::read_to_string(example).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/manifest.schema.json"),
            "{} must start with the schema modeline",
            example.display()
        );
        let out = run(["validate".as_ref(), example.as_os_str()]);
        assert_eq!(out.code, 0, "{}: {}", example.display(), out.stderr);
    }
    // All together too (`validate examples/*.yaml`).
    let mut args = vec!["validate".to_string()];
    args.extend(examples.iter().map(|p| p.display().to_string()));
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn a_directory_is_expanded_and_rooms_merge_across_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "version: 1\nrooms:\n  - title: Sales\n    type: collaboration\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("team")).unwrap();
    std::fs::write(
        dir.path().join("team/b.yml"),
        "version: 1\nrooms:\n  - title: Legal\n    type: custom\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
    let out = run(["validate".as_ref(), dir.path().as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("2 manifest files valid: 2 rooms"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_room_defined_in_two_files_names_both_places() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "version: 1\nrooms:\n  - title: Sales\n    type: collaboration\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "version: 1\nrooms:\n  - type: custom\n    title: sales\n",
    )
    .unwrap();
    let out = run(["validate".as_ref(), a.as_os_str(), b.as_os_str()]);
    assert_eq!(out.code, 1);
    insta::assert_snapshot!(
        "validate_duplicate_room_across_files",
        scrub(&out.stderr, dir.path())
    );
}

#[test]
fn unreadable_inputs_get_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    std::fs::write(p("empty.yaml"), "").unwrap();
    std::fs::write(p("blank.yaml"), "  \n\n").unwrap();
    std::fs::write(p("binary.yaml"), [0x7f, b'E', b'L', b'F', 0, 1, 2, 0]).unwrap();
    std::fs::write(
        p("latin1.yaml"),
        b"version: 1\nrooms:\n  - title: Caf\xe9\n",
    )
    .unwrap();
    std::fs::create_dir(p("empty_dir")).unwrap();
    // A sparse file over the size cap: refused before reading, so it costs nothing.
    let big = std::fs::File::create(p("huge.yaml")).unwrap();
    big.set_len(101 * 1024 * 1024).unwrap();
    drop(big);
    let mut outputs = String::new();
    for name in [
        "missing.yaml",
        "empty.yaml",
        "blank.yaml",
        "binary.yaml",
        "latin1.yaml",
        "empty_dir",
        "huge.yaml",
    ] {
        let out = run(["validate".as_ref(), p(name).as_os_str()]);
        assert_eq!(out.code, 1, "{name}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{name}: {}", out.stderr);
        outputs.push_str(&format!("--- {name}\n{}", scrub(&out.stderr, dir.path())));
    }
    insta::assert_snapshot!("validate_unreadable_inputs", outputs);
}

#[test]
fn a_fifo_or_stdin_device_is_refused_without_hanging() {
    let out = run(["validate", "/dev/null"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not a regular file"), "{}", out.stderr);
}

#[test]
fn a_large_manifest_is_within_the_parser_budget() {
    // 2,000 rooms x 10 invitees in the test; the benchmark covers 10,000 and 50,000.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "version: 1\nrooms:").unwrap();
    for r in 0..2000 {
        writeln!(
            f,
            "  - title: Room {r}\n    type: collaboration\n    invitees:"
        )
        .unwrap();
        for i in 0..10 {
            writeln!(
                f,
                "      - email: user{i}.room{r}@example.com\n        access: editing"
            )
            .unwrap();
        }
    }
    drop(f);
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("2000 rooms, 20000 invitees"),
        "{}",
        out.stderr
    );
}

/// Writes `text` to `dir/rel`, creating parent directories.
fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const ROOM: &str = "version: 1\nrooms:\n  - title: Sales\n    type: collaboration\n";

#[test]
fn a_repository_directory_skips_hidden_folders_and_yaml_that_is_not_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "rooms/sales.yaml", ROOM);
    // Hidden folders are not searched at all, whatever they hold.
    write(d, ".github/workflows/ci.yml", "on: push\njobs: {}\n");
    write(d, ".hidden/rooms.yaml", "version: 1\nrooms: [oops\n");
    // YAML of other tools is skipped with a note; Compose's own `version:` does not count.
    write(d, "mkdocs.yml", "site_name: Docs\nnav: []\n");
    write(d, "compose.yaml", "version: \"3.8\"\nservices: {}\n");
    write(d, "empty.yaml", "");
    let out = run(["validate".as_ref(), d.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains(".github"), "{}", out.stderr);
    assert!(!out.stderr.contains(".hidden"), "{}", out.stderr);
    insta::assert_snapshot!("validate_repository_directory", scrub(&out.stderr, d));

    // Named on the command line, a file is checked fully, hidden or not.
    let ci = d.join(".github/workflows/ci.yml");
    let out = run(["validate".as_ref(), ci.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("manifest::no_version"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_broken_manifest_in_a_directory_is_reported_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.yaml", ROOM);
    // Does not parse, but it is a manifest: a line starts with `version:`.
    write(dir.path(), "b.yaml", "version: 1\nrooms: [oops\n");
    let out = run(["validate".as_ref(), dir.path().as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("yaml::syntax"), "{}", out.stderr);
    assert!(!out.stderr.contains("skipped"), "{}", out.stderr);
}

#[test]
fn a_directory_without_any_manifest_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mkdocs.yml", "site_name: Docs\n");
    write(dir.path(), "ci.yaml", "on: push\n");
    write(dir.path(), ".github/rooms.yaml", ROOM);
    let out = run(["validate".as_ref(), dir.path().as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    insta::assert_snapshot!(
        "validate_directory_without_manifest",
        scrub(&out.stderr, dir.path())
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_once_and_every_file_is_read_once() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    write(&d, "a.yaml", ROOM);
    write(
        &d,
        "sub/b.yaml",
        "version: 1\nrooms:\n  - title: Legal\n    type: custom\n",
    );
    // Two links back to the directory (this made `validate d` run forever), one back to
    // it from below, and a second name for a file (read twice, it was a duplicate room).
    // The loop is reported once.
    symlink(&d, d.join("loop1")).unwrap();
    symlink(&d, d.join("loop2")).unwrap();
    symlink("..", d.join("sub/up")).unwrap();
    symlink("a.yaml", d.join("again.yaml")).unwrap();
    // A second way into a directory that is not a loop: read once, no warning.
    symlink("sub", d.join("sub-link")).unwrap();
    let out = run(["validate".as_ref(), d.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("file::symlink_loop").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("2 manifest files valid: 2 rooms"),
        "{}",
        out.stderr
    );
    insta::assert_snapshot!("validate_symlink_loops", scrub(&out.stderr, dir.path()));

    // The same file named twice on the command line is read once too.
    let a = d.join("a.yaml");
    let again = d.join("again.yaml");
    let out = run(["validate".as_ref(), a.as_os_str(), again.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("1 manifest file valid"),
        "{}",
        out.stderr
    );

    // A directory and one inside it: each has its manifests, none is read twice.
    let sub = d.join("sub");
    let out = run(["validate".as_ref(), d.as_os_str(), sub.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("2 manifest files valid: 2 rooms"),
        "{}",
        out.stderr
    );
}

#[test]
fn repeated_warnings_collapse_after_five_with_a_count() {
    // 20,001 copies of one tag: 20,000 warnings, of which five are shown.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tags.yaml");
    let mut text = String::from("version: 1\nrooms:\n  - title: T\n    type: custom\n    tags:\n");
    for _ in 0..20_001 {
        text.push_str("      - a\n");
    }
    std::fs::write(&path, text).unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("⚠ tag `a` is listed twice").count(),
        5,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "... and 19995 more warnings like this (manifest::duplicate_tag); run with -v to see every one"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("1 manifest file valid"),
        "{}",
        out.stderr
    );
}

#[test]
fn many_errors_show_the_first_twenty_of_a_kind_and_count_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("errors.yaml");
    let mut text = String::from("version: 1\nrooms:\n");
    for i in 0..30 {
        text.push_str(&format!("  - title: Room {i}\n    type: bogus\n"));
    }
    // One error of another kind is shown although the first kind was cut.
    text.push_str("  - title: Last\n    type: custom\n    quota: lots\n");
    std::fs::write(&path, text).unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("× unknown room type `bogus`").count(),
        20,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("... and 10 more errors like this (manifest::room_type)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("manifest::quota"), "{}", out.stderr);
    assert!(out.stderr.contains("error: 31 errors\n"), "{}", out.stderr);
    // -v shows every one.
    let out = run(["-v".as_ref(), "validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stderr.matches("× unknown room type `bogus`").count(),
        30,
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("more errors like this"),
        "{}",
        out.stderr
    );
}

#[test]
fn many_diagnostics_are_all_counted_and_the_shown_ones_located() {
    // 2,000 errors and 4,000 warnings over a 4,000-room file: each is located through the
    // line index (this took minutes when every diagnostic rescanned the file).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let mut text = String::from("version: 1\nrooms:\n");
    for i in 0..4_000 {
        let t = if i % 2 == 0 { "custom" } else { "bogus" };
        text.push_str(&format!("  - title: \"Room: {i}\"\n    type: {t}\n"));
    }
    std::fs::write(&path, text).unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("error: 2000 errors and 4000 warnings\n"),
        "{}",
        out.stderr
    );
    // The twentieth error shown is room 39's type, on line 2 + 2 * 39 + 2.
    assert!(out.stderr.contains("big.yaml:82:11"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("... and 1980 more errors like this (manifest::room_type)"),
        "{}",
        out.stderr
    );
}

/// Validates `text` written as `m.yaml` in a fresh directory.
fn validate_text(text: &str) -> crate::common::Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, text).unwrap();
    run(["validate".as_ref(), path.as_os_str()])
}

/// A colour YAML reads as another number (`001122` is 1122, `0x1c6ddc` is 1863132) is named
/// as written, with the quoted form to write; `123456` (the same number as written) stays
/// accepted.
#[test]
fn a_colour_read_as_a_number_is_shown_as_written_with_a_quote_hint() {
    let out = validate_text(
        "version: 1\nrooms:\n  - title: A\n    type: custom\n    color: 001122\n  - title: B\n    type: custom\n    color: 0x1c6ddc\n  - title: C\n    type: custom\n    color: 123456\n",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    for expected in [
        "`color: 001122` is read as a number, not as the colour 001122",
        "quote the colour: `color: \"001122\"`",
        "`0x1c6ddc` is not a colour: DocSpace takes 6 hex digits, without `0x`",
        "write the digits alone, quoted: `color: \"1c6ddc\"`",
        "m.yaml:5:12",
        "m.yaml:8:12",
        "2 errors",
    ] {
        assert!(
            out.stderr.contains(expected),
            "no {expected:?}:\n{}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("1863132"), "{}", out.stderr);
    assert!(!out.stderr.contains("found a number"), "{}", out.stderr);
}

/// `access: none` revokes the link of that title whatever its kind and takes no other option
/// (docs/book/src/reference/manifest.md, "Sharing links"): `kind` is not required, and apply revokes the link.
#[test]
fn a_revoking_link_needs_no_kind_and_apply_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    let portal = format!("sandbox:{}", dir.path().join("s.json").display());
    let apply = |text: &str| {
        std::fs::write(&path, text).unwrap();
        run([
            "apply",
            path.to_str().unwrap(),
            "--portal",
            &portal,
            "--auto-approve",
        ])
    };
    let created = apply(
        "version: 1\nrooms:\n  - title: Kindless\n    type: custom\n    links:\n      - title: Old promo\n        kind: external\n        access: read\n",
    );
    assert_eq!(created.code, 0, "{}", created.stderr);
    let revoke = "version: 1\nrooms:\n  - title: Kindless\n    type: custom\n    links:\n      - title: Old promo\n        access: none\n";
    let out = validate_text(revoke);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let revoked = apply(revoke);
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        revoked.stderr.contains("revoke link \"Old promo\""),
        "{}",
        revoked.stderr
    );
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    let room = crate::common::state_room(&state, "Kindless");
    let links = room["links"].as_array().map_or(0, Vec::len);
    assert_eq!(links, 0, "{room}");
    // A link that is not revoked still needs its kind.
    let out = validate_text(
        "version: 1\nrooms:\n  - title: Kindless\n    type: custom\n    links:\n      - title: Old promo\n        access: read\n",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("the link has no `kind`"),
        "{}",
        out.stderr
    );
}

/// The link counts a room type allows are checked offline, by `validate`, from the same
/// limits the planner uses (`model::MAX_INVITATION_LINKS`, `MAX_ADDITIONAL_EXTERNAL_LINKS`).
#[test]
fn validate_refuses_more_links_than_the_room_type_holds() {
    let external = |n: usize| {
        (0..n)
            .map(|i| format!("      - {{title: L{i}, kind: external, access: read}}\n"))
            .collect::<String>()
    };
    let out = validate_text(&format!(
        "version: 1\nrooms:\n  - title: Seven\n    type: custom\n    links:\n{}  - title: Two invitations\n    type: collaboration\n    links:\n      - {{title: A, kind: invitation, access: read}}\n      - {{title: B, kind: invitation, access: read}}\n  - title: Form\n    type: form-filling\n    links:\n      - {{title: A, kind: external, access: read}}\n      - {{title: B, kind: external, access: read}}\n",
        external(7)
    ));
    assert_eq!(out.code, 1, "{}", out.stderr);
    for expected in [
        "a custom room holds 6 external links at most",
        "DocSpace allows the primary external link and 5 more",
        "a room has one invitation link at most",
        "a form-filling room has one external link: its primary link",
        "3 errors",
    ] {
        assert!(
            out.stderr.contains(expected),
            "no {expected:?}:\n{}",
            out.stderr
        );
    }
    // The primary link and five more, and revokes beyond them, are fine.
    let out = validate_text(&format!(
        "version: 1\nrooms:\n  - title: Six\n    type: public\n    links:\n{}      - {{title: Gone, access: none}}\n",
        external(6)
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// `title: Sales: Q3` is a YAML error; the help says how to quote it.
#[test]
fn an_unquoted_colon_in_a_title_gets_a_quote_hint() {
    let out = validate_text("version: 1\nrooms:\n  - title: Sales: Q3\n    type: custom\n");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("m.yaml:3:17"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("help: quote the value: `title: \"Sales: Q3\"`"),
        "{}",
        out.stderr
    );
}

/// A huge single-line file gets a short, located error, not an echo of itself; long lines
/// in snippets are cut around the label with an ellipsis, secrets on them still masked, and
/// long neighbouring lines are left out.
#[test]
fn huge_lines_are_cut_in_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, format!("{}\n", "x".repeat(60_000_000))).unwrap();
    let out = run(["validate".as_ref(), big.as_os_str()]);
    assert_eq!(out.code, 1, "{}", &out.stderr[..out.stderr.len().min(2000)]);
    assert!(
        out.stdout.len() + out.stderr.len() < 4000,
        "{}",
        out.stderr.len()
    );
    assert!(
        out.stderr.contains("manifest::not_a_manifest"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("big.yaml:1:1"), "{}", out.stderr);
    assert!(out.stderr.contains('…'), "{}", out.stderr);
    assert!(
        out.stderr.lines().all(|l| l.chars().count() < 600),
        "{}",
        out.stderr
    );

    let long = dir.path().join("long.yaml");
    let text = format!(
        "version: 1\nrooms:\n  - title: {}\n    type: bogus\n    links: [{{title: x, password: {}, bogus: 1}}]\n",
        "b".repeat(5_000_000),
        "S3cretPW".repeat(100),
    );
    std::fs::write(&long, text).unwrap();
    let out = run(["validate".as_ref(), long.as_os_str()]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.len() < 8000, "{}", out.stderr.len());
    assert!(!out.stderr.contains("S3cret"), "{}", out.stderr);
    assert!(out.stderr.contains("long.yaml:5:"), "{}", out.stderr);
    assert!(out.stderr.contains("unknown room type"), "{}", out.stderr);
    assert!(
        out.stderr.lines().all(|l| l.chars().count() < 600),
        "{}",
        out.stderr
    );
}
