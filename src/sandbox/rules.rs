//! Server rules the sandbox emulates, written on the sandbox side from the DocSpace server
//! source (ONLYOFFICE/DocSpace-server, hotfix 3.7.2), not taken from the client's model.
//!
//! The sandbox exists to be a second opinion on the client: if both shared one implementation
//! of a rule, a wrong belief in the client would be mirrored here and every test would pass. So
//! nothing in `src/sandbox/` may use `crate::model`, `crate::docspace`, `crate::plan` or
//! `crate::state` (a test scans the sources), and each rule below names the server file and
//! function it was read from. `docs/sandbox.md` lists them with what is still a guess.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// The longest title the room endpoints accept, in UTF-16 code units: `[StringLength(170)]` on
/// `CreateRoomRequestDto.Title` and `UpdateRoomRequest.Title` (.NET counts string length in
/// UTF-16 units). Also `Global.MaxTitle`, the truncation limit on save.
pub const TITLE_MAX_UNITS: usize = 170;

/// The length .NET reports for a string: UTF-16 code units.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Whether one UTF-16 code unit is replaced by `_` on save. `Global.cs` `_invalidTitleChars`
/// is the .NET regex class `[\t*\+:"<>?|\\/\p{Cs}]`; .NET regexes match UTF-16 code units, so
/// `\p{Cs}` (surrogate) matches each half of a character outside the Basic Multilingual Plane.
fn replaced_unit(unit: u16) -> bool {
    matches!(
        unit,
        0x09 | 0x2A | 0x2B | 0x3A | 0x22 | 0x3C | 0x3E | 0x3F | 0x7C | 0x5C | 0x2F
    ) || (0xD800..=0xDFFF).contains(&unit)
}

/// The title as the server stores it (`Global.ReplaceInvalidCharsAndTruncate`, called by
/// `FolderDao.InternalSaveFolderToDbAsync` on create and by `FolderDao.UpdateFolderAsync` on
/// rename). In the server's order:
/// 1. trim white space (`string.Trim`);
/// 2. if longer than 170 UTF-16 units, cut to 170 — keeping the part from the last `.` when
///    that dot sits after unit 150 (file names keep their extension);
/// 3. replace every unit of `\t * + : " < > ? | \ /` and every surrogate unit with `_`.
///
/// The room endpoints refuse titles over 170 units before this runs, so step 2 never fires
/// for rooms; it is kept so the function is the server's whole rule. A cut that would need a
/// negative length (a dot after unit 150 followed by more than 170 units) makes the server
/// throw; here the plain cut to 170 is used instead (unreachable through the room endpoints).
pub fn stored_title(title: &str) -> String {
    let trimmed = title.trim();
    let mut units: Vec<u16> = trimmed.encode_utf16().collect();
    if units.len() > TITLE_MAX_UNITS {
        let dot = units.iter().rposition(|u| *u == u16::from(b'.'));
        units = match dot {
            Some(pos) if pos > TITLE_MAX_UNITS - 20 && units.len() - pos <= TITLE_MAX_UNITS => {
                let keep = TITLE_MAX_UNITS - (units.len() - pos);
                let mut cut = units[..keep].to_vec();
                cut.extend_from_slice(&units[pos..]);
                cut
            }
            _ => units[..TITLE_MAX_UNITS].to_vec(),
        };
    }
    for unit in &mut units {
        if replaced_unit(*unit) {
            *unit = u16::from(b'_');
        }
    }
    // Every surrogate was replaced, so the units are valid UTF-16.
    String::from_utf16_lossy(&units)
}

/// Tag names compare case-insensitively on a default (MySQL) install: the tag queries are
/// plain `r.Name == name` / `names.Contains(r.Name)` (`TagDao.GetTagsInfoAsync`,
/// `TagQueries.TagsInfoAsync`), and MySQL's `utf8_general_ci` collation ignores case. The
/// collation also folds some accents; that part is not emulated.
pub fn same_tag(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// How email columns compare. MySQL installs (the default) use a case-insensitive collation;
/// PostgreSQL installs compare `r.Email == email` byte for byte (`UserQueries.UserByEmailAsync`,
/// `UserQueries.AnyUsersByEmailAsync`; the PostgreSQL migrations declare no case-insensitive
/// collation or `citext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailCollation {
    CaseInsensitive,
    CaseSensitive,
}

impl EmailCollation {
    pub fn same(self, a: &str, b: &str) -> bool {
        match self {
            EmailCollation::CaseSensitive => a == b,
            EmailCollation::CaseInsensitive => a == b || a.to_lowercase() == b.to_lowercase(),
        }
    }
}

