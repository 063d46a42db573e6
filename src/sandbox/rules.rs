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
