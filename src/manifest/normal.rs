//! The desired state written back as one manifest: what a saved plan carries so that
//! `apply --plan` can plan again from exactly what was approved (docs/architecture.md,
//! "Saved plans").
//!
//! The form is a manifest document in JSON (YAML 1.2 reads JSON), so reading it back goes
//! through the same parser and the same rulebook as any manifest file ([`read`]): editing
//! the embedded state of a saved plan is no worse than editing a manifest. It holds no
//! secret: links name the variable of their password (`password_env`), never a value, and
//! comments of the source files (which might hold anything) are not carried.
//!
//! Invariant: for every valid manifest, planning from `read(write(desired))` gives the same
//! plan as planning from `desired` (a test in `tests/it/saved_plan.rs` checks it on the
//! examples).

use serde_json::{Map, Value, json};

use super::desired::{Desired, DesiredInvitee, DesiredLink, DesiredPassword, DesiredRoom, Subject};
use super::{Problems, SourceFile};

/// The name the embedded state goes by in diagnostics.
pub const SOURCE_NAME: &str = "desired state of the saved plan";

/// The desired state as one manifest document.
pub fn write(desired: &Desired) -> Value {
    let mut doc = Map::new();
    doc.insert("version".into(), json!(1));
    if let Some(tag) = &desired.managed_tag {
        doc.insert("managed_tag".into(), json!(tag));
    }
    // The set as written: a pruning run's files were checked against it when the plan was
    // made; read back from a plan (not from files) the set is not looked up on disk again.
    if let Some(set) = &desired.manifest_set {
        let listed: Vec<&str> = set.listed.iter().map(|l| l.written.as_str()).collect();
        doc.insert("manifest_set".into(), json!(listed));
    }
    let d = &desired.defaults;
    let mut defaults = Map::new();
    defaults.insert("notify".into(), json!(d.notify));
    put(&mut defaults, "message", d.message.as_ref());
    put(&mut defaults, "culture", d.culture.as_ref());
    if d.refuse_new_guests {
        defaults.insert("new_guests".into(), json!(false));
    }
    doc.insert("defaults".into(), Value::Object(defaults));
    let rooms: Vec<Value> = desired.rooms.iter().map(room).collect();
    doc.insert("rooms".into(), Value::Array(rooms));
    // The rules travel with the plan: `apply --plan` refuses what `plan` refused.
    if !desired.policy.is_empty() {
        doc.insert("policy".into(), json!(desired.policy));
    }
    // A group's `people_from` rows are written as its `people`: a saved plan never reads
    // the CSV file again, it carries what was approved.
    if !desired.groups.is_empty() {
        let groups: Vec<Value> = desired.groups.iter().map(group).collect();
        doc.insert("groups".into(), Value::Array(groups));
    }
    if !desired.people.is_empty() {
        let people: Vec<Value> = desired.people.iter().map(person).collect();
        doc.insert("people".into(), Value::Array(people));
    }
    Value::Object(doc)
}

fn group(g: &super::desired::DesiredGroup) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(g.name));
    put(&mut m, "id", g.id.as_ref());
    put(&mut m, "manager", g.manager.as_ref().map(|p| &p.email));
    let people: Vec<&str> = g.people.iter().map(|p| p.email.as_str()).collect();
    m.insert("people".into(), json!(people));
    m.insert("members".into(), json!(g.members));
    Value::Object(m)
}

fn person(p: &super::desired::DesiredPerson) -> Value {
    let mut m = Map::new();
    m.insert("email".into(), json!(p.written_email));
    m.insert("type".into(), json!(p.user_type.name()));
    put(&mut m, "first_name", p.first_name.as_ref());
    put(&mut m, "last_name", p.last_name.as_ref());
    Value::Object(m)
}

/// Reads a desired state written by [`write`] through the manifest parser and rulebook.
/// `Err` holds every problem (located in the re-serialised text).
pub fn read(state: &Value) -> Result<Desired, Problems> {
    let text = serde_json::to_string_pretty(state).unwrap_or_default();
    let mut problems = Problems::default();
    let desired = super::load_sources(vec![SourceFile::new(SOURCE_NAME, text)], &mut problems);
    if problems.has_errors() {
        Err(problems)
    } else {
        Ok(desired)
    }
}

