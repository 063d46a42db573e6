//! The manifest format as Rust types, for the JSON Schema only (draft-07, for editors via the
//! yaml-language-server modeline). Reading is done by `validate/`, which collects every
//! problem; a test keeps its key lists equal to the properties here.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::model::{Access, LifetimePeriod, LinkKind, RoomType, WatermarkAddition};

/// A docspace-provision manifest: rooms and who may enter them.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "docspace-provision manifest")]
#[allow(dead_code)]
pub struct Manifest {
    /// Manifest format version; always 1.
    #[schemars(schema_with = "version_schema")]
    version: u8,
    /// The marker tag of the rooms this manifest set manages, declared in one file of the set
    /// only: the tool adds it to every room the set lists, and a room that carries it but is
    /// no longer listed is an orphan (`plan` lists it, `apply --prune` archives it). Without
    /// it, nothing outside the manifest is touched.
    #[schemars(length(min = 1, max = crate::model::TAG_MAX_CHARS))]
    managed_tag: Option<String>,
    /// The files of this manifest set, allowed only beside `managed_tag`: file or directory
    /// paths relative to this file (a directory stands for the manifests in it). `--prune`
    /// needs it, and refuses a run that is not given exactly these files (this file is always
    /// one of them), so that pruning part of a set cannot archive the rooms of the rest.
    #[schemars(length(min = 1))]
    manifest_set: Option<Vec<ManifestPath>>,
    /// Settings for invitations made by this manifest.
    defaults: Option<ManifestDefaults>,
    /// The rooms to keep in step with the portal.
    rooms: Option<Vec<Room>>,
    /// Rules every room must follow: `validate` and `plan` refuse a manifest that breaks one,
    /// `audit` checks the live portal (managed and unmanaged rooms). A file may hold only
    /// `policy:`. Several files' blocks merge: each rule (and each tag of `rooms_tagged`) is
    /// declared in one file, or the same in each.
    policy: Option<ManifestPolicy>,
    /// Portal groups to keep in step: created when missing, renamed when pinned by `id`,
    /// their manager and people set. Groups not listed are never touched.
    groups: Option<Vec<Group>>,
    /// People and their user types: missing people are invited with their type, lower
    /// types raised. Never deleted, disabled or lowered by the tool.
    people: Option<Vec<Person>>,
}

/// `policy:`: the rules.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ManifestPolicy {
    /// Every external link (primary links included) must have each listed protection
    /// (`expires`, `password`); a primary link cannot expire in DocSpace, so for it `expires`
    /// is reported as "cannot be met: restrict or remove the link". `max_days`: no link may
    /// expire further away than this.
    external_links: Option<PolicyExternalLinks>,
    /// Guests: the highest access they may have (`max_access`, in the order read = fill-forms
    /// < comment < review < editing < content-creator < room-manager), the room types they may
    /// be in (`allowed_in`), and whether their membership needs an `expires:`.
    guests: Option<PolicyGuests>,
    /// How many room managers a room has, at least and at most (`min` is checked on the
    /// live portal only).
    room_managers: Option<PolicyRoomManagers>,
    /// Rules for the rooms with a tag (compared case-insensitively), by tag.
    rooms_tagged: Option<std::collections::BTreeMap<String, PolicyTagged>>,
}

/// `policy: {external_links: ...}`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PolicyExternalLinks {
    /// `expires`, `password`.
    #[schemars(schema_with = "protections_schema")]
    require: Option<Vec<String>>,
    /// Days from now within which every external link must expire.
    #[schemars(range(min = 1, max = crate::model::policy::MAX_LINK_DAYS))]
    max_days: Option<u32>,
}

/// `policy: {guests: ...}`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PolicyGuests {
    #[schemars(schema_with = "access_schema")]
    max_access: Option<String>,
    allowed_in: Option<Vec<RoomTypeName>>,
    require_expires: Option<bool>,
}

/// A room type name.
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
pub struct RoomTypeName(#[schemars(schema_with = "room_type_schema")] String);

/// `policy: {room_managers: ...}`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PolicyRoomManagers {
    #[schemars(range(max = 1000))]
    min: Option<u32>,
    #[schemars(range(max = 1000))]
    max: Option<u32>,
}

