//! Serde types for the DocSpace JSON wire format (docs/docspace-api.md, "Response envelopes", "Enums" and the sections on rooms, sharing and people).
//!
//! Invariants:
//! - Property names are camelCase; unknown fields are ignored, so newer servers that add fields
//!   keep working. The server omits null properties (docs/docspace-api.md, "Response envelopes"), so every field that is not always
//!   present is an `Option` or has a default; explicit `null` is accepted where a collection is
//!   expected and read as empty.
//! - Enums travel as integers in both directions (`roomType`, `access`): a string the server
//!   cannot parse silently becomes "remove" (docs/docspace-api.md, "Access as integers"), so request types hold `i64`, never names.
//! - Request types skip `None` fields, because the server treats a present field as "apply
//!   this" (docs/docspace-api.md, "Updating rooms": only non-null fields are applied).

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};

use crate::model::UserType;

/// Reads an explicit `null` as the type's default (the server omits nulls, but proxies and
/// older builds have been seen to send them; an empty list is the safe reading).
fn null_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

/// The success envelope every controller result is wrapped in (docs/docspace-api.md, "Response envelopes").
///
/// `status == 1` means failure even inside a 2xx (docs/docspace-api.md, "Response envelopes"); the client checks that before it
/// looks at `response`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub response: Option<T>,
    #[serde(default)]
    pub count: Option<i64>,
    /// Only set by endpoints that page with an envelope total (share list, people, groups).
    #[serde(default)]
    pub total: Option<i64>,
    /// 0 ok, 1 error.
    #[serde(default)]
    pub status: i64,
    #[serde(default)]
    pub status_code: i64,
    /// Present on exception responses (docs/docspace-api.md, "Response envelopes").
    #[serde(default)]
    pub error: Option<ErrorDetail>,
}

/// The error body of an exception response (docs/docspace-api.md, "Response envelopes"). Only `message` is relied on; `type`,
/// `stack` and `hresult` are server internals.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub error: Option<ErrorDetail>,
    #[serde(default)]
    pub response: Option<serde_json::Value>,
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default)]
    pub status_code: Option<i64>,
}

/// `error` inside an exception response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: Option<String>,
}

/// The framework's validation-problem object, sent in `response` with `status: 1` (docs/docspace-api.md, "Response envelopes").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationProblem {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(default, deserialize_with = "null_default")]
    pub errors: BTreeMap<String, Vec<String>>,
}

impl ValidationProblem {
    /// One line naming every rejected field: `Title: too long; Count: out of range`.
    /// Falls back to the problem title when the map is empty.
    pub fn summary(&self) -> Option<String> {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|(field, msgs)| {
                let text = msgs
                    .iter()
                    .map(|m| m.trim())
                    .filter(|m| !m.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                if text.is_empty() {
                    field.clone()
                } else {
                    format!("{field}: {text}")
                }
            })
            .collect();
        if parts.is_empty() {
            self.title.clone().filter(|t| !t.trim().is_empty())
        } else {
            Some(parts.join("; "))
        }
    }
}

/// `createdBy` / `updatedBy` on a room (docs/docspace-api.md, "Reading a room").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRefDto {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub display_name: String,
}