/// A digest of the written state, so that a saved plan whose state was edited by hand is
/// told apart from one whose portal changed (messages only: a digest proves nothing).
pub fn digest(state: &Value) -> String {
    use sha2::{Digest, Sha256};
    let text = serde_json::to_string(state).unwrap_or_default();
    format!("sha256:{:x}", Sha256::digest(text.as_bytes()))
}

fn put<T: serde::Serialize>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

fn room(r: &DesiredRoom) -> Value {
    let mut m = Map::new();
    m.insert("title".into(), json!(r.title));
    m.insert("type".into(), json!(r.room_type.name()));
    put(&mut m, "id", r.id);
    put(&mut m, "tags", r.tags.as_ref());
    if let Some(q) = r.quota {
        m.insert(
            "quota".into(),
            match q {
                super::Quota::Unlimited => json!("unlimited"),
                super::Quota::Bytes(b) => json!(b),
            },
        );
    }
    put(&mut m, "deny_download", r.deny_download);
    m.insert("members".into(), json!(r.members));
    m.insert("state".into(), json!(r.state));
    let invitees: Vec<Value> = r.invitees.iter().map(invitee).collect();
    m.insert("invitees".into(), Value::Array(invitees));
    if !r.links.is_empty() {
        m.insert(
            "links".into(),
            Value::Array(r.links.iter().map(link).collect()),
        );
    }
    if r.links_exact {
        m.insert("links_exact".into(), json!(true));
    }
    put(&mut m, "color", r.color.as_ref());
    put(&mut m, "cover", r.cover.as_ref());
    put(&mut m, "indexing", r.indexing);
    put(&mut m, "lifetime", r.lifetime.as_ref());
    match r.template.as_ref().map(|t| &t.reference) {
        Some(crate::model::template::TemplateRef::Id(id)) => {
            m.insert("template".into(), json!(id));
        }
        Some(crate::model::template::TemplateRef::Title(t)) => {
            m.insert("template".into(), json!(t));
        }
        None => {}
    }
    if let Some(w) = &r.watermark {
        let mut wm = Map::new();
        put(&mut wm, "text", w.text.as_ref());
        let additions: Vec<&str> = w.additions.iter().map(|a| a.name()).collect();
        if !additions.is_empty() {
            wm.insert("additions".into(), json!(additions));
        }
        if w.rotation != 0 {
            wm.insert("rotation".into(), json!(w.rotation));
        }
        m.insert("watermark".into(), Value::Object(wm));
    }
    Value::Object(m)
}

fn moment(at: &chrono::DateTime<chrono::Utc>) -> Value {
    json!(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn invitee(i: &DesiredInvitee) -> Value {
    let mut m = Map::new();
    match &i.subject {
        Subject::Email(e) => m.insert(
            "email".into(),
            json!(i.written_email.as_deref().unwrap_or(e)),
        ),
        Subject::Group(g) => m.insert("group".into(), json!(g)),
    };
    m.insert("access".into(), json!(i.access.name()));
    if let Some(at) = &i.expires {
        m.insert("expires".into(), moment(at));
    }
    if i.new_account {
        m.insert("new_account".into(), json!(true));
    }
    Value::Object(m)
}

fn link(l: &DesiredLink) -> Value {
    let mut m = Map::new();
    m.insert("title".into(), json!(l.title));
    m.insert("kind".into(), json!(l.kind.name()));
    m.insert("access".into(), json!(l.access.name()));
    // An option left out stays left out (not managed); `never` and `unlimited` are written.
    match &l.expires {
        Some(Some(at)) => {
            m.insert("expires".into(), moment(at));
        }
        Some(None) => {
            m.insert("expires".into(), json!("never"));
        }
        None => {}
    }
    put(&mut m, "internal", l.internal);
    put(&mut m, "deny_download", l.deny_download);
    match l.max_uses {
        Some(Some(n)) => {
            m.insert("max_uses".into(), json!(n));
        }
        Some(None) => {
            m.insert("max_uses".into(), json!("unlimited"));
        }
        None => {}
    }
    match &l.password {
        Some(DesiredPassword::FromEnv(name)) => {
            m.insert("password_env".into(), json!(name));
        }
        Some(DesiredPassword::Keep) => {
            m.insert("keep_password".into(), json!(true));
        }
        Some(DesiredPassword::Remove) => {
            m.insert("keep_password".into(), json!(false));
        }
        None => {}
    }
    Value::Object(m)
}