/// `StringExtension.EnumerableComparer`: the server's natural order for titles. Runs of digits
/// compare as numbers ("Room 2" < "Room 10"); other characters one by one, ignoring case
/// (`InvariantCultureIgnoreCase` per character; approximated with Unicode lower case). A title
/// that is a prefix of the other sorts first.
pub fn natural_cmp(x: &str, y: &str) -> Ordering {
    let xs: Vec<char> = x.chars().collect();
    let ys: Vec<char> = y.chars().collect();
    let (mut i, mut j) = (0, 0);
    while i < xs.len() {
        if j >= ys.len() {
            return Ordering::Greater;
        }
        if xs[i].is_ascii_digit() && ys[j].is_ascii_digit() {
            let number = |chars: &[char], k: &mut usize| -> u64 {
                let mut value: u64 = 0;
                while *k < chars.len() && chars[*k].is_ascii_digit() {
                    // Overflow saturates, like the server's `long.MaxValue` fallback.
                    value = value
                        .saturating_mul(10)
                        .saturating_add(u64::from(chars[*k] as u8 - b'0'));
                    *k += 1;
                }
                value
            };
            let a = number(&xs, &mut i);
            let b = number(&ys, &mut j);
            if a != b {
                return a.cmp(&b);
            }
        } else {
            let a: String = xs[i].to_lowercase().collect();
            let b: String = ys[j].to_lowercase().collect();
            if a != b {
                return a.cmp(&b);
            }
            i += 1;
            j += 1;
        }
    }
    if j < ys.len() {
        Ordering::Less
    } else {
        Ordering::Equal
    }
}

/// A user's portal-wide type (`EmployeeType`). Serialised in the state file with the same
/// names the sandbox always used (`doc-space-admin`, `room-admin`, `user`, `guest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserType {
    DocSpaceAdmin,
    RoomAdmin,
    User,
    Guest,
}

/// `FileShare` values (the `access` of a share).
pub mod access {
    pub const NONE: i64 = 0;
    pub const READ_WRITE: i64 = 1;
    pub const READ: i64 = 2;
    pub const REVIEW: i64 = 5;
    pub const COMMENT: i64 = 6;
    pub const FILL_FORMS: i64 = 7;
    pub const ROOM_MANAGER: i64 = 9;
    pub const EDITING: i64 = 10;
    pub const CONTENT_CREATOR: i64 = 11;
}

/// What kind of link a room link is (`SubjectType`: 1 ExternalLink, 3 InvitationLink,
/// 4 PrimaryExternalLink).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    Invitation,
    External,
    /// The external link public and form-filling rooms always have; revoking it makes a new one.
    PrimaryExternal,
}

impl LinkKind {
    /// The `SubjectType` wire value.
    pub fn subject_type(self) -> i64 {
        match self {
            LinkKind::External => 1,
            LinkKind::Invitation => 3,
            LinkKind::PrimaryExternal => 4,
        }
    }

    pub fn is_external(self) -> bool {
        self != LinkKind::Invitation
    }
}

/// A room type as the server knows it: the wire integer of `RoomType`
/// (`CreateRoomRequestDto.cs`), its enum name (accepted as a string), and the name of the
/// `FolderType` the room is stored as (the `RoomType` sort compares these names,
/// `EntryManager.SortEntries`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerRoomType {
    pub wire: i64,
    pub name: &'static str,
    pub folder_type_name: &'static str,
}

pub const ROOM_TYPES: [ServerRoomType; 6] = [
    ServerRoomType {
        wire: 1,
        name: "FillingFormsRoom",
        folder_type_name: "FillingFormsRoom",
    },
    ServerRoomType {
        wire: 2,
        name: "EditingRoom",
        folder_type_name: "EditingRoom",
    },
    ServerRoomType {
        wire: 5,
        name: "CustomRoom",
        folder_type_name: "CustomRoom",
    },
    ServerRoomType {
        wire: 6,
        name: "PublicRoom",
        folder_type_name: "PublicRoom",
    },
    ServerRoomType {
        wire: 8,
        name: "VirtualDataRoom",
        folder_type_name: "VirtualDataRoom",
    },
    ServerRoomType {
        wire: 9,
        name: "AiRoom",
        folder_type_name: "AiRoom",
    },
];

pub fn room_type(wire: i64) -> Option<ServerRoomType> {
    ROOM_TYPES.into_iter().find(|t| t.wire == wire)
}

/// Who a share is for, as far as the role tables care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(UserType),
    Group,
}

