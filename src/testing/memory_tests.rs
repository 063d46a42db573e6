//! The in-memory portal's own rules, checked once here so that the executor and property
//! tests can lean on them.

use super::memory::{Holder, ME, MemoryPortal, Write};
use crate::docspace::{
    CreateRoomRequest, DocSpaceApi, Invitation, SearchArea, ShareRequest, UpdateRoomRequest,
};
use crate::model::{Access, RoomType, UserType};

fn create(title: &str, room_type: RoomType) -> CreateRoomRequest {
    CreateRoomRequest {
        title: title.into(),
        room_type: room_type.wire(),
        settings: crate::docspace::RoomCreateSettings {
            tags: Some(vec!["Acme".into()]),
            ..Default::default()
        },
    }
}

fn share(invitations: Vec<Invitation>) -> ShareRequest {
    ShareRequest {
        invitations,
        ..ShareRequest::default()
    }
}

#[tokio::test]
async fn a_created_room_is_owned_by_the_key_user_whose_row_comes_first() {
    let portal = MemoryPortal::new();
    let room = portal
        .create_room(&create("  Deal: 2025 ", RoomType::Custom))
        .await
        .unwrap();
    assert_eq!(room.title, "Deal_ 2025");
    let rows = portal.get_share(room.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].is_owner);
    assert_eq!(rows[0].access, 1);
    assert_eq!(rows[0].shared_to_user.as_ref().unwrap().id, ME);
    assert_eq!(portal.room(room.id).unwrap().owner, ME);
}

