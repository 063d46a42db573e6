//! Scalar readers shared by the other parts: strings, booleans, choices, moments
//! (`expires:`), sizes (`quota:`), access levels, and the "did you mean" suggestion.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::manifest::desired::Quota;
use crate::manifest::text;
use crate::manifest::yaml::{Node, Value};
use crate::model::{Access, AccessParseError};

use super::Cx;

impl Cx<'_> {
    pub(super) fn string(&mut self, what: &str, node: &Node) -> Option<String> {
        self.str_ref(what, node).map(str::to_owned)
    }

    /// As [`Cx::string`], borrowed from the tree: most values are only inspected, and a
    /// copy per scalar was a measurable share of validating a large manifest.
    pub(super) fn str_ref<'n>(&mut self, what: &str, node: &'n Node) -> Option<&'n str> {
        match &node.value {
            Value::Str(s) => Some(s),
            _ => {
                self.wrong_type(what, "a string", node);
                None
            }
        }
    }

    pub(super) fn boolean(&mut self, what: &str, node: &Node) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(what, "true or false", node);
                None
            }
        }
    }

    pub(super) fn choice(&mut self, node: &Node, what: &str, options: &[&str]) -> Option<usize> {
        let text = self.str_ref(what, node)?;
        if let Some(i) = options
            .iter()
            .position(|o| o.eq_ignore_ascii_case(text.trim()))
        {
            return Some(i);
        }
        self.error(
            "manifest::bad_value",
            format!(
                "`{what}` must be one of {}, found `{text}`",
                options.join(", ")
            ),
            node.span,
            "unknown value",
            did_you_mean(text, options).map(|s| format!("did you mean `{s}`?")),
        );
        None
    }

    /// A moment (`expires:`): a date, meaning the start of that day in UTC, or a date and
    /// time with its offset. A time without an offset is refused: the tool would have to
    /// guess a time zone, and a CI runner's is rarely the author's.
    pub(super) fn moment(&mut self, what: &str, node: &Node) -> Option<DateTime<Utc>> {
        const FORMS: &str = "a date (2027-01-31, the start of that day in UTC) or a date and time with offset (2027-01-31T18:00:00+01:00)";
        let Value::Str(text) = &node.value else {
            self.wrong_type(what, "a date such as 2027-01-31", node);
            return None;
        };
        match parse_moment(text) {
            Ok(m) => Some(m),
            Err(MomentError::NoOffset) => {
                self.error(
                    "manifest::expires_no_offset",
                    format!("`{what}` has a time but no offset: `{}`", text.trim()),
                    node.span,
                    "which time zone?",
                    Some(format!(
                        "add the offset, as in `{}+01:00`, or `Z` for UTC; a date alone (2027-01-31) means the start of that day in UTC",
                        text.trim()
                    )),
                );
                None
            }
            Err(MomentError::Invalid) => {
                self.error(
                    "manifest::expires",
                    format!("`{what}` is not a date: `{}`", text.trim()),
                    node.span,
                    "not a date",
                    Some(format!("write {FORMS}")),
                );
                None
            }
        }
    }

    pub(super) fn quota(&mut self, node: &Node) -> Option<Quota> {
        let parsed = match &node.value {
            Value::Int(i) if *i >= 0 => u64::try_from(*i).ok().map(Quota::Bytes),
            Value::Str(s) => parse_quota(s),
            _ => None,
        };
        if parsed.is_none() {
            self.error(
                "manifest::quota",
                format!("`quota` must be a size such as 10GiB, a number of bytes, or unlimited; found {}", match &node.value {
                    Value::Str(s) => format!("`{s}`"),
                    other => other.kind().to_string(),
                }),
                node.span,
                "not a size",
                Some("units: B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024)".into()),
            );
        }
        parsed
    }

    pub(super) fn access(&mut self, node: &Node) -> Option<Access> {
        let text = match &node.value {
            Value::Str(s) => s.as_str(),
            Value::Int(i) => {
                let hint = i64::try_from(*i)
                    .ok()
                    .and_then(Access::from_wire)
                    .map(|a| format!("write the name: `{a}` is {i} on the wire"))
                    .unwrap_or_else(|| format!("access levels: {}", all_access_names()));
                self.error(
                    "manifest::access_number",
                    "`access` is written as a name, not a number",
                    node.span,
                    "a number",
                    Some(hint),
                );
                return None;
            }
            _ => {
                self.wrong_type("access", "an access level name", node);
                return None;
            }
        };
        match Access::parse_manifest(text) {
            Ok(a) => Some(a),
            Err(AccessParseError::NotARoomRole { hint }) => {
                self.error(
                    "manifest::access_not_room_role",
                    format!("`{text}` is not a room role"),
                    node.span,
                    "not valid in rooms",
                    Some(hint.to_string()),
                );
                None
            }
            Err(AccessParseError::Unknown) => {
                let names: Vec<&str> = Access::ALL.iter().map(|a| a.name()).collect();
                let help = match did_you_mean(text, &names) {
                    Some(s) => format!("did you mean `{s}`? Access levels: {}", names.join(", ")),
                    None => format!("access levels: {}", names.join(", ")),
                };
                self.error(
                    "manifest::access",
                    format!("unknown access level `{text}`"),
                    node.span,
                    "unknown access level",
                    Some(help),
                );
                None
            }
        }
    }
}