/// `FileSecurity.AvailableRoomAccesses`: the roles a room type offers to users and to groups
/// (0 = None is in every list; it removes).
fn room_roles(room_type: i64, group: bool) -> &'static [i64] {
    use access::*;
    match (room_type, group) {
        // CustomRoom
        (5, false) => &[
            ROOM_MANAGER,
            CONTENT_CREATOR,
            EDITING,
            REVIEW,
            COMMENT,
            READ,
            NONE,
        ],
        (5, true) => &[CONTENT_CREATOR, EDITING, REVIEW, COMMENT, READ, NONE],
        // PublicRoom
        (6, false) => &[ROOM_MANAGER, CONTENT_CREATOR, NONE],
        (6, true) => &[CONTENT_CREATOR, NONE],
        // FillingFormsRoom
        (1, false) => &[ROOM_MANAGER, CONTENT_CREATOR, FILL_FORMS, NONE],
        (1, true) => &[CONTENT_CREATOR, FILL_FORMS, NONE],
        // EditingRoom
        (2, false) => &[ROOM_MANAGER, CONTENT_CREATOR, EDITING, READ, NONE],
        (2, true) => &[CONTENT_CREATOR, EDITING, READ, NONE],
        // VirtualDataRoom
        (8, false) => &[
            ROOM_MANAGER,
            CONTENT_CREATOR,
            EDITING,
            READ,
            FILL_FORMS,
            NONE,
        ],
        (8, true) => &[CONTENT_CREATOR, EDITING, READ, FILL_FORMS, NONE],
        // AiRoom
        (9, false) => &[ROOM_MANAGER, CONTENT_CREATOR, READ, NONE],
        (9, true) => &[CONTENT_CREATOR, READ, NONE],
        _ => &[],
    }
}

/// `FileSecurity.AvailableUserAccesses`: what a user of each type may hold in any room. Only
/// DocSpace admins and room admins may be room managers.
fn user_type_roles(user_type: UserType) -> &'static [i64] {
    use access::*;
    match user_type {
        UserType::DocSpaceAdmin | UserType::RoomAdmin => &[
            ROOM_MANAGER,
            CONTENT_CREATOR,
            EDITING,
            FILL_FORMS,
            REVIEW,
            COMMENT,
            READ,
            NONE,
        ],
        UserType::User | UserType::Guest => &[
            CONTENT_CREATOR,
            EDITING,
            REVIEW,
            COMMENT,
            FILL_FORMS,
            READ,
            NONE,
        ],
    }
}

/// Whether `access` may be given to `subject` in a room of `room_type`
/// (`FileSharing.SetAceObjectAsync`: `FileSecurity.IsAvailableAccess` for the room type and
/// subject type, then `AvailableUserAccesses` for the user's type, then the AI-room rule that a
/// guest can be neither room manager nor content creator there).
pub fn role_allowed(room_type: i64, access: i64, subject: Subject) -> bool {
    let group = matches!(subject, Subject::Group);
    if !room_roles(room_type, group).contains(&access) {
        return false;
    }
    match subject {
        Subject::Group => true,
        Subject::User(t) => {
            let ai_guest = room_type == 9
                && t == UserType::Guest
                && matches!(access, access::ROOM_MANAGER | access::CONTENT_CREATOR);
            user_type_roles(t).contains(&access) && !ai_guest
        }
    }
}

/// The longest a link may live: `FilesLinkUtility.MaxLinkLifeTimeInYears`.
pub const LINK_MAX_YEARS: i32 = 10;

/// `MaxInvitationLinks` in `FileSharing`: a room has at most one invitation link.
pub const MAX_INVITATION_LINKS: usize = 1;

/// Titles the server gives links created without one (`FilesCommonResource`).
pub const DEFAULT_EXTERNAL_LINK_TITLE: &str = "Shared link";
pub const DEFAULT_INVITATION_LINK_TITLE: &str = "Invitation link";
pub const FILL_OUT_LINK_TITLE: &str = "Link to fill out";

/// `FileSecurity.AvailableRoomAccesses` for links: what a link of each kind may grant in a
/// room of each type. Empty: the room type takes no link of that kind (editing, virtual data
/// and AI rooms have no external links at all). 0 (None) is in every list; it revokes.
pub fn link_roles(room_type: i64, kind: LinkKind) -> &'static [i64] {
    use access::*;
    // `DefaultFileAccess`: the external-link roles of custom and public rooms.
    const DEFAULT_FILE_ACCESS: &[i64] = &[EDITING, FILL_FORMS, REVIEW, COMMENT, READ, NONE];
    match (room_type, kind) {
        (5, LinkKind::Invitation) => &[CONTENT_CREATOR, EDITING, REVIEW, COMMENT, READ, NONE],
        (5 | 6, LinkKind::External | LinkKind::PrimaryExternal) => DEFAULT_FILE_ACCESS,
        (6, LinkKind::Invitation) => &[CONTENT_CREATOR, READ, NONE],
        (1, LinkKind::Invitation) => &[CONTENT_CREATOR, FILL_FORMS, NONE],
        (1, LinkKind::External | LinkKind::PrimaryExternal) => &[FILL_FORMS, READ, NONE],
        (2, LinkKind::Invitation) => &[CONTENT_CREATOR, EDITING, READ, NONE],
        (8, LinkKind::Invitation) => &[CONTENT_CREATOR, EDITING, READ, FILL_FORMS, NONE],
        (9, LinkKind::Invitation) => &[CONTENT_CREATOR, READ, NONE],
        _ => &[],
    }
}