/// A room (folder object, docs/docspace-api.md, "Reading a room").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomDto {
    pub id: i64,
    /// The title as stored: already sanitised by the server (docs/docspace-api.md, "Creating rooms").
    #[serde(default)]
    pub title: String,
    /// `RoomType` int; `None` for plain folders.
    #[serde(default)]
    pub room_type: Option<i64>,
    /// 14 active, 20 archived (docs/docspace-api.md, "Reading a room").
    #[serde(default)]
    pub root_folder_type: Option<i64>,
    /// Section folder ids. Not used by the tool; kept loose (a number, or a string for
    /// third-party folders) so that an unexpected shape never stops a run.
    #[serde(default)]
    pub parent_id: Option<serde_json::Value>,
    #[serde(default)]
    pub root_folder_id: Option<serde_json::Value>,
    /// Newest first on the wire; compare as a set.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub deny_download: Option<bool>,
    #[serde(default)]
    pub private: Option<bool>,
    #[serde(default)]
    pub indexing: Option<bool>,
    /// Only when the portal has room quotas and the caller may edit the room (docs/docspace-api.md, "Reading a room").
    #[serde(default)]
    pub quota_limit: Option<i64>,
    #[serde(default)]
    pub is_custom_quota: Option<bool>,
    #[serde(default)]
    pub created_by: Option<UserRefDto>,
    /// Date strings as sent (the SDK's date model does not fit the wire).
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub updated: Option<String>,
    /// PascalCase action names (`Read`, `EditRoom`, `EditAccess`, ...) to booleans.
    #[serde(default, deserialize_with = "null_default")]
    pub security: BTreeMap<String, bool>,
    /// Colour and cover (docs/docspace-api.md, "Room settings"). Kept loose: a logo of an
    /// unexpected shape must not stop a run, it only reads as "not set".
    #[serde(default, deserialize_with = "lenient")]
    pub logo: Option<LogoDto>,
    /// Absent when the room has no file lifetime (docs/docspace-api.md, "Room settings").
    #[serde(default, deserialize_with = "lenient")]
    pub lifetime: Option<LifetimeDto>,
    /// Absent when the room has no watermark (docs/docspace-api.md, "Room settings").
    #[serde(default, deserialize_with = "lenient")]
    pub watermark: Option<WatermarkDto>,
}

/// Reads a value that is not vital for the run as `None` when its shape is unexpected.
fn lenient<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(de)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// `logo` on a room: the colour and the cover id, and whether an image was uploaded (the
/// image URLs are the server's). With an uploaded image the server returns only the URLs,
/// never the colour or the cover (docs/docspace-api.md, "Room settings").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogoDto {
    /// The uploaded image's URL; empty when the room has no uploaded logo.
    #[serde(default, deserialize_with = "lenient")]
    pub original: Option<String>,
    /// Hex without `#`.
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub cover: Option<LogoCoverDto>,
}

/// `logo.cover`: the cover id and its SVG data (not kept).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogoCoverDto {
    #[serde(default)]
    pub id: Option<String>,
}

impl LogoDto {
    /// Whether the room has an uploaded logo (`RoomLogoManager.GetLogoAsync`, `Logo.IsDefault`:
    /// a non-empty `original`).
    pub fn uploaded(&self) -> bool {
        self.original
            .as_deref()
            .is_some_and(|o| !o.trim().is_empty())
    }
}

/// A room's file lifetime, as returned and as sent (`RoomDataLifetimeDto`,
/// docs/docspace-api.md, "Room settings").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LifetimeDto {
    /// Only sent, to switch the lifetime off (`false`); the server never returns it set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// 1..999.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    /// 0 days, 1 months, 2 years.
    #[serde(default)]
    pub period: i64,
    #[serde(default)]
    pub delete_permanently: bool,
}

/// A room's watermark as returned (`WatermarkDto`, docs/docspace-api.md, "Room settings").
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WatermarkDto {
    /// Bit flags: 1 user name, 2 email, 4 IP address, 8 current date, 16 room name.
    #[serde(default)]
    pub additions: i64,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub rotate: i64,
    /// Set when the watermark is an image (not managed by the tool).
    #[serde(default)]
    pub image_url: Option<String>,
}

/// A watermark as sent in a create or update (`WatermarkRequestDto`). `enabled: false` removes
/// the watermark; image watermarks are not sent by the tool.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatermarkRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    pub additions: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub rotate: i64,
}

/// `rootFolderType` of an active room.
pub const ROOT_FOLDER_ROOMS: i64 = 14;
/// `rootFolderType` of an archived room.
pub const ROOT_FOLDER_ARCHIVE: i64 = 20;

impl RoomDto {
    /// Whether the room sits in the Archive section (docs/docspace-api.md, "Reading a room": `rootFolderType` 20).
    pub fn is_archived(&self) -> bool {
        self.root_folder_type == Some(ROOT_FOLDER_ARCHIVE)
    }
}

/// A room kept in connected third-party storage (Box, Dropbox, WebDAV, ...).
///
/// The server lists such rooms among the others but serialises them as `FolderDto<string>`:
/// `id`, `parentId` and `rootFolderId` are JSON strings such as `"sbox-3-7"`
/// (docs/docspace-api.md, "Rooms in connected storage"). The integer-id endpoints the tool
/// uses (share, update, archive) do not reach them, so the tool only reports them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectedRoomDto {
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub room_type: Option<i64>,
    #[serde(default)]
    pub root_folder_type: Option<i64>,
    /// The storage provider (`Box`, `DropboxV2`, `WebDav`, ...), when the server says.
    #[serde(default)]
    pub provider_key: Option<String>,
}

