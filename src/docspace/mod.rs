//! The DocSpace REST client: wire types ([`wire`]), the transport with retries and pacing
//! ([`client`]), the endpoints by resource (`rooms`, `operations`, `share`, `people`, each an
//! `impl Client` block), [`DocSpaceApi`] over HTTP (`api`), the retry rule and pacer
//! ([`policy`]), and the error type ([`error`]).
//!
//! Everything that talks HTTP to a portal sits behind [`DocSpaceApi`], so code that reads the
//! portal's state or applies a plan can be tested against an in-memory fake. The facts behind
//! each quirk handled here are in docs/docspace-api.md, "Response envelopes" and the sections
//! after it; comments name the section.

mod api;
pub mod client;
pub mod error;
mod groups;
mod operations;
mod people;
pub mod policy;
pub mod portal_policy;
mod rooms;
mod share;
pub mod templates;
pub mod wire;

use std::future::Future;
use std::time::Duration;

pub use client::{Client, ClientConfig, ClientStats, DEFAULT_REQUESTS_PER_MINUTE, PAGE_SIZE};
pub use error::{ApiError, ErrorKind, NetworkKind};
pub use people::{ApiKeyInfo, BuildVersion, PEOPLE_ORDER};
pub use policy::CallClass;
pub use rooms::{RoomListing, SearchArea};
pub use share::MAX_LINKS;
pub use templates::{FromTemplateRequest, TemplateJobStatus};
pub use wire::{
    ConnectedRoomDto, CreateRoomRequest, Envelope, FileOperationDto, GroupDto, GroupRefDto,
    Invitation, LifetimeDto, LinkDto, LinkRequest, ListedRoom, RoomCreateSettings, RoomDto,
    RoomResendRequest, RoomsPage, ShareDto, ShareRequest, ShareResponse, SharedLinkDto,
    UpdateRoomRequest, UserDto, UserRefDto, ValidationProblem, WatermarkRequest,
};
pub use wire::{
    CreateGroupRequest, InvitationSettingsDto, InvitePeopleRequest, PersonInvitation, QuotaDto,
    UpdateGroupRequest,
};