/// How many links of a kind a room may hold (`FileSharing.SetAceObjectAsync` with
/// `FileSecurity.GetLinksSettings` over `_linkCountRoomSettingsAccesses`): one invitation link
/// everywhere; custom and public rooms one primary and five more external links; form-filling
/// rooms only their primary link. A type missing from the table counts as 0.
pub fn link_limit(room_type: i64, kind: LinkKind) -> usize {
    match (kind, room_type) {
        (LinkKind::Invitation, _) => MAX_INVITATION_LINKS,
        (LinkKind::External, 5 | 6) => 5,
        (LinkKind::PrimaryExternal, 5 | 6 | 1) => 1,
        _ => 0,
    }
}

/// Whether the signed-in-users-only flag of a room's links can be changed
/// (`FileSecurity` refuses `EditInternal` in virtual data rooms and public rooms).
pub fn can_edit_link_internal(room_type: i64) -> bool {
    !matches!(room_type, 8 | 6)
}

/// Whether link expiry can be changed (`FileSecurity` refuses `EditExpiration` in form-filling
/// rooms).
pub fn can_edit_link_expiration(room_type: i64) -> bool {
    room_type != 1
}

/// The message of a refused link password (`PasswordSettingsManager.CheckPassword` with the
/// default `PasswordSettings`: 8 to 30 characters, no upper case, digit or symbol required).
pub const LINK_PASSWORD_RULE: &str =
    "Password must contain from 8 to 30 characters, only latin letters, no spaces";

/// `PasswordSettingsManager.CheckPassword` with the default settings: 8 to 30 UTF-16 units,
/// every one printable ASCII without the space (`[\x21-\x7E]`).
pub fn link_password_ok(password: &str) -> bool {
    let len = utf16_len(password);
    (8..=30).contains(&len) && password.bytes().all(|b| (0x21..=0x7E).contains(&b))
}

/// The cover ids `GET /files/rooms/covers` lists: the file names of the SVGs the server embeds
/// (`products/ASC.Files/Core/Covers/default/`, read by `RoomLogoManager.GetCoversAsync`).
/// `cover` on create and update must be one of these or empty (`ValidateRoomCover`).
pub const COVERS: [&str; 56] = [
    "anchor",
    "archive",
    "bell",
    "book_open",
    "bookmark",
    "calendar",
    "camera",
    "cart",
    "check mark",
    "clipboard",
    "cloud",
    "comment_1",
    "comment_2",
    "dollar",
    "face_1",
    "face_2",
    "face_3",
    "feather",
    "file_1",
    "file_2",
    "file_3",
    "file_empty",
    "film",
    "flag",
    "folder",
    "gift",
    "hash",
    "headphones",
    "heart",
    "house",
    "human",
    "img",
    "label",
    "layers",
    "life_buoy",
    "lock_security",
    "loupe",
    "mail",
    "map",
    "medal",
    "package",
    "pen",
    "percent",
    "planet",
    "schedule",
    "share",
    "shield",
    "sliders",
    "star",
    "suitcase",
    "telephone",
    "truck",
    "umbrella",
    "video_camera",
    "watch",
    "zap",
];

/// `UserSortType` names accepted by `sortBy` on `GET /people/filter` (parsed ignoring case;
/// anything else means `FirstName`, `UserQueryFilter` constructor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    FirstName,
    LastName,
    /// Mapped to `FirstName` or `LastName` by the portal's name format (FirstLast here).
    DisplayName,
    Type,
    Email,
    Department,
    UsedSpace,
    CreatedBy,
    RegistrationDate,
}