/// Why an `expires:` value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentError {
    /// A date and time without an offset: which time zone is meant is unknown.
    NoOffset,
    /// Not a date at all.
    Invalid,
}

/// Parses an `expires:` value: `2027-01-31` (the start of that day in UTC) or a date and
/// time with an offset (`2027-01-31T18:00:00+01:00`, `...Z`; seconds may be left out).
pub fn parse_moment(text: &str) -> Result<DateTime<Utc>, MomentError> {
    let t = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    if let Ok(m) = DateTime::parse_from_rfc3339(t) {
        return Ok(m.with_timezone(&Utc));
    }
    for form in ["%Y-%m-%dT%H:%M%#z", "%Y-%m-%d %H:%M%#z"] {
        if let Ok(m) = DateTime::parse_from_str(t, form) {
            return Ok(m.with_timezone(&Utc));
        }
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    if naive
        .iter()
        .any(|form| NaiveDateTime::parse_from_str(t, form).is_ok())
    {
        return Err(MomentError::NoOffset);
    }
    Err(MomentError::Invalid)
}

pub(super) fn entries_have(entries: &[(&str, &Node, &Node)], key: &str) -> bool {
    entries.iter().any(|(name, _, _)| *name == key)
}

fn all_access_names() -> String {
    Access::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// When a boolean was expected but a YAML 1.1 spelling was found, says what to write.
pub(super) fn yaml11_bool_hint(node: &Node) -> Option<String> {
    let Value::Str(s) = &node.value else {
        return None;
    };
    let lower = s.to_ascii_lowercase();
    let value = match lower.as_str() {
        "yes" | "y" | "on" => "true",
        "no" | "n" | "off" => "false",
        _ => return None,
    };
    Some(format!(
        "`{s}` is a YAML 1.1 boolean, which this tool does not accept; write `{value}`"
    ))
}

/// The closest known name, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(input: &str, known: &[&'a str]) -> Option<&'a str> {
    let input = input.to_lowercase();
    known
        .iter()
        .map(|k| (*k, strsim::jaro_winkler(&input, &k.to_lowercase())))
        .filter(|(_, score)| *score > 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k)
}

/// Parses `unlimited`, `1500`, `10GiB`, `2.5 GB`, `512MiB`.
pub fn parse_quota(text: &str) -> Option<Quota> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("unlimited") {
        return Some(Quota::Unlimited);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim();
    let factor: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    };
    if number.is_empty() {
        return None;
    }
    if let Ok(n) = number.parse::<u64>() {
        return n.checked_mul(factor).map(Quota::Bytes);
    }
    let f: f64 = number.parse().ok()?;
    let bytes = f * factor as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64 && bytes.fract() == 0.0)
        .then_some(Quota::Bytes(bytes as u64))
}

/// `U+0000 (NUL)`: control characters have well-known names, and none of them prints.
pub(super) fn describe_control(c: char) -> String {
    let name = match c {
        '\0' => "NUL",
        '\u{7}' => "BEL",
        '\u{8}' => "backspace",
        '\t' => "tab",
        '\n' => "line feed",
        '\r' => "carriage return",
        '\u{1b}' => "ESC",
        '\u{7f}' => "DEL",
        _ => return text::code_point(c),
    };
    format!("{} {name}", text::code_point(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::validate::ROOM_KEYS;

    #[test]
    fn quotas_parse() {
        assert_eq!(parse_quota("unlimited"), Some(Quota::Unlimited));
        assert_eq!(parse_quota("10GiB"), Some(Quota::Bytes(10 << 30)));
        assert_eq!(parse_quota("1.5 KB"), Some(Quota::Bytes(1500)));
        assert_eq!(parse_quota("42"), Some(Quota::Bytes(42)));
        assert_eq!(parse_quota("10 parsecs"), None);
        assert_eq!(parse_quota("GiB"), None);
        assert_eq!(parse_quota("0.5B"), None);
    }

    #[test]
    fn moments_are_dates_or_times_with_offsets() {
        let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(parse_moment("2027-01-31"), Ok(utc("2027-01-31T00:00:00Z")));
        assert_eq!(
            parse_moment("2027-01-31T18:00:00+01:00"),
            Ok(utc("2027-01-31T17:00:00Z"))
        );
        assert_eq!(
            parse_moment(" 2027-01-31T18:00Z "),
            Ok(utc("2027-01-31T18:00:00Z"))
        );
        assert_eq!(
            parse_moment("2027-01-31 18:00:00-05:00"),
            Ok(utc("2027-01-31T23:00:00Z"))
        );
        assert_eq!(
            parse_moment("2027-01-31T18:00:00"),
            Err(MomentError::NoOffset)
        );
        assert_eq!(parse_moment("2027-01-31 18:00"), Err(MomentError::NoOffset));
        assert_eq!(parse_moment("2027-02-30"), Err(MomentError::Invalid));
        assert_eq!(parse_moment("31.01.2027"), Err(MomentError::Invalid));
        assert_eq!(parse_moment("tomorrow"), Err(MomentError::Invalid));
    }

    #[test]
    fn suggestions_find_typos() {
        assert_eq!(did_you_mean("invitess", ROOM_KEYS), Some("invitees"));
        assert_eq!(did_you_mean("zzz", ROOM_KEYS), None);
    }
}