/// One entry of the room listing: a room the tool can manage (integer id) or one in
/// connected storage (string id).
// Nearly every entry is a `Room`: boxing it would cost an allocation per room for the
// benefit of the rare connected-storage entry.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ListedRoom {
    Room(RoomDto),
    Connected(ConnectedRoomDto),
}

impl<'de> Deserialize<'de> for ListedRoom {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Decided by the JSON type of `id`: the only reliable mark of a third-party room.
        let value = serde_json::Value::deserialize(de)?;
        match value.get("id") {
            Some(serde_json::Value::String(_)) => serde_json::from_value(value)
                .map(ListedRoom::Connected)
                .map_err(D::Error::custom),
            Some(serde_json::Value::Number(_)) => serde_json::from_value(value)
                .map(ListedRoom::Room)
                .map_err(D::Error::custom),
            Some(other) => Err(D::Error::custom(format!(
                "a listed room's `id` is neither a number nor a string: {}",
                truncate_json(other)
            ))),
            None => Err(D::Error::custom("a listed room has no `id`")),
        }
    }
}

/// A short form of an unexpected JSON value for an error message (bounded: it came from
/// outside).
fn truncate_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

/// `response` of `GET /files/rooms`: paging lives inside it, not in the envelope (docs/docspace-api.md, "Response envelopes").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomsPage {
    /// Rooms with integer ids and rooms in connected storage (string ids), in listing order.
    #[serde(default, deserialize_with = "null_default")]
    pub folders: Vec<ListedRoom>,
    #[serde(default)]
    pub start_index: i64,
    #[serde(default)]
    pub count: i64,
    #[serde(default)]
    pub total: i64,
}

/// A user profile (EmployeeFullDto, docs/docspace-api.md, "People and groups lookup"). Share responses carry trimmed copies (only `id`
/// on PUT share), so everything but `id` defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    /// A uuid.
    pub id: String,
    /// Empty when the server did not send it.
    #[serde(default)]
    pub email: String,
    /// HTML-encoded by the server; empty when not sent.
    #[serde(default)]
    pub display_name: String,
    /// EmployeeStatus: 1 Active, 2 Terminated, 4 Pending.
    #[serde(default)]
    pub status: Option<i64>,
    /// EmployeeActivationStatus: 0 NotActivated, 1 Activated, 2 Pending.
    #[serde(default)]
    pub activation_status: Option<i64>,
    /// DocSpace admin and not owner.
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub is_owner: bool,
    #[serde(default)]
    pub is_room_admin: bool,
    /// User type "User".
    #[serde(default)]
    pub is_collaborator: bool,
    /// Guest.
    #[serde(default)]
    pub is_visitor: bool,
    /// When the account was created (for a pending invitee: when the invitation made it),
    /// as the server's date string (docs/docspace-api.md, "Pending invitations").
    #[serde(default, deserialize_with = "lenient")]
    pub registration_date: Option<String>,
    /// Who created the account (`EmployeeDto`; for an invitee, who invited them).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub created_by: Option<UserRefDto>,
}

impl UserDto {
    /// The portal-wide type, derived as docs/docspace-api.md, "People and groups lookup" says: owner/admin, then room admin, then
    /// user (`isCollaborator`), then guest (`isVisitor`). A profile with none of the flags
    /// (trimmed copies) reads as `User`, the server's default type for an ordinary account.
    pub fn user_type(&self) -> UserType {
        if self.is_owner || self.is_admin {
            UserType::DocSpaceAdmin
        } else if self.is_room_admin {
            UserType::RoomAdmin
        } else if self.is_collaborator {
            UserType::User
        } else if self.is_visitor {
            UserType::Guest
        } else {
            UserType::User
        }
    }

    /// Whether the account is active as the server decides it when resending invitations:
    /// `activationStatus` has the Activated flag (1), as `UserInfo.IsActive` reads it
    /// (docs/docspace-api.md, "Pending invitations").
    pub fn is_activated(&self) -> bool {
        self.activation_status.is_some_and(|a| a & 1 != 0)
    }