/// The DocSpace calls the engine makes: reading the portal for the planner
/// ([`crate::state`], [`crate::plan::build`]) and applying a plan ([`crate::apply`]), plus
/// the link and invitation-resend calls staged for the executor. [`Client`] implements it over HTTP;
/// the in-memory portal of the tests implements it directly. Semantics (paging, retries,
/// `None` for an unknown email) are those documented on the [`Client`] methods of the same
/// name.
///
/// Kept narrow on purpose, so that a second implementation stays small: calls only `doctor`
/// or the tests make (deleting a room and waiting for it to go, the whole people list, one
/// group) are inherent methods of [`Client`], not part of the trait.
pub trait DocSpaceApi: Send + Sync {
    /// The key owner's profile.
    fn me(&self) -> impl Future<Output = Result<UserDto, ApiError>> + Send;
    /// The key's permissions (`GET /keys/@self`; empty = unrestricted), or `None` when the
    /// portal does not say (docs/docspace-api.md, "API-key scopes").
    fn key_permissions(
        &self,
    ) -> impl Future<Output = Result<Option<Vec<String>>, ApiError>> + Send {
        async { Ok(None) }
    }
    /// Set once the portal has said the user's request limit is spent for hours (a daily
    /// limit): why, and when to run again. No write should start after that.
    fn limit_reached(&self) -> Option<String> {
        None
    }
    /// All rooms in `area` (all pages), optionally narrowed by the server's title search;
    /// rooms in connected storage apart.
    fn list_rooms(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> impl Future<Output = Result<RoomListing, ApiError>> + Send;
    fn get_room(&self, id: i64) -> impl Future<Output = Result<RoomDto, ApiError>> + Send;
    /// Not idempotent; a failure may be ambiguous ([`ApiError::is_ambiguous`]).
    fn create_room(
        &self,
        request: &CreateRoomRequest,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send;
    fn update_room(
        &self,
        id: i64,
        request: &UpdateRoomRequest,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send;
    fn archive_room(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<FileOperationDto, ApiError>> + Send;
    fn unarchive_room(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<FileOperationDto, ApiError>> + Send;
    /// Polls until the room is archived (`true`) or active (`false`); a failure the started
    /// `operation` reports ends the wait as an error.
    fn wait_room_state(
        &self,
        id: i64,
        operation: Option<&FileOperationDto>,
        archived: bool,
        timeout: Duration,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send;
    /// Every member row (owner row included), all pages.
    fn get_share(
        &self,
        room_id: i64,
    ) -> impl Future<Output = Result<Vec<ShareDto>, ApiError>> + Send;
    fn set_share(
        &self,
        room_id: i64,
        request: &ShareRequest,
    ) -> impl Future<Output = Result<ShareResponse, ApiError>> + Send;
    /// A room's sharing links (one call, at most 100 rows).
    fn list_links(
        &self,
        room_id: i64,
    ) -> impl Future<Output = Result<Vec<LinkDto>, ApiError>> + Send;
    /// Creates, changes or revokes one link; `None` when the answer has no row (a revoke).
    fn set_link(
        &self,
        room_id: i64,
        request: &LinkRequest,
    ) -> impl Future<Output = Result<Option<LinkDto>, ApiError>> + Send;
    /// Resends the room's invitation email to these members in one call (rate-limited by
    /// the server per room; never retried when it may have run; the server answers nothing).
    fn resend_room_invitations(
        &self,
        room_id: i64,
        user_ids: &[String],
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// `None` when the portal has no user with this email.
    fn user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<UserDto>, ApiError>> + Send;
    fn people_page(
        &self,
        start: i64,
    ) -> impl Future<Output = Result<(Vec<UserDto>, Option<i64>), ApiError>> + Send;
    fn list_groups(&self) -> impl Future<Output = Result<Vec<GroupDto>, ApiError>> + Send;
    /// One group with its manager and members (`GET /group/{id}`: the only route that lists
    /// a group's members).
    fn get_group(&self, id: &str) -> impl Future<Output = Result<GroupDto, ApiError>> + Send {
        let _ = id;
        async { Err(unsupported("GET", "/api/2.0/group/{id}")) }
    }
    /// Not idempotent (the server allows duplicate names): never re-sent when it may have run.
    fn create_group(
        &self,
        request: &CreateGroupRequest,
    ) -> impl Future<Output = Result<GroupDto, ApiError>> + Send {
        let _ = request;
        async { Err(unsupported("POST", "/api/2.0/group")) }
    }
    fn update_group(
        &self,
        id: &str,
        request: &UpdateGroupRequest,
    ) -> impl Future<Output = Result<GroupDto, ApiError>> + Send {
        let _ = (id, request);
        async { Err(unsupported("PUT", "/api/2.0/group/{id}")) }
    }
    /// One call for every invitation (sends emails; rate-limited per day).
    fn invite_people(
        &self,
        request: &InvitePeopleRequest,
    ) -> impl Future<Output = Result<Vec<UserDto>, ApiError>> + Send {
        let _ = request;
        async { Err(unsupported("POST", "/api/2.0/people/invite")) }
    }
    /// Raises these people to the type numbered `user_type` (upgrades only).
    fn set_user_type(
        &self,
        user_type: i64,
        user_ids: &[String],
    ) -> impl Future<Output = Result<Vec<UserDto>, ApiError>> + Send {
        let _ = (user_type, user_ids);
        async { Err(unsupported("PUT", "/api/2.0/people/type/{type}")) }
    }
    /// The paid seats `(used, max)` when the portal reports them to this key; `Ok(None)`
    /// when it does not.
    fn paid_seats(&self) -> impl Future<Output = Result<Option<(i64, i64)>, ApiError>> + Send {
        async { Ok(None) }
    }
    /// The invitation settings; `Ok(None)` where the portal cannot say.
    fn invitation_settings(
        &self,
    ) -> impl Future<Output = Result<Option<InvitationSettingsDto>, ApiError>> + Send {
        async { Ok(None) }
    }
    /// The portal's external-link settings (docs/docspace-api.md, "Portal link policies");
    /// `Ok(None)` where the portal cannot say (the in-memory test portal).
    fn files_settings(
        &self,
    ) -> impl Future<Output = Result<Option<portal_policy::FilesSettingsDto>, ApiError>> + Send
    {
        async { Ok(None) }
    }
    /// The portal's password policy; `Ok(None)` where the portal cannot say.
    fn password_settings(
        &self,
    ) -> impl Future<Output = Result<Option<portal_policy::PasswordSettingsDto>, ApiError>> + Send
    {
        async { Ok(None) }
    }
    /// The members of a group (full profiles); `Ok(None)` where the portal cannot say (the
    /// in-memory test portal). Read by `access` only.
    fn group_members(
        &self,
        _id: &str,
    ) -> impl Future<Output = Result<Option<Vec<UserDto>>, ApiError>> + Send {
        async { Ok(None) }
    }
    /// The cover ids rooms may use; `Ok(None)` where the portal cannot say.
    fn room_covers(&self) -> impl Future<Output = Result<Option<Vec<String>>, ApiError>> + Send {
        async { Ok(None) }
    }
    /// The portal's room templates (docs/docspace-api.md, "Room templates"); none where the
    /// portal has no templates (the in-memory test portal).
    fn list_templates(&self) -> impl Future<Output = Result<Vec<RoomDto>, ApiError>> + Send {
        async { Ok(Vec::new()) }
    }
    /// Starts a create-from-template job; the answer is the status of the portal's one job,
    /// which may be another caller's. Not idempotent.
    fn start_room_from_template(
        &self,
        _request: &templates::FromTemplateRequest,
    ) -> impl Future<Output = Result<Option<templates::TemplateJobStatus>, ApiError>> + Send {
        async {
            Err(ApiError::new(
                ErrorKind::Config,
                "POST",
                "/api/2.0/files/rooms/fromTemplate",
            )
            .with_message("this portal cannot create rooms from templates"))
        }
    }
    /// The status of the portal's create-from-template job; `None` when it never ran one.
    fn template_job_status(
        &self,
    ) -> impl Future<Output = Result<Option<templates::TemplateJobStatus>, ApiError>> + Send {
        async { Ok(None) }
    }
}

/// The error of a call an implementation of [`DocSpaceApi`] does not offer.
fn unsupported(method: &str, path: &str) -> ApiError {
    ApiError::new(ErrorKind::Config, method, path).with_message("not offered by this portal")
}
