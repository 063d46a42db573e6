//! The portal policies a plan checks before anything is written (docs/docspace-api.md,
//! "Portal link policies"): a link value the portal would refuse or override, a link password
//! its policy refuses, a cover it does not have. Without these checks such a manifest passes
//! `plan` and fails in the middle of `apply` (a bad cover takes the other settings of the same
//! update down with it), or is planned again on every run.
//!
//! Each policy is read once per run, and only when the manifest needs it. A key that cannot
//! read one gets the server's default and one warning.

use chrono::{DateTime, Utc};

use crate::docspace::{ApiError, DocSpaceApi};
use crate::links::LinkKind;
use crate::manifest::yaml::Span;
use crate::manifest::{Desired, DesiredPassword, DesiredRoom, Problem, RoomState};
use crate::model::{Access, LINK_PASSWORD_MAX, PortalPolicy, RoomType};
use crate::state::Observed;

/// Rooms the plan writes links into: present, with links that are not revokes.
fn link_rooms(desired: &Desired) -> impl Iterator<Item = &DesiredRoom> {
    desired
        .rooms
        .iter()
        .filter(|r| r.state == RoomState::Present && !r.links.is_empty())
}

/// A failure the policy read may shrug off: the server answered (the key may not read it,
/// the portal has no such route; the password route authenticates its own way, so even a 401
/// there says nothing about the key, which `people/@self` has already proved). A network
/// failure or a throttle the retries did not outlast ends the run as any other read would.
fn answered(e: &ApiError) -> bool {
    e.http_status().is_some_and(|s| s != 429)
}

/// The span of the room's `cover:` key: the first `cover:` after the room's title, before
/// the next room; the title's when it cannot be found.
fn cover_span(desired: &Desired, room: &DesiredRoom) -> Span {
    let text = desired.files[room.origin.file].text.as_str();
    let start = room.origin.span.offset;
    let rest = text.get(start..).unwrap_or("");
    let end = rest.find("- title:").unwrap_or(rest.len());
    match rest[..end].find("cover:") {
        Some(at) => Span {
            offset: start + at,
            len: "cover".len(),
        },
        None => room.origin.span,
    }
}

fn assume(what: &str, default: &str, e: &ApiError) {
    tracing::warn!(
        "could not read the portal's {what} ({e}); assuming the server's default: {default}"
    );
}

/// Reads the policies `desired` needs into `observed.portal_policy`.
pub async fn read<A: DocSpaceApi>(
    api: &A,
    desired: &Desired,
    observed: &mut Observed,
) -> Result<(), ApiError> {
    let mut policy = PortalPolicy::default();
    if link_rooms(desired).next().is_some() {
        match api.files_settings().await {
            Ok(Some(s)) => {
                policy.links_restricted = !s.external_share && s.external_share_apply_to_rooms
            }
            Ok(None) => {}
            Err(e) if answered(&e) => assume(
                "link-sharing settings (GET /api/2.0/files/settings)",
                "external links are not restricted",
                &e,
            ),
            Err(e) => return Err(e),
        }
    }
    let has_password = link_rooms(desired)
        .flat_map(|r| &r.links)
        .any(|l| matches!(l.password, Some(DesiredPassword::FromEnv(_))));
    if has_password {
        match api.password_settings().await {
            Ok(Some(s)) => {
                policy.password_min = usize::try_from(s.min_length)
                    .unwrap_or(0)
                    .clamp(1, LINK_PASSWORD_MAX);
                policy.password_upper = s.upper_case;
                policy.password_digits = s.digits;
                policy.password_special = s.spec_symbols;
                policy.password_ascii_cut = s.allowed_characters_regex_str.as_deref()
                    == Some(crate::model::PASSWORD_CUT_ALPHABET_REGEX);
            }
            Ok(None) => {}
            Err(e) if answered(&e) => assume(
                "password policy (GET /api/2.0/settings/security/password)",
                "link passwords of 8 to 30 characters",
                &e,
            ),
            Err(e) => return Err(e),
        }
    }
    if desired.rooms.iter().any(|r| r.cover.is_some()) {
        match api.room_covers().await {
            Ok(covers) => policy.covers = covers.map(|c| c.into_iter().collect()),
            Err(e) if answered(&e) => assume(
                "list of covers (GET /api/2.0/files/rooms/covers)",
                "covers are not checked before writing",
                &e,
            ),
            Err(e) => return Err(e),
        }
    }
    observed.portal_policy = policy;
    Ok(())
}