    /// Invited by email and not yet registered (docs/docspace-api.md, "Email invitations": `activationStatus` 2 or `status` 4).
    pub fn is_pending(&self) -> bool {
        self.activation_status == Some(2) || self.status == Some(4)
    }
}

/// A group as listed by `GET /group` (docs/docspace-api.md, "People and groups lookup").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDto {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub members_count: Option<i64>,
    /// The group's manager (`GET /group/{id}` and the write answers; docs/docspace-api.md,
    /// "Groups and people"); `None` when the group has none or the listing left it out.
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub manager: Option<UserDto>,
    /// The members, manager included (`GET /group/{id}` only: the listing leaves them out).
    #[serde(
        default,
        deserialize_with = "lenient",
        skip_serializing_if = "Option::is_none"
    )]
    pub members: Option<Vec<UserDto>>,
}

/// Body of `POST /api/2.0/group` (`GroupRequestDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateGroupRequest {
    pub group_name: String,
    /// Left out for no manager (the server reads an empty uuid as none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_manager: Option<String>,
    pub members: Vec<String>,
}

/// Body of `PUT /api/2.0/group/{id}` (`UpdateGroupRequest`). `groupName` is always sent:
/// an empty one would empty the name, a missing one keeps it (docs/docspace-api.md,
/// "Groups and people").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateGroupRequest {
    pub group_name: String,
    /// Left out to keep the manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_manager: Option<String>,
    pub members_to_add: Vec<String>,
    pub members_to_remove: Vec<String>,
}

/// Body of `POST /api/2.0/people/invite` (`InviteUsersRequestDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitePeopleRequest {
    pub invitations: Vec<PersonInvitation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
}

/// One invitation of [`InvitePeopleRequest`]: the email and the `EmployeeType` number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonInvitation {
    pub email: String,
    #[serde(rename = "type")]
    pub user_type: i64,
}

/// Body of `PUT /api/2.0/people/type/{type}` (`UpdateMembersRequestDto`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserTypeRequest {
    pub user_ids: Vec<String>,
    /// Always `false` (a resend flag the route shares with others).
    pub resend_all: bool,
}

/// `GET /api/2.0/portal/payment/quota` (`QuotaDto`): only its features are read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaDto {
    #[serde(default, deserialize_with = "lenient")]
    pub features: Option<Vec<QuotaFeatureDto>>,
}

/// One feature of [`QuotaDto`]: `manager` is the paid seats (`CountPaidUserFeature`), its
/// `value` the maximum and `used.value` the seats taken.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaFeatureDto {
    #[serde(default)]
    pub id: String,
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "lenient")]
    pub used: Option<QuotaUsedDto>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsedDto {
    #[serde(default, deserialize_with = "lenient")]
    pub value: Option<serde_json::Value>,
}

/// `GET /api/2.0/settings/invitationsettings` (`TenantUserInvitationSettingsDto`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationSettingsDto {
    #[serde(default = "yes")]
    pub allow_inviting_members: bool,
    #[serde(default = "yes")]
    pub allow_inviting_guests: bool,
}

fn yes() -> bool {
    true
}

/// The paid seats `(used, max)` of a tariff (`manager` feature), when it says both.
pub fn paid_seats(quota: &QuotaDto) -> Option<(i64, i64)> {
    let feature = quota
        .features
        .as_ref()?
        .iter()
        .find(|f| f.id == "manager")?;
    let number = |v: &serde_json::Value| v.as_i64().or_else(|| v.as_str()?.parse().ok());
    let max = feature.value.as_ref().and_then(number)?;
    let used = feature.used.as_ref()?.value.as_ref().and_then(number)?;
    Some((used, max))
}

/// `sharedToGroup` on a share row (docs/docspace-api.md, "Reading members").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRefDto {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// One row of a room's share list (FileShareDto, docs/docspace-api.md, "Reading members").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareDto {
    /// FileShare int; the synthetic owner row has 1 (ReadWrite).
    pub access: i64,
    #[serde(default)]
    pub shared_to_user: Option<UserDto>,
    #[serde(default)]
    pub shared_to_group: Option<GroupRefDto>,
    /// 0 user, 2 group, 1/3/4 links.
    #[serde(default)]
    pub subject_type: Option<i64>,
    /// True only on the synthetic owner row, which must never be diffed or removed.
    #[serde(default)]
    pub is_owner: bool,
    #[serde(default)]
    pub is_locked: bool,
    #[serde(default)]
    pub can_edit_access: bool,
}