/// One tag's rule under `rooms_tagged`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct PolicyTagged {
    /// `watermark`: the room must have one.
    #[schemars(schema_with = "tag_requirements_schema")]
    require: Option<Vec<String>>,
    /// `true`: the room must forbid downloads.
    deny_download: Option<bool>,
}

fn protections_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = crate::model::policy::LinkProtection::ALL
        .iter()
        .map(|p| p.name())
        .collect();
    json_schema!({ "type": "array", "items": { "type": "string", "enum": names } })
}

fn tag_requirements_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = crate::model::policy::TagRequirement::ALL
        .iter()
        .map(|p| p.name())
        .collect();
    json_schema!({ "type": "array", "items": { "type": "string", "enum": names } })
}

/// A portal group.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Group {
    /// The group's name (1 to 128 characters). Groups are matched by it, ignoring case,
    /// unless `id` pins one.
    #[schemars(length(min = 1, max = crate::model::GROUP_NAME_MAX_CHARS))]
    name: String,
    /// Pin this entry to an existing group id (a uuid; allows renaming the group).
    #[schemars(length(min = 1))]
    id: Option<String>,
    /// The group's manager, by email (also a member).
    #[schemars(email)]
    manager: Option<String>,
    /// The group's people, by email.
    people: Option<Vec<GroupEmail>>,
    /// A CSV file in the manifest's directory (or below it) with an `email` column: more
    /// people of the group. Other columns are ignored; at most 1 MiB and 10,000 rows.
    #[schemars(length(min = 1))]
    people_from: Option<String>,
    /// `additive` (default): never remove people the manifest does not list. `exact`:
    /// remove them (each removal needs `--allow-removals`).
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "members_schema")]
    members: Option<String>,
}

/// An email of a group's `people`.
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
pub struct GroupEmail(#[schemars(email)] String);

/// A person and their user type.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Person {
    /// The person's email (compared case-insensitively).
    #[schemars(email)]
    email: String,
    /// The user type: docspace-admin, room-admin, user or guest (exactly these spellings).
    #[serde(rename = "type")]
    #[schemars(schema_with = "user_type_schema")]
    user_type: String,
    /// The first name. Not sent: the invitation carries no name, and the tool does not edit
    /// profiles (the person enters it when accepting).
    #[schemars(length(min = 1, max = 255))]
    first_name: Option<String>,
    /// The last name (not sent, as `first_name`).
    #[schemars(length(min = 1, max = 255))]
    last_name: Option<String>,
}

fn user_type_schema(_: &mut SchemaGenerator) -> Schema {
    names_schema(
        "docspace-admin | room-admin | user | guest",
        crate::model::UserType::ALL
            .iter()
            .map(|t| t.name())
            .collect(),
    )
}

/// A file or directory path, relative to the manifest that lists it.
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)]
pub struct ManifestPath(#[schemars(length(min = 1))] String);

/// Settings for invitations.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ManifestDefaults {
    /// Email existing users when they are added to a room. New guests always get an
    /// invitation email from DocSpace, whatever this says.
    notify: Option<bool>,
    /// A note included in notification emails.
    message: Option<String>,
    /// Language of invitation emails and of new guest accounts, e.g. `en-US`.
    #[schemars(regex(pattern = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"))]
    culture: Option<String>,
    /// `false`: never plan a new guest account. An invitee whose email has no account on the
    /// portal is then a plan error instead of an invitation email (as `--no-new-guests`).
    new_guests: Option<bool>,
}