impl UserSort {
    pub fn parse(text: Option<&str>) -> UserSort {
        let names = [
            ("firstname", UserSort::FirstName),
            ("lastname", UserSort::LastName),
            ("displayname", UserSort::DisplayName),
            ("type", UserSort::Type),
            ("email", UserSort::Email),
            ("department", UserSort::Department),
            ("usedspace", UserSort::UsedSpace),
            ("createdby", UserSort::CreatedBy),
            ("registrationdate", UserSort::RegistrationDate),
        ];
        let Some(text) = text else {
            return UserSort::FirstName;
        };
        let key = text.trim().to_ascii_lowercase();
        match names.iter().find(|(n, _)| *n == key) {
            // The portal's default display format is FirstLast, so DisplayName sorts by
            // first name.
            Some((_, UserSort::DisplayName)) => UserSort::FirstName,
            Some((_, sort)) => *sort,
            None => UserSort::FirstName,
        }
    }
}

/// `SortedByType` names accepted by `sortBy` on `GET /files/rooms` (parsed ignoring case; an
/// unknown name is as if `sortBy` were absent: nothing is saved, the saved default applies).
pub const ROOM_SORTS: [&str; 13] = [
    "DateAndTime",
    "AZ",
    "Size",
    "Author",
    "Type",
    "New",
    "DateAndTimeCreation",
    "RoomType",
    "Tags",
    "Room",
    "CustomOrder",
    "LastOpened",
    "UsedSpace",
];

/// The canonical spelling of a `SortedByType` name, if it is one.
pub fn room_sort(text: &str) -> Option<&'static str> {
    let text = text.trim();
    ROOM_SORTS
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(text))
        .or_else(|| {
            // The generated enum parser also takes the numeric value.
            text.parse::<usize>()
                .ok()
                .and_then(|i| ROOM_SORTS.get(i).copied())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_trimmed_then_replaced_per_utf16_unit() {
        assert_eq!(stored_title("🚀 Launch"), "__ Launch");
        assert_eq!(stored_title("  a:b/c  "), "a_b_c");
        assert_eq!(stored_title("tab\there"), "tab_here");
        assert_eq!(stored_title("\tedge\t"), "edge");
        assert_eq!(stored_title("𠀀x"), "__x");
        assert_eq!(stored_title("é ü ß"), "é ü ß");
    }

    #[test]
    fn long_titles_are_cut_to_170_units_keeping_a_late_extension() {
        let long = "a".repeat(200);
        assert_eq!(utf16_len(&stored_title(&long)), 170);
        let with_ext = format!("{}.docx", "b".repeat(200));
        let stored = stored_title(&with_ext);
        assert_eq!(utf16_len(&stored), 170);
        assert!(stored.ends_with(".docx"));
        // An emoji cut in half still becomes `_` units.
        let emoji = format!("{}🚀", "c".repeat(169));
        assert_eq!(stored_title(&emoji), format!("{}_", "c".repeat(169)));
    }

    #[test]
    fn natural_order_compares_numbers_and_ignores_case() {
        assert_eq!(natural_cmp("Room 2", "Room 10"), Ordering::Less);
        assert_eq!(natural_cmp("acme", "ACME"), Ordering::Equal);
        assert_eq!(natural_cmp("ab", "abc"), Ordering::Less);
        assert_eq!(natural_cmp("b", "A"), Ordering::Greater);
    }

    #[test]
    fn role_tables() {
        use access::*;
        assert!(role_allowed(
            2,
            ROOM_MANAGER,
            Subject::User(UserType::RoomAdmin)
        ));
        assert!(!role_allowed(
            2,
            ROOM_MANAGER,
            Subject::User(UserType::User)
        ));
        assert!(!role_allowed(2, ROOM_MANAGER, Subject::Group));
        assert!(!role_allowed(
            5,
            READ_WRITE,
            Subject::User(UserType::RoomAdmin)
        ));
        assert!(!role_allowed(
            9,
            CONTENT_CREATOR,
            Subject::User(UserType::Guest)
        ));
        assert!(role_allowed(
            9,
            CONTENT_CREATOR,
            Subject::User(UserType::User)
        ));
        assert!(role_allowed(6, NONE, Subject::Group));
        assert!(!role_allowed(
            6,
            READ,
            Subject::User(UserType::DocSpaceAdmin)
        ));
    }

    #[test]
    fn sort_names_parse_ignoring_case() {
        assert_eq!(room_sort("az"), Some("AZ"));
        assert_eq!(room_sort("dateandtime"), Some("DateAndTime"));
        assert_eq!(room_sort("1"), Some("AZ"));
        assert_eq!(room_sort("Title"), None);
        assert_eq!(UserSort::parse(Some("EMAIL")), UserSort::Email);
        assert_eq!(UserSort::parse(Some("displayname")), UserSort::FirstName);
        assert_eq!(UserSort::parse(Some("nonsense")), UserSort::FirstName);
    }
}