/// One row of `GET /files/rooms/{id}/links` (a `FileShareDto` whose `sharedLink` is set,
/// docs/docspace-api.md, "Sharing links").
///
/// Not `Serialize`: it may carry a link password, which must never be written anywhere.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkDto {
    /// FileShare int; what the link grants.
    #[serde(default)]
    pub access: i64,
    /// 1 external, 3 invitation, 4 primary external.
    #[serde(default)]
    pub subject_type: Option<i64>,
    #[serde(default)]
    pub shared_link: Option<SharedLinkDto>,
}

/// `sharedLink` of a link row. The link's URL (`shareLink`) and `requestToken` grant access
/// to the room by themselves: they are not read, so they cannot end up in a plan or a log.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedLinkDto {
    /// A uuid.
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    /// The server's date string; absent when the link does not expire.
    #[serde(default)]
    pub expiration_date: Option<String>,
    /// 0 invitation, 1 external.
    #[serde(default)]
    pub link_type: Option<i64>,
    /// The password in clear text, sent to whoever may read the room's links. Held as a
    /// secret from the moment it is decoded (its `Debug` prints `[REDACTED]`).
    #[serde(default, deserialize_with = "secret")]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub deny_download: Option<bool>,
    #[serde(default)]
    pub is_expired: Option<bool>,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub internal: Option<bool>,
    /// Invitation links only.
    #[serde(default)]
    pub max_use_count: Option<i64>,
    #[serde(default)]
    pub current_use_count: Option<i64>,
}

/// Reads a string straight into a secret; an empty string is no password.
fn secret<'de, D: Deserializer<'de>>(de: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(de)?
        .filter(|s| !s.is_empty())
        .map(SecretString::from))
}

/// `linkType` of a link request or row.
pub const LINK_TYPE_INVITATION: i64 = 0;
/// `linkType` of a link request or row.
pub const LINK_TYPE_EXTERNAL: i64 = 1;

/// Body of `PUT /files/rooms/{id}/links` (`RoomLinkRequest`, docs/docspace-api.md, "Sharing
/// links"). Every call rebuilds all options of the link, so a request always carries the
/// whole wanted state of the link, the password included.
///
/// Not `PartialEq`, and its `Debug` never shows the password (a [`SecretString`]); the
/// password is exposed only while the body is encoded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRequest {
    /// A uuid: the link to change, or, for a new link, an id the tool chose, so that a
    /// retried create finds the link it made instead of making a second one.
    pub link_id: String,
    /// FileShare int; `0` revokes.
    pub access: i64,
    /// ISO 8601 with offset; omitted for a link that does not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_date: Option<String>,
    pub internal: bool,
    pub title: String,
    pub link_type: i64,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose_secret"
    )]
    pub password: Option<SecretString>,
    pub deny_download: bool,
    /// Invitation links only, 1..1000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_use_count: Option<i64>,
}

fn expose_secret<S: serde::Serializer>(
    value: &Option<SecretString>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    use secrecy::ExposeSecret;
    match value {
        Some(secret) => ser.serialize_some(secret.expose_secret()),
        None => ser.serialize_none(),
    }
}

/// Body of `POST /api/2.0/files/rooms/{id}/resend` (`UserInvitation`; docs/docspace-api.md,
/// "Pending invitations"): the list is `usersIds`. The people route's `userIds` binds
/// nothing here, and the server answers such a call 200 without sending anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomResendRequest {
    pub users_ids: Vec<String>,
    /// Always `false`: `true` would resend to every pending member of the room.
    pub resend_all: bool,
}

/// Reads the server's date strings (`ApiDateTime`: `2026-01-31T10:00:00.0000000+01:00`;
/// some builds leave out the offset, which is then read as UTC). `None` for anything else:
/// a date the tool cannot read is treated as unknown, never guessed.
pub fn parse_api_date(text: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    let text = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(d);
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc().fixed_offset())
}

/// The settings a new room is created with: the same fields, in the same order, after the
/// title in `POST /files/rooms` ([`CreateRoomRequest`]) and in `POST /files/rooms/fromTemplate`
/// (`FromTemplateRequest`, where it is `#[serde(flatten)]`). An omitted field keeps the
/// server's default (the template's, for a room from a template).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomCreateSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Bytes; `-1` unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_download: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark: Option<WatermarkRequest>,
    /// Hex without `#`, at most 6 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// A cover id (`GET /api/2.0/files/rooms/covers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
}