/// One room.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Room {
    /// The room's title. Rooms are matched by it (after DocSpace replaces `\t * + : " < > ? | \ /`
    /// with `_`), unless `id` pins the room.
    #[schemars(length(min = 1, max = crate::model::TITLE_MAX_CHARS))]
    title: String,
    /// The room type. DocSpace cannot change a room's type after creation.
    #[serde(rename = "type")]
    #[schemars(schema_with = "room_type_schema")]
    room_type: String,
    /// Pin this entry to an existing room id (allows renaming the room).
    #[schemars(range(min = 1))]
    id: Option<i64>,
    /// When given, the exact set of tags on the room (numbers are taken as text).
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "tags_schema")]
    tags: Option<Vec<String>>,
    /// Storage quota: bytes, a size such as `10GiB` or `500MB`, or `unlimited`.
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "quota_schema")]
    quota: Option<String>,
    /// Forbid downloading, printing and copying of the room's files.
    deny_download: Option<bool>,
    /// `additive` (default): never remove members the manifest does not list. `exact`: remove
    /// them (never the room owner, never the API key's own user).
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "members_schema")]
    members: Option<String>,
    /// `present` (default) or `archived`.
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "state_schema")]
    state: Option<String>,
    /// People and groups with access to the room.
    invitees: Option<Vec<Invitee>>,
    /// Sharing links, matched by title. Links not listed are left alone unless `links_exact`.
    links: Option<Vec<Link>>,
    /// Revoke the room's links that `links` does not list.
    links_exact: Option<bool>,
    /// The room's colour: 6 hex digits, with or without a leading `#` (quote it then).
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "color_schema")]
    color: Option<String>,
    /// A cover id from the portal's list (`GET /api/2.0/files/rooms/covers`).
    #[schemars(length(min = 1, max = crate::model::COVER_MAX_CHARS))]
    cover: Option<String>,
    /// Number the room's files (virtual data rooms only).
    indexing: Option<bool>,
    /// Remove files older than this (virtual data rooms only).
    lifetime: Option<RoomLifetime>,
    /// Watermark the room's documents (virtual data rooms only).
    watermark: Option<RoomWatermark>,
    /// Create the room from this room template (its title, or its id as an integer): the new
    /// room gets the template's folders and files. No effect on a room that exists.
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "template_schema")]
    template: Option<serde_json::Value>,
}

/// A sharing link of a room.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
// `kind` may be left out of a revoke (`access: none`).
#[schemars(extend("anyOf" = [{"required": ["kind"]}, {"properties": {"access": {"const": "none"}}}]))]
#[allow(dead_code)]
pub struct Link {
    /// The link's title; links are matched by it (case-insensitively) within the room.
    #[schemars(length(min = 1, max = crate::model::LINK_TITLE_MAX_CHARS))]
    title: String,
    /// `external` (public, custom and form-filling rooms) or `invitation` (one per room);
    /// may be left out with `access: none`.
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "link_kind_schema")]
    kind: Option<String>,
    /// What the link grants; which levels depend on the kind and the room type. `none`
    /// revokes the link.
    #[schemars(schema_with = "access_schema")]
    access: String,
    /// When the link stops working: a future date (the start of that day in UTC) or date and
    /// time with offset, at most 10 years ahead, or `never`. Left out: the link's current
    /// expiry stays (not managed).
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "link_expires_schema")]
    expires: Option<String>,
    /// Only signed-in portal users may follow the link (external links only). Left out: not
    /// managed.
    internal: Option<bool>,
    /// Forbid download, print and copy through the link (external links only). Left out:
    /// not managed.
    deny_download: Option<bool>,
    /// How many people may join through the link (invitation links only), or `unlimited`.
    /// Left out: not managed.
    #[serde(default)]
    #[schemars(schema_with = "max_uses_schema")]
    max_uses: Option<String>,
    /// The name of the environment variable holding the link's password (external links
    /// only). Never write the password itself in the manifest.
    #[schemars(regex(pattern = r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    password_env: Option<String>,
    /// `true`: the link keeps the password it has (an error when it has none); `false`: the
    /// link has no password. Left out, with no `password_env`: not managed. External links
    /// only; not with `password_env`.
    keep_password: Option<bool>,
}

/// The automatic lifetime of a room's files.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RoomLifetime {
    /// How many periods files are kept.
    #[schemars(range(min = 1, max = 999))]
    value: u16,
    /// days, months or years.
    #[schemars(schema_with = "period_schema")]
    period: String,
    /// Delete old files for good instead of moving them to the trash (default false).
    delete_permanently: Option<bool>,
}

