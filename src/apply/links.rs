//! The sharing-link step of a room (after its share batch, before archive): one `PUT
//! rooms/{id}/links` per item, revokes first (a revoke frees a slot of the server's link
//! limits), then changes, then new links (docs/docspace-api.md, "Sharing links").
//!
//! Passwords are read from their environment variables here, at apply time, and go straight
//! into the request (the client registers them for redaction before sending). Every write
//! sends the whole link, and the link the server answers with is compared with the wanted
//! one through the same diff the planner uses, so a change the server skipped silently is a
//! failure, not a success.

use std::collections::BTreeMap;

use secrecy::SecretString;

use super::{api_err, outcome_of};
use crate::docspace::DocSpaceApi;
use crate::links::{
    self, FieldChange, LinkChange, LinkKind, ObservedLink, PasswordChange, PasswordSpec,
    ResolvedLink, WantedLink, password_digest,
};
use crate::model::RoomType;
use crate::plan::{Change, Item};
use crate::report::{EntryError, Outcome};

/// Runs the link items of one room (`id`) and returns each item's outcome, in the order run
/// (items that are not link items are not run).
/// `created` says whether this run created the room: the server then gave public and
/// form-filling rooms a primary link the plan could not know, which one wanted external link
/// takes over: the one with its title, else, when the room holds no other external link
/// (form filling) or the wanted links need every slot (a public room's primary link and
/// five more), the first one that can be a primary link (without an expiry).
pub async fn run<'a, A: DocSpaceApi>(
    api: &A,
    room_type: RoomType,
    id: i64,
    created: bool,
    items: &[&'a Item],
) -> Vec<(&'a Item, Outcome)> {
    // Revokes first, then changes, then new links (the sort is stable).
    let mut items: Vec<(&Item, &LinkChange)> = items
        .iter()
        .filter_map(|i| match &i.change {
            Change::Link(l) => Some((*i, l)),
            _ => None,
        })
        .collect();
    items.sort_by_key(|(_, l)| match l {
        LinkChange::Revoke { .. } => 0,
        LinkChange::Update { .. } => 1,
        LinkChange::Create { .. } => 2,
    });
    let keeps = items
        .iter()
        .any(|(_, l)| matches!(l, LinkChange::Update { link, .. } if link.keep_password));
    let (mut primary, kept) = match read(api, room_type, id, created, keeps).await {
        Ok(read) => read,
        Err(e) => {
            return items
                .into_iter()
                .map(|(i, _)| (i, Outcome::Failed(e.clone())))
                .collect();
        }
    };
    let takeover_title = primary
        .as_ref()
        .and_then(|p| takeover(room_type, p, &items))
        .map(str::to_lowercase);
    let mut out = Vec::with_capacity(items.len());
    for (item, link_item) in items {
        let outcome = match link_item {
            LinkChange::Revoke {
                link_id,
                title,
                kind,
            } => outcome_of(
                api.set_link(id, &links::revoke_request(link_id, title, *kind))
                    .await,
            ),
            LinkChange::Update { link_id, link, .. } => {
                write(api, room_type, id, Some(link_id), link, &kept).await
            }
            LinkChange::Create { link } => {
                let takeover = primary
                    .take_if(|_| {
                        link.kind == LinkKind::External
                            && takeover_title.as_deref() == Some(&link.title.to_lowercase())
                    })
                    .map(|p| p.id);
                write(api, room_type, id, takeover.as_deref(), link, &kept).await
            }
        };
        out.push((item, outcome));
    }
    out
}

/// The passwords of the room's links, by link id (never kept beyond this step).
type Kept = BTreeMap<String, SecretString>;

/// Reads the room's links once, when the run needs them: the primary link a `created` room
/// was given, and the passwords that updates keep (`keeps`).
async fn read<A: DocSpaceApi>(
    api: &A,
    room_type: RoomType,
    id: i64,
    created: bool,
    keeps: bool,
) -> Result<(Option<ObservedLink>, Kept), EntryError> {
    let with_primary = created && room_type.has_primary_link();
    if !with_primary && !keeps {
        return Ok((None, Kept::new()));
    }
    let rows = api.list_links(id).await.map_err(|e| api_err(&e))?;
    let primary = rows
        .iter()
        .filter_map(ObservedLink::from_dto)
        .find(|l| with_primary && l.primary && l.kind == LinkKind::External);
    let kept = rows
        .into_iter()
        .filter_map(|d| d.shared_link)
        .filter_map(|s| Some((s.id, s.password?)))
        .collect();
    Ok((primary, kept))
}

