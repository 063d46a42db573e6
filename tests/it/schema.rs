//! The committed JSON Schema must equal what `schema` prints (regenerate with
//! `cargo run -- schema > schemas/manifest.schema.json`), accept every example and refuse the
//! shapes the validator refuses.

use serde_json::Value;

use crate::common::run;

#[test]
fn committed_schema_is_fresh() {
    let out = run(["schema"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let committed = std::fs::read_to_string("schemas/manifest.schema.json").unwrap();
    assert!(
        committed == out.stdout,
        "schemas/manifest.schema.json is stale: run `cargo run -- schema > schemas/manifest.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["required"], serde_json::json!(["version"]));
}

/// The draft-07 keywords the schema uses, checked the way an editor's validator does;
/// `pattern` and `format` are not checked here (no regex engine among the dependencies),
/// so the shapes below are ones the other keywords decide.
fn errors(root: &Value, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        let target = root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference}"));
        return errors(root, target, value, path, out);
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = |t: &str| match t {
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            "null" => value.is_null(),
            _ => false,
        };
        if !names.iter().any(|t| fits(t)) {
            out.push(format!("{path}: not {names:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        out.push(format!("{path}: {value} not in enum"));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        out.push(format!("{path}: not {c}"));
    }
    if let Some(n) = value.as_f64() {
        if schema
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            out.push(format!("{path}: below minimum"));
        }
        if schema
            .get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            out.push(format!("{path}: above maximum"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if schema
            .get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
        {
            out.push(format!("{path}: too short"));
        }
        if schema
            .get("maxLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len > m)
        {
            out.push(format!("{path}: too long"));
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            errors(root, items, item, &format!("{path}[{i}]"), out);
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, v) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(s) => errors(root, s, v, &format!("{path}.{key}"), out),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    out.push(format!("{path}: unknown key {key}"))
                }
                None => {}
            }
        }
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(key) {
                out.push(format!("{path}: missing {key}"));
            }
        }
    }
    let passes = |s: &Value| {
        let mut e = Vec::new();
        errors(root, s, value, path, &mut e);
        e.is_empty()
    };
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array)
        && one.iter().filter(|s| passes(s)).count() != 1
    {
        out.push(format!("{path}: not exactly one of oneOf"));
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        out.push(format!("{path}: none of anyOf"));
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            errors(root, s, value, path, out);
        }
    }
}

fn schema() -> Value {
    serde_json::from_str(&std::fs::read_to_string("schemas/manifest.schema.json").unwrap()).unwrap()
}

fn check(yaml: &str) -> Vec<String> {
    let schema = schema();
    let value: Value = serde_saphyr::from_str(yaml).unwrap();
    let mut out = Vec::new();
    errors(&schema, &schema, &value, "", &mut out);
    out
}

#[test]
fn the_schema_accepts_every_example() {
    for example in ["examples/full.yaml", "examples/rooms.yaml"] {
        let text = std::fs::read_to_string(example).unwrap();
        assert_eq!(check(&text), Vec::<String>::new(), "{example}");
    }
}

/// Each shape is refused by the schema (an editor marks it) as `validate` refuses it.
#[test]
fn the_schema_refuses_the_bad_shapes_of_the_new_fields() {
    let typed = |room_type: &str, extra: &str| {
        format!("version: 1\nrooms:\n  - title: A\n    type: {room_type}\n{extra}")
    };
    let room = |extra: &str| typed("virtual-data-room", extra);
    // External links need a custom (or public, form-filling) room.
    let link = |extra: &str| {
        typed(
            "custom",
            &format!(
                "    links:\n      - title: L\n        kind: external\n        access: read\n{extra}"
            ),
        )
    };
    let cases = [
        (
            "managed_tag empty",
            "version: 1\nmanaged_tag: ''\n".to_string(),
        ),
        (
            "managed_tag list",
            "version: 1\nmanaged_tag: [a]\n".to_string(),
        ),
        ("password in a link", link("        password: hunter22\n")),
        ("max_uses 0", link("        max_uses: 0\n")),
        ("max_uses 5000", link("        max_uses: 5000\n")),
        ("internal not a bool", link("        internal: maybe\n")),
        (
            "unknown link kind",
            typed(
                "custom",
                "    links:\n      - {title: L, kind: public, access: read}\n",
            ),
        ),
        (
            "link without kind",
            typed("custom", "    links:\n      - {title: L, access: read}\n"),
        ),
        (
            "link title too long",
            typed(
                "custom",
                &format!(
                    "    links:\n      - {{title: {}, kind: external, access: read}}\n",
                    "x".repeat(256)
                ),
            ),
        ),
        ("links_exact not a bool", room("    links_exact: all\n")),
        ("color too long", room("    color: '#1c6ddcff'\n")),
        ("color 5 digits as number", room("    color: 12345\n")),
        (
            "cover too long",
            room(&format!("    cover: {}\n", "c".repeat(51))),
        ),
        ("indexing not a bool", room("    indexing: 1\n")),
        (
            "lifetime without period",
            room("    lifetime: {value: 3}\n"),
        ),
        (
            "lifetime value 0",
            room("    lifetime: {value: 0, period: days}\n"),
        ),
        (
            "lifetime in weeks",
            room("    lifetime: {value: 3, period: weeks}\n"),
        ),
        ("empty watermark", room("    watermark: {rotation: 0}\n")),
        (
            "unknown watermark addition",
            room("    watermark: {additions: [user_mail]}\n"),
        ),
        (
            "rotation 400",
            room("    watermark: {text: x, rotation: 400}\n"),
        ),
        (
            "invitee expires a number",
            room("    invitees:\n      - {email: a@b.co, access: read, expires: 20270131}\n"),
        ),
    ];
    for (name, yaml) in &cases {
        assert!(
            !check(yaml).is_empty(),
            "the schema accepts {name}:\n{yaml}"
        );
        // `validate` refuses them too: the schema is never stricter than the tool.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.yaml");
        std::fs::write(&path, yaml).unwrap();
        let out = run(["validate".as_ref(), path.as_os_str()]);
        assert_eq!(out.code, 1, "validate accepts {name}: {}", out.stderr);
    }
    // And the good forms pass both.
    let good =
        link("        internal: true\n        deny_download: true\n        password_env: PW\n");
    assert_eq!(check(&good), Vec::<String>::new());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.yaml");
    std::fs::write(&path, &good).unwrap();
    let out = run(["validate".as_ref(), path.as_os_str()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