/// A room's watermark: a text, additions, or both.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["text"]}, {"required": ["additions"]}]))]
#[allow(dead_code)]
pub struct RoomWatermark {
    /// The text shown.
    #[schemars(length(max = crate::model::WATERMARK_TEXT_MAX_CHARS))]
    text: Option<String>,
    /// Information added to the text.
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "additions_schema")]
    additions: Option<Vec<String>>,
    /// The angle in degrees: 0 horizontal, -45 diagonal (default 0).
    #[schemars(range(min = -360, max = 360))]
    rotation: Option<i32>,
}

/// A person (by email) or a group (by name) and their access level. Exactly one of `email` and
/// `group`.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["email"]}, {"required": ["group"]}]))]
#[allow(dead_code)]
pub struct Invitee {
    /// The person's email (compared case-insensitively). Unknown emails are invited as guests.
    #[schemars(email)]
    email: Option<String>,
    /// The name of a DocSpace group.
    group: Option<String>,
    /// The access level. Which levels a room accepts depends on its type.
    #[schemars(schema_with = "access_schema")]
    access: String,
    /// From this moment on the subject is removed and not invited again: a date (the start of
    /// that day in UTC) or a date and time with offset. Not with `access: none`.
    #[serde(default)] // With `schema_with`, only this keeps an Option optional.
    #[schemars(schema_with = "moment_schema")]
    expires: Option<String>,
    /// `true`: this person is meant to be new to the portal. Without it, an email with no
    /// account that is close to an existing account's (a likely typo) is a plan error with
    /// "did you mean"; with it, the new guest account is planned. Email invitees only.
    new_account: Option<bool>,
}

fn tags_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": ["string", "integer"] }
    })
}

fn moment_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "description": "A date (2027-01-31, the start of that day in UTC) or a date and time with offset (2027-01-31T18:00:00+01:00).",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\\.[0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2}))?$"
    })
}

fn link_expires_schema(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "oneOf": [
            moment_schema(generator),
            { "const": "never", "description": "The link does not expire." }
        ]
    })
}

fn max_uses_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "oneOf": [
            {
                "type": "integer",
                "minimum": *crate::model::LINK_USES_RANGE.start(),
                "maximum": *crate::model::LINK_USES_RANGE.end()
            },
            { "const": "unlimited", "description": "No use limit." }
        ]
    })
}

fn color_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "6 hex digits such as 1c6ddc; a leading # is dropped (quote it: an unquoted # starts a YAML comment).",
        "oneOf": [
            { "type": "string", "minLength": 6, "maxLength": 7, "pattern": "^#?[0-9A-Fa-f]{6}$" },
            { "type": "integer", "minimum": 100000, "maximum": 999999 }
        ]
    })
}

fn link_kind_schema(_: &mut SchemaGenerator) -> Schema {
    names_schema(
        "external | invitation",
        LinkKind::ALL.iter().map(|k| k.name()).collect(),
    )
}

fn period_schema(_: &mut SchemaGenerator) -> Schema {
    let mut names: Vec<&str> = LifetimePeriod::ALL.iter().map(|p| p.name()).collect();
    names.extend(["day", "month", "year", "Day", "Month", "Year"]);
    names_schema("days | months | years", names)
}

fn additions_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = WatermarkAddition::ALL.iter().map(|a| a.name()).collect();
    json_schema!({
        "type": "array",
        "description": "user_name | user_email | user_ip | current_date | room_name",
        "items": { "type": "string", "enum": names }
    })
}

fn version_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "description": "Manifest format version; always 1.", "const": 1 })
}

fn names_schema(description: &str, names: Vec<&str>) -> Schema {
    json_schema!({ "type": "string", "description": description, "enum": names })
}

fn room_type_schema(_: &mut SchemaGenerator) -> Schema {
    let mut names: Vec<&str> = RoomType::MANIFEST.iter().map(|t| t.name()).collect();
    names.extend(RoomType::MANIFEST.iter().map(|t| t.docspace_name()));
    names_schema(
        "collaboration | form-filling | custom | public | virtual-data-room (DocSpace's own names such as EditingRoom are accepted too, in any case)",
        names,
    )
}

