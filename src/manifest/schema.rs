//! The manifest format as Rust types, for the JSON Schema only (draft-07, for editors via the
//! yaml-language-server modeline). Reading is done by `validate.rs`, which collects every
//! problem; a test keeps its key lists equal to the properties here.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::model::{Access, RoomType};

/// A docspace-provision manifest: rooms and who may enter them.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields, title = "docspace-provision manifest")]
#[allow(dead_code)]
pub struct Manifest {
    /// Manifest format version; always 1.
    #[schemars(schema_with = "version_schema")]
    version: u8,
    /// Settings for invitations made by this manifest.
    defaults: Option<ManifestDefaults>,
    /// The rooms to keep in step with the portal.
    rooms: Option<Vec<Room>>,
}

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
}

/// One room.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
pub struct Room {
    /// The room's title. Rooms are matched by it (after DocSpace replaces `\t * + : " < > ? | \ /`
    /// with `_`), unless `id` pins the room.
    #[schemars(length(min = 1, max = 170))]
    title: String,
    /// The room type. DocSpace cannot change a room's type after creation.
    #[serde(rename = "type")]
    #[schemars(schema_with = "room_type_schema")]
    room_type: String,
    /// Pin this entry to an existing room id (allows renaming the room).
    #[schemars(range(min = 1))]
    id: Option<i64>,
    /// When given, the exact set of tags on the room.
    tags: Option<Vec<String>>,
    /// Storage quota: bytes, a size such as `10GiB` or `500MB`, or `unlimited`.
    #[schemars(schema_with = "quota_schema")]
    quota: Option<String>,
    /// Forbid downloading, printing and copying of the room's files.
    deny_download: Option<bool>,
    /// `additive` (default): never remove members the manifest does not list. `exact`: remove
    /// them (never the room owner, never the API key's own user).
    #[schemars(schema_with = "members_schema")]
    members: Option<String>,
    /// `present` (default) or `archived`.
    #[schemars(schema_with = "state_schema")]
    state: Option<String>,
    /// People and groups with access to the room.
    invitees: Option<Vec<Invitee>>,
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
    use crate::manifest::validate::{DEFAULTS_KEYS, INVITEE_KEYS, ROOM_KEYS, TOP_KEYS};

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
    }
}