/// The whole password policy in words, for the help line.
fn policy_text(policy: &PortalPolicy) -> String {
    let mut text = if policy.password_ascii_cut {
        format!(
            "{} to {LINK_PASSWORD_MAX} latin letters, digits and the symbols {}",
            policy.password_min,
            crate::model::PASSWORD_CUT_SYMBOLS
        )
    } else {
        format!(
            "{} to {LINK_PASSWORD_MAX} printable characters without spaces",
            policy.password_min
        )
    };
    for (asked, what) in [
        (policy.password_upper, "a capital letter"),
        (policy.password_digits, "a digit"),
        (policy.password_special, "a special character"),
    ] {
        if asked {
            text.push_str(", ");
            text.push_str(what);
        }
    }
    text
}

/// The manifest values the portal's policies would refuse or override, each located at the
/// link (or at the `cover:` key). Links whose `expires:` has passed at `now` are left
/// alone by the plan, so they are not checked.
pub fn check(desired: &Desired, observed: &Observed, now: DateTime<Utc>) -> Vec<Problem> {
    let policy = &observed.portal_policy;
    let mut out = Vec::new();
    for room in link_rooms(desired) {
        for link in &room.links {
            if link.access == Access::None
                || link.kind != LinkKind::External
                || link.expires.flatten().is_some_and(|at| at <= now)
            {
                continue;
            }
            let at = |p: Problem| {
                p.at(
                    &desired.files[link.origin.file],
                    link.origin.span,
                    "this link",
                )
            };
            if policy.links_restricted && room.room_type == RoomType::Public {
                out.push(at(Problem::error(
                    "portal::links_restricted",
                    format!("this portal restricts external links in rooms, and DocSpace refuses the external link `{}` of a public room", link.title),
                )
                .with_help("remove the link (a public room keeps its primary link), or ask a DocSpace admin to allow external links (Settings > Security > Access, external sharing)")));
            } else if policy.links_restricted && link.internal == Some(false) {
                out.push(at(Problem::error(
                    "portal::links_restricted",
                    format!("this portal restricts external links in rooms, so DocSpace makes the link `{}` internal whatever `internal: false` says", link.title),
                )
                .with_help("write `internal: true` or leave `internal` out, or ask a DocSpace admin to allow external links")));
            }
            if let Some(DesiredPassword::FromEnv(name)) = &link.password
                && let Some(Some(digest)) = observed.link_passwords.get(name)
            {
                let broken = digest.shape().breaks(policy);
                if !broken.is_empty() {
                    out.push(at(Problem::error(
                        "portal::link_password_policy",
                        format!("the password in `{name}` breaks this portal's password policy, so DocSpace would refuse the link: it must have {}", broken.join(", ")),
                    )
                    .with_help(format!("set `{name}` to a password that has {}", policy_text(policy)))));
                }
            }
        }
    }
    if let Some(covers) = &policy.covers {
        for room in &desired.rooms {
            let Some(cover) = &room.cover else { continue };
            if covers.contains(cover) {
                continue;
            }
            let mut known: Vec<&str> = covers.iter().map(String::as_str).collect();
            known.truncate(8);
            out.push(
                Problem::error(
                    "portal::cover",
                    format!("`cover: {cover}` is not one of this portal's covers; DocSpace would refuse the room's whole update"),
                )
                .at(&desired.files[room.origin.file], cover_span(desired, room), "this cover")
                .with_help(format!(
                    "use an id from GET /api/2.0/files/rooms/covers, for example {}",
                    known.join(", ")
                )),
            );
        }
    }
    out
}
