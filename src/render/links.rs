//! Sharing links in plans, for people. A password is only ever said to be set, changed,
//! removed or kept: neither the plan nor this module ever has it (docs/docspace-api.md,
//! "Sharing links").

use chrono::{DateTime, FixedOffset};

use super::visible;
use crate::links::{
    FieldChange, LinkChange, LinkKind, LinkNote, LiveExpiry, PasswordChange, ResolvedLink,
};
use crate::model::Access;

/// What a line of a link item does (the plan renderer maps it to its own signs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkSign {
    Add,
    Change,
    Remove,
}

fn date(d: Option<&DateTime<FixedOffset>>) -> String {
    d.map_or_else(
        || "never".to_string(),
        |d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

fn title(t: &str) -> String {
    format!("\"{}\"", visible(t))
}

/// The line of a link item, with what it does.
pub fn line(change: &LinkChange) -> (LinkSign, String) {
    match change {
        LinkChange::Create { link } => create_line(link),
        LinkChange::Update {
            link,
            changes,
            password,
            ..
        } => update_line(link, changes, *password),
        LinkChange::Revoke { title, kind, .. } => revoke_line(title, *kind),
    }
}

/// `+ link "Clients" (external, read, expires ..., password from $VAR)`.
pub fn create_line(link: &ResolvedLink) -> (LinkSign, String) {
    let mut parts = vec![link.kind.name().to_string(), link.access.name().to_string()];
    if let Some(d) = &link.expires {
        parts.push(format!("expires {}", date(Some(d))));
    }
    if link.internal {
        parts.push("signed-in users only".into());
    }
    if link.deny_download {
        parts.push("download denied".into());
    }
    if let Some(n) = link.max_uses {
        parts.push(format!("at most {n} uses"));
    }
    if let Some(p) = &link.password {
        parts.push(format!("password from ${}", visible(&p.env_name)));
    }
    (
        LinkSign::Add,
        format!("link {} ({})", title(&link.title), parts.join(", ")),
    )
}

/// `~ link "Clients": access: comment -> read; password: changes (from $VAR)`.
pub fn update_line(
    link: &ResolvedLink,
    changes: &[FieldChange],
    password: PasswordChange,
) -> (LinkSign, String) {
    let mut parts: Vec<String> = changes
        .iter()
        .map(|c| {
            if c.lowers_protection() {
                format!("{} {DOWNGRADE}", field(c))
            } else {
                field(c)
            }
        })
        .collect();
    let env = link
        .password
        .as_ref()
        .map(|p| format!(" (from ${})", visible(&p.env_name)))
        .unwrap_or_default();
    match password {
        PasswordChange::Unchanged => {}
        PasswordChange::Set => parts.push(format!("password: set{env}")),
        PasswordChange::Change => parts.push(format!("password: changes{env}")),
        PasswordChange::Remove => parts.push(format!("password: removed {DOWNGRADE}")),
    }
    (
        LinkSign::Change,
        format!(
            "link {} ({}): {}",
            title(&link.title),
            link.kind,
            parts.join("; ")
        ),
    )
}

/// `- revoke link "Old" (external)`.
pub fn revoke_line(link_title: &str, kind: LinkKind) -> (LinkSign, String) {
    (
        LinkSign::Remove,
        format!("revoke link {} ({kind})", title(link_title)),
    )
}

fn access(a: Option<Access>) -> String {
    a.map_or_else(|| "?".to_string(), |a| a.to_string())
}

fn field(c: &FieldChange) -> String {
    match c {
        FieldChange::Title { from, to } => format!("title: {} -> {}", title(from), title(to)),
        FieldChange::Access { from, to } => format!("access: {} -> {to}", access(*from)),
        FieldChange::Expires { from, to } => {
            format!("expires: {} -> {}", date(from.as_ref()), date(to.as_ref()))
        }
        FieldChange::Internal { from, to } => format!("internal: {from} -> {to}"),
        FieldChange::DenyDownload { from, to } => format!("deny_download: {from} -> {to}"),
        FieldChange::MaxUses { from, to } => {
            let n = |v: &Option<i64>| v.map_or_else(|| "unlimited".to_string(), |n| n.to_string());
            format!("max_uses: {} -> {}", n(from), n(to))
        }
    }
}

/// How a plan marks a link change that lowers protection (see
/// [`FieldChange::lowers_protection`]).
pub const DOWNGRADE: &str = "(downgrade)";

/// The downgrade guard's note of a room (`apply` skips its downgrades unless
/// `--allow-downgrades` is given).
pub fn downgrade_guard_text(downgrades: usize) -> String {
    let (what, them) = if downgrades == 1 {
        ("1 link change lowers".to_string(), "it")
    } else {
        (format!("{downgrades} link changes lower"), "them")
    };
    format!(
        "downgrade guard: {what} protection; apply skips {them} unless --allow-downgrades is given (--allow-removals is not enough)"
    )
}

/// A [`LinkNote`] for people.
pub fn note_text(note: &LinkNote) -> String {
    match note {
        LinkNote::PrimaryKept { title: t } => format!(
            "the primary link {} is not in the manifest; it stays, because DocSpace does not let a room's primary link go",
            title(t)
        ),
        LinkNote::ExpiredLeftAlone { title: t } => format!(
            "the link {} has expired; it is left as it is (a change would make it work again without an expiry): write `expires:` to renew it, or `access: none` to revoke it",
            title(t)
        ),
        LinkNote::PrimaryNotRevoked { title: t } => format!(
            "the primary link {} is not revoked although the manifest says `access: none`: DocSpace refuses to revoke it in a public room and replaces it with a new one in a form-filling room",
            title(t)
        ),
        LinkNote::Expired { title: t, at, live } => {
            let at = super::plan::moment_text(*at);
            match live {
                Some(LiveExpiry::Expired) => format!(
                    "link {} expired {at}: left as it is (the server no longer honours it; a write would open it again)",
                    title(t)
                ),
                Some(LiveExpiry::Open) => format!(
                    "link {} expired {at} in the manifest, but the portal's link is still open: left as it is (a past expiry cannot be set); write `access: none` to revoke it",
                    title(t)
                ),
                None => format!("link {} expired {at}: not created", title(t)),
            }
        }
    }
}