/// Body of `POST /files/rooms` (docs/docspace-api.md, "Creating rooms").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRoomRequest {
    pub title: String,
    /// Always the integer (docs/docspace-api.md, "Enums").
    pub room_type: i64,
    /// The settings a create may carry, the same as a create from a template's.
    #[serde(flatten)]
    pub settings: RoomCreateSettings,
}

impl CreateRoomRequest {
    /// The body for a room of `room_type` titled `title` with the create `settings`.
    pub fn new(title: String, room_type: i64, settings: RoomCreateSettings) -> Self {
        Self {
            title,
            room_type,
            settings,
        }
    }
}

/// Body of `PUT /files/rooms/{id}` (docs/docspace-api.md, "Updating rooms"): only present fields are applied.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRoomRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Replaces the whole tag set; `Some(vec![])` clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// `-1` unlimited, `-2` portal default, else bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deny_download: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<LifetimeDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watermark: Option<WatermarkRequest>,
    /// Hex without `#`, at most 6 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// A cover id (`GET /api/2.0/files/rooms/covers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
}

/// Body of `PUT /files/rooms/{id}/share` (docs/docspace-api.md, "The share call").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareRequest {
    pub invitations: Vec<Invitation>,
    pub notify: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub culture: Option<String>,
    pub force: bool,
}

/// One entry of a share request: a user or group `id`, or an `email` (docs/docspace-api.md, "The share call"; docs/docspace-api.md, "Email invitations").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invitation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// FileShare int, always (docs/docspace-api.md, "Access as integers").
    pub access: i64,
}

impl Invitation {
    /// An invitation (or removal, with access 0) by user or group id.
    pub fn by_id(id: impl Into<String>, access: i64) -> Invitation {
        Invitation {
            id: Some(id.into()),
            email: None,
            access,
        }
    }

    /// An invitation by email (validated by the server as a guest, docs/docspace-api.md, "Roles per room type").
    pub fn by_email(email: impl Into<String>, access: i64) -> Invitation {
        Invitation {
            id: None,
            email: Some(email.into()),
            access,
        }
    }
}

/// Response of `PUT /files/rooms/{id}/share` (RoomSecurityDto, docs/docspace-api.md, "The share call").
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareResponse {
    /// Current shares of the ids sent; email invitees are not included.
    #[serde(default, deserialize_with = "null_default")]
    pub members: Vec<ShareDto>,
    /// First soft failure (an invitee that could not be created, ...).
    #[serde(default)]
    pub warning: Option<String>,
    /// 0 none; 1 FormRoleBlockingDeletion, in which case nothing was applied.
    #[serde(default)]
    pub error: i64,
}