/// The title of the wanted external link of a created room that takes over its `primary`
/// link, if one does (see [`run`]). The one with the primary link's title comes first: a
/// second link of that title would make the room's links ambiguous.
fn takeover<'a>(
    room_type: RoomType,
    primary: &ObservedLink,
    items: &[(&Item, &'a LinkChange)],
) -> Option<&'a str> {
    let creates: Vec<&ResolvedLink> = items
        .iter()
        .filter_map(|(_, l)| match l {
            LinkChange::Create { link } if link.kind == LinkKind::External => Some(link),
            _ => None,
        })
        .collect();
    if let Some(named) = creates
        .iter()
        .find(|l| l.title.to_lowercase() == primary.title.to_lowercase())
    {
        return Some(&named.title);
    }
    let max = room_type.max_links(LinkKind::External);
    let only_one = max == 1;
    // Slots besides the primary link: more wanted links than that need the primary one.
    if !only_one && creates.len() < max {
        return None;
    }
    creates
        .iter()
        .find(|l| only_one || l.expires.is_none())
        .map(|l| l.title.as_str())
}

/// Creates (`link_id` `None`) or rewrites one link with its password read now (from its
/// variable, or from `kept`, the passwords the room's links have), and checks the link the
/// server answers with.
async fn write<A: DocSpaceApi>(
    api: &A,
    room_type: RoomType,
    id: i64,
    link_id: Option<&str>,
    link: &ResolvedLink,
    kept: &Kept,
) -> Outcome {
    let mut wanted = link.clone();
    let mut password = None;
    if let Some(spec) = &link.password {
        let Some(value) = links::password_value(&spec.env_name) else {
            return Outcome::Failed(EntryError::new(
                None,
                format!(
                    "the password variable {} is not set (or empty) at apply time; set it and run apply again",
                    spec.env_name
                ),
            ));
        };
        use secrecy::ExposeSecret;
        wanted.password = Some(PasswordSpec {
            env_name: spec.env_name.clone(),
            digest: Some(password_digest(value.expose_secret())),
        });
        password = Some(value);
    } else if link.keep_password {
        // The server rebuilds every option on a write: the password the link has is read
        // from the portal and sent back (docs/docspace-api.md, "Sharing links").
        let Some(value) = link_id.and_then(|link_id| kept.get(link_id)) else {
            return Outcome::Failed(EntryError::new(
                None,
                "the link has no password to keep (it was removed since the plan was made); run plan again",
            ));
        };
        password = Some(value.clone());
    }
    let request = match link_id {
        Some(link_id) => links::update_request(link_id, link, password),
        None => links::create_request(link, password),
    };
    match api.set_link(id, &request).await {
        Err(e) => Outcome::Failed(api_err(&e)),
        Ok(answer) => {
            let Some(live) = answer.as_ref().and_then(ObservedLink::from_dto) else {
                return Outcome::Failed(EntryError::new(
                    None,
                    "the server answered without the link; run plan to see what it holds",
                ));
            };
            shown(room_type, &wanted, &live)
        }
    }
}

/// Whether the link the server answered with is the wanted one (the diff plans nothing).
fn shown(room_type: RoomType, wanted: &ResolvedLink, live: &ObservedLink) -> Outcome {
    let diff = links::diff(
        room_type,
        &[WantedLink::whole(wanted)],
        std::slice::from_ref(live),
        false,
        false,
    );
    if diff.changes.is_empty() && diff.problems.is_empty() {
        return Outcome::Applied;
    }
    let what = match diff.changes.first() {
        Some(LinkChange::Update {
            changes, password, ..
        }) => {
            let mut names: Vec<&str> = changes.iter().map(FieldChange::name).collect();
            if *password != PasswordChange::Unchanged {
                names.push("password");
            }
            names.join(", ")
        }
        Some(LinkChange::Create { .. } | LinkChange::Revoke { .. }) => "title or kind".into(),
        None => "options".into(),
    };
    Outcome::Failed(EntryError::new(
        None,
        format!(
            "the server answered with a link whose {what} differ from what was sent (it keeps some options of an existing link as they are); run plan to see the difference"
        ),
    ))
}
