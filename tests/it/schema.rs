//! The committed JSON Schema must equal what `schema` prints (regenerate with
//! `cargo run -- schema > schemas/manifest.schema.json`).

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