#[tokio::test]
async fn a_refused_entry_fails_the_batch_after_the_earlier_ones_were_applied() {
    let portal = MemoryPortal::new();
    let room = portal.add_room("R", RoomType::Collaboration);
    let ann = portal.add_person("ann@x.test", UserType::User);
    let bob = portal.add_person("bob@x.test", UserType::User);
    let cy = portal.add_person("cy@x.test", UserType::User);
    let err = portal
        .set_share(
            room,
            &share(vec![
                Invitation::by_id(&ann, Access::Editing.wire()),
                // A user cannot be a room manager.
                Invitation::by_id(&bob, Access::RoomManager.wire()),
                Invitation::by_id(&cy, Access::Read.wire()),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(403));
    let r = portal.room(room).unwrap();
    assert_eq!(
        r.access_of(&Holder::User(ann)),
        Some(Access::Editing.wire())
    );
    assert_eq!(r.access_of(&Holder::User(bob)), None);
    assert_eq!(r.access_of(&Holder::User(cy)), None);
}

#[tokio::test]
async fn groups_run_before_users_and_the_role_tables_apply_per_subject() {
    let portal = MemoryPortal::new();
    let room = portal.add_room("R", RoomType::Custom);
    let g = portal.add_group("Sales");
    let ann = portal.add_person("ann@x.test", UserType::User);
    // The user's bad entry comes first in the request, but the group's runs first.
    let err = portal
        .set_share(
            room,
            &share(vec![
                Invitation::by_id(&ann, Access::FillForms.wire()),
                Invitation::by_id(&g, Access::Review.wire()),
            ]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(403));
    let r = portal.room(room).unwrap();
    assert_eq!(r.access_of(&Holder::Group(g.clone())), Some(5));
    // Groups are never room managers.
    let err = portal
        .set_share(
            room,
            &share(vec![Invitation::by_id(&g, Access::RoomManager.wire())]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(403));
}

#[tokio::test]
async fn an_unknown_email_becomes_a_pending_guest_and_removal_by_email_does_nothing() {
    let portal = MemoryPortal::new();
    let room = portal.add_room("R", RoomType::Custom);
    portal
        .set_share(
            room,
            &share(vec![Invitation::by_email(
                "New@X.test",
                Access::Read.wire(),
            )]),
        )
        .await
        .unwrap();
    let guest = portal.person_by_email("new@x.test").unwrap();
    assert!(guest.pending);
    assert_eq!(guest.user_type, UserType::Guest);
    let rows = portal.get_share(room).await.unwrap();
    let row = rows.iter().find(|r| !r.is_owner).unwrap();
    let user = row.shared_to_user.as_ref().unwrap();
    assert!(user.is_pending() && user.is_visitor);
    portal
        .set_share(room, &share(vec![Invitation::by_email("new@x.test", 0)]))
        .await
        .unwrap();
    assert_eq!(portal.room(room).unwrap().members.len(), 1);
    // An email is validated as a guest even when a room admin owns it.
    portal.add_person("admin@x.test", UserType::RoomAdmin);
    let err = portal
        .set_share(
            room,
            &share(vec![Invitation::by_email(
                "admin@x.test",
                Access::RoomManager.wire(),
            )]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(403));
}

#[tokio::test]
async fn an_archived_room_refuses_edits_until_unarchived() {
    let portal = MemoryPortal::new();
    let room = portal.add_room("R", RoomType::Custom);
    let op = portal.archive_room(room).await.unwrap();
    portal
        .wait_room_state(room, Some(&op), true, std::time::Duration::ZERO)
        .await
        .unwrap();
    let update = UpdateRoomRequest {
        deny_download: Some(true),
        ..UpdateRoomRequest::default()
    };
    assert_eq!(
        portal
            .update_room(room, &update)
            .await
            .unwrap_err()
            .http_status(),
        Some(403)
    );
    let ann = portal.add_person("ann@x.test", UserType::User);
    let invite = share(vec![Invitation::by_id(&ann, Access::Read.wire())]);
    assert!(portal.set_share(room, &invite).await.is_err());
    assert_eq!(
        portal
            .list_rooms(SearchArea::Active, None)
            .await
            .unwrap()
            .rooms
            .len(),
        0
    );
    portal.unarchive_room(room).await.unwrap();
    portal.update_room(room, &update).await.unwrap();
    portal.set_share(room, &invite).await.unwrap();
    assert!(portal.room(room).unwrap().deny_download);
}

#[tokio::test]
async fn scripted_faults() {
    let portal = MemoryPortal::new();
    portal.faults(|f| f.creates_time_out_after_commit = 1);
    let err = portal
        .create_room(&create("R", RoomType::Custom))
        .await
        .unwrap_err();
    assert!(err.is_ambiguous());
    let made = portal.rooms_titled("R");
    assert_eq!(made.len(), 1, "the create committed before it timed out");
    let room = made[0].id;

    let ann = portal.add_person("ann@x.test", UserType::User);
    portal.faults(|f| {
        f.dropped_invitees.insert(ann.clone());
        f.unreadable_members.insert(room);
        f.limit_reached = Some("daily limit".into());
    });
    let answer = portal
        .set_share(
            room,
            &share(vec![Invitation::by_id(&ann, Access::Read.wire())]),
        )
        .await
        .unwrap();
    assert!(answer.warning.is_none() && answer.members.is_empty());
    assert!(portal.room(room).unwrap().members.is_empty());
    assert_eq!(
        portal.get_share(room).await.unwrap_err().http_status(),
        Some(500)
    );
    assert_eq!(portal.limit_reached().as_deref(), Some("daily limit"));
    assert_eq!(
        portal.writes(),
        vec![
            Write::Create { title: "R".into() },
            Write::Share { room, entries: 1 }
        ]
    );
}

#[tokio::test]
async fn tags_keep_the_portal_spelling() {
    let portal = MemoryPortal::new();
    let first = portal
        .create_room(&create("A", RoomType::Custom))
        .await
        .unwrap();
    let update = UpdateRoomRequest {
        tags: Some(vec!["ACME".into(), "new".into()]),
        ..UpdateRoomRequest::default()
    };
    let second = portal.add_room("B", RoomType::Custom);
    let updated = portal.update_room(second, &update).await.unwrap();
    assert_eq!(first.tags, vec!["Acme".to_string()]);
    let mut tags = updated.tags;
    tags.sort();
    assert_eq!(tags, vec!["Acme".to_string(), "new".to_string()]);
}

#[tokio::test]
async fn links_are_set_listed_and_revoked_and_resends_answer_for_pending_accounts() {
    use crate::docspace::LinkRequest;
    let portal = MemoryPortal::new();
    let room = portal.add_room("R", RoomType::Custom);
    let link = |access| LinkRequest {
        link_id: "l-1".into(),
        access,
        expiration_date: None,
        internal: false,
        title: "Partners".into(),
        link_type: 1,
        password: None,
        deny_download: true,
        max_use_count: None,
    };
    let made = portal
        .set_link(room, &link(Access::Read.wire()))
        .await
        .unwrap();
    assert_eq!(made.unwrap().shared_link.unwrap().id, "l-1");
    let listed = portal.list_links(room).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].access, 2);
    assert_eq!(listed[0].subject_type, Some(1));
    assert!(portal.set_link(room, &link(0)).await.unwrap().is_none());
    assert!(portal.list_links(room).await.unwrap().is_empty());

    portal
        .set_share(
            room,
            &share(vec![Invitation::by_email(
                "new@x.test",
                Access::Read.wire(),
            )]),
        )
        .await
        .unwrap();
    let pending = portal.person_by_email("new@x.test").unwrap().id;
    portal
        .resend_room_invitations(room, &[pending.clone(), ME.to_string()])
        .await
        .unwrap();
    assert_eq!(
        portal.writes().last(),
        Some(&Write::RoomResend { room, users: 2 })
    );
}