/// A long-running file operation (archive, unarchive, delete; docs/docspace-api.md, "Long-running operations").
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileOperationDto {
    #[serde(default)]
    pub id: String,
    /// FileOperationType int. The key is capitalised on the wire (docs/docspace-api.md, "Long-running operations").
    #[serde(default, rename = "Operation", alias = "operation")]
    pub operation: Option<i64>,
    #[serde(default)]
    pub progress: Option<i64>,
    /// Failure message; null or empty when fine.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub finished: bool,
    /// DistributedTaskStatus int.
    #[serde(default)]
    pub status: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Both create bodies carry the shared settings after the title, byte for byte.
    #[test]
    fn create_bodies_share_the_settings_in_order() {
        let settings = RoomCreateSettings {
            tags: Some(vec!["a".into()]),
            quota: Some(-1),
            deny_download: Some(true),
            indexing: Some(false),
            color: Some("1b6ca8".into()),
            cover: Some("c".into()),
            ..RoomCreateSettings::default()
        };
        let tail = r#""tags":["a"],"quota":-1,"denyDownload":true,"indexing":false,"color":"1b6ca8","cover":"c"}"#;
        let create = CreateRoomRequest::new("X".into(), 2, settings.clone());
        assert_eq!(
            serde_json::to_string(&create).unwrap(),
            format!(r#"{{"title":"X","roomType":2,{tail}"#)
        );
        let from = crate::docspace::FromTemplateRequest {
            template_id: 9,
            title: "X".into(),
            settings,
        };
        assert_eq!(
            serde_json::to_string(&from).unwrap(),
            format!(r#"{{"templateId":9,"title":"X",{tail}"#)
        );
        let bare = crate::docspace::FromTemplateRequest::default();
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"templateId":0,"title":""}"#
        );
    }

    #[test]
    fn create_request_skips_nulls_and_sends_ints() {
        let req = CreateRoomRequest {
            title: "X".into(),
            room_type: 2,
            ..CreateRoomRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"title": "X", "roomType": 2})
        );
    }

    #[test]
    fn share_request_shape() {
        let req = ShareRequest {
            invitations: vec![
                Invitation::by_id("u1", 10),
                Invitation::by_email("a@b.c", 2),
            ],
            notify: false,
            message: None,
            culture: Some("en-US".into()),
            force: false,
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"invitations": [{"id": "u1", "access": 10}, {"email": "a@b.c", "access": 2}],
                   "notify": false, "culture": "en-US", "force": false})
        );
    }

    #[test]
    fn room_decodes_with_unknown_fields_and_nulls() {
        let room: RoomDto = serde_json::from_value(json!({
            "id": 4821, "title": "Acme", "roomType": 8, "rootFolderType": 20,
            "tags": null, "security": {"Read": true, "EditRoom": false},
            "createdBy": {"id": "u", "displayName": "Ops", "hasAvatar": false},
            "logo": {"color": "ffffff"}, "quotaLimit": -1
        }))
        .unwrap();
        assert!(room.is_archived());
        assert!(room.tags.is_empty());
        assert_eq!(room.security.get("Read"), Some(&true));
        assert_eq!(room.quota_limit, Some(-1));
    }

    #[test]
    fn listing_reads_connected_storage_rooms_with_string_ids() {
        let page: RoomsPage = serde_json::from_value(json!({
            "folders": [
                {"id": 7, "title": "Ours", "roomType": 2, "rootFolderType": 14, "parentId": 3},
                {"id": "sbox-3-7", "title": "Box room", "roomType": 5, "parentId": "sbox-3",
                 "rootFolderId": "sbox-3", "rootFolderType": 14, "providerKey": "Box"}
            ],
            "startIndex": 0, "count": 2, "total": 2
        }))
        .unwrap();
        assert!(matches!(&page.folders[0], ListedRoom::Room(r) if r.id == 7));
        match &page.folders[1] {
            ListedRoom::Connected(c) => {
                assert_eq!(c.id, "sbox-3-7");
                assert_eq!(c.provider_key.as_deref(), Some("Box"));
            }
            other => panic!("{other:?}"),
        }
        let bad = serde_json::from_value::<RoomsPage>(json!({"folders": [{"id": true}]}));
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("neither a number nor a string")
        );
    }

    #[test]
    fn user_type_and_pending() {
        let mut u: UserDto = serde_json::from_value(json!({"id": "x"})).unwrap();
        assert_eq!(u.user_type(), UserType::User);
        assert!(!u.is_pending());
        u.is_visitor = true;
        u.activation_status = Some(2);
        assert_eq!(u.user_type(), UserType::Guest);
        assert!(u.is_pending());
        u.is_room_admin = true;
        assert_eq!(u.user_type(), UserType::RoomAdmin);
        u.is_owner = true;
        assert_eq!(u.user_type(), UserType::DocSpaceAdmin);
        let p: UserDto = serde_json::from_value(json!({"id": "y", "status": 4})).unwrap();
        assert!(p.is_pending());
    }

    #[test]
    fn operation_key_is_capitalised() {
        let op: FileOperationDto = serde_json::from_value(json!({
            "id": "c4", "Operation": 0, "progress": 0, "error": null, "finished": false, "status": 1
        }))
        .unwrap();
        assert_eq!(op.operation, Some(0));
        assert!(!op.finished);
    }

    #[test]
    fn validation_problem_summary() {
        let p: ValidationProblem = serde_json::from_value(json!({
            "title": "One or more validation errors occurred.", "status": 400,
            "errors": {"Title": ["The field Title must be a string with a maximum length of 170."],
                       "Count": ["out of range"]}
        }))
        .unwrap();
        assert_eq!(
            p.summary().unwrap(),
            "Count: out of range; Title: The field Title must be a string with a maximum length of 170."
        );
    }
}