fn access_schema(_: &mut SchemaGenerator) -> Schema {
    let mut names: Vec<&str> = Access::ALL.iter().map(|a| a.name()).collect();
    names.extend(Access::ALL.iter().map(|a| a.docspace_name()));
    names.extend(["RoomAdmin", "Collaborator"]);
    names_schema(
        "room-manager | content-creator | editing | review | comment | fill-forms | read | none (DocSpace's names and the legacy RoomAdmin / Collaborator are accepted too, in any case). `none` ensures the subject has no access.",
        names,
    )
}

fn members_schema(_: &mut SchemaGenerator) -> Schema {
    names_schema("additive (default) or exact", vec!["additive", "exact"])
}

fn state_schema(_: &mut SchemaGenerator) -> Schema {
    names_schema("present (default) or archived", vec!["present", "archived"])
}

fn template_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A room template's title, or its id (an integer).",
        "oneOf": [
            { "type": "integer", "minimum": 1 },
            { "type": "string", "minLength": 1, "maxLength": crate::model::TITLE_MAX_CHARS }
        ]
    })
}

fn quota_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "Bytes, a size with a unit (B, KB, MB, GB, TB are powers of 1000; KiB, MiB, GiB, TiB powers of 1024), or `unlimited`.",
        "oneOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": "^(?:[Uu][Nn][Ll][Ii][Mm][Ii][Tt][Ee][Dd]|[0-9]+(?:\\.[0-9]+)?\\s*(?:[BbKkMmGgTt]|[KkMmGgTt][Ii]?[Bb])?)$" }
        ]
    })
}

/// The JSON Schema of the manifest, draft-07, pretty-printed with a trailing newline.
pub fn schema_json() -> String {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Manifest>();
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::validate::{
        DEFAULTS_KEYS, GROUP_KEYS, INVITEE_KEYS, LIFETIME_KEYS, LINK_KEYS, PERSON_KEYS, ROOM_KEYS,
        TOP_KEYS, WATERMARK_KEYS,
    };

    fn properties(schema: &serde_json::Value, pointer: &str) -> Vec<String> {
        let mut keys: Vec<String> = schema
            .pointer(pointer)
            .and_then(|v| v.as_object())
            .unwrap_or_else(|| panic!("no properties at {pointer}"))
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut k: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        k.sort();
        k
    }

    #[test]
    fn schema_keys_match_the_validator() {
        let schema: serde_json::Value = serde_json::from_str(&schema_json()).unwrap();
        assert_eq!(properties(&schema, "/properties"), sorted(TOP_KEYS));
        assert_eq!(
            properties(&schema, "/definitions/ManifestDefaults/properties"),
            sorted(DEFAULTS_KEYS)
        );
        assert_eq!(
            properties(&schema, "/definitions/Room/properties"),
            sorted(ROOM_KEYS)
        );
        assert_eq!(
            properties(&schema, "/definitions/Invitee/properties"),
            sorted(INVITEE_KEYS)
        );
        assert_eq!(
            properties(&schema, "/definitions/Link/properties"),
            sorted(LINK_KEYS)
        );
        assert_eq!(
            properties(&schema, "/definitions/RoomLifetime/properties"),
            sorted(LIFETIME_KEYS)
        );
        assert_eq!(
            properties(&schema, "/definitions/RoomWatermark/properties"),
            sorted(WATERMARK_KEYS)
        );
        use crate::model::policy as p;
        for (definition, keys) in [
            ("ManifestPolicy", p::RULE_KEYS),
            ("PolicyExternalLinks", p::EXTERNAL_LINKS_KEYS),
            ("PolicyGuests", p::GUESTS_KEYS),
            ("PolicyRoomManagers", p::ROOM_MANAGERS_KEYS),
            ("PolicyTagged", p::TAGGED_KEYS),
        ] {
            assert_eq!(
                properties(&schema, &format!("/definitions/{definition}/properties")),
                sorted(keys)
            );
        }
        assert_eq!(
            properties(&schema, "/definitions/Group/properties"),
            sorted(GROUP_KEYS)
        );
        assert_eq!(
            properties(&schema, "/definitions/Person/properties"),
            sorted(PERSON_KEYS)
        );
    }
}
