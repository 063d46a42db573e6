//! Room settings: `color`, `cover`, `indexing`, `lifetime`, `watermark`, and which room
//! types take them.

use std::collections::BTreeSet;

use crate::manifest::desired::{Lifetime, Watermark};
use crate::manifest::text;
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::{self, LifetimePeriod, RoomType, WatermarkAddition};

use super::values::{describe_control, did_you_mean, entries_have};
use super::{Cx, LIFETIME_KEYS, WATERMARK_KEYS};

use crate::model::{COVER_MAX_CHARS, WATERMARK_TEXT_MAX_CHARS};
/// `lifetime.value`: 1 to 999 periods (docs/docspace-api.md, "Room settings").
const LIFETIME_MAX: i128 = *model::LIFETIME_VALUE_RANGE.end() as i128;

impl Cx<'_> {
    /// Reads one of the room settings (`color`, `cover`, `indexing`, `lifetime`,
    /// `watermark`) into `settings`, noting in `typed` those only some room types take;
    /// false when its value is refused.
    pub(super) fn room_setting<'k>(
        &mut self,
        name: &'k str,
        key: &Node,
        value: &Node,
        settings: &mut RoomSettings,
        typed: &mut Vec<(&'k str, Span, TypeTest)>,
    ) -> bool {
        match name {
            "color" => {
                settings.color = self.color(value);
                settings.color.is_some()
            }
            "cover" => {
                settings.cover = self.cover(value);
                settings.cover.is_some()
            }
            "indexing" => {
                settings.indexing = self.boolean("indexing", value);
                typed.push(("indexing", key.span, RoomType::takes_indexing));
                settings.indexing.is_some()
            }
            "lifetime" => {
                settings.lifetime = self.lifetime(value);
                typed.push(("lifetime", key.span, RoomType::takes_lifetime));
                settings.lifetime.is_some()
            }
            "watermark" => {
                settings.watermark = self.watermark(value);
                typed.push(("watermark", key.span, RoomType::takes_watermark));
                settings.watermark.is_some()
            }
            _ => unreachable!(),
        }
    }

    /// Reports each setting in `typed` that the room type does not take; true when the
    /// type takes them all.
    pub(super) fn settings_fit_type(
        &mut self,
        room_type: RoomType,
        typed: &[(&str, Span, TypeTest)],
    ) -> bool {
        let mut ok = true;
        for &(setting, span, takes) in typed {
            if takes(room_type) {
                continue;
            }
            ok = false;
            self.error(
                "manifest::setting_not_for_type",
                format!("`{setting}` is not available in a {room_type} room"),
                span,
                "not for this room type",
                // The server stores these for any room but acts on them in virtual data
                // rooms only (docs/docspace-api.md, "Room settings").
                Some(format!(
                    "DocSpace applies `{setting}` only in {} rooms; remove it from this room",
                    RoomType::names_where(takes)
                )),
            );
        }
        ok
    }

    /// `color:` 6 hex digits; a leading `#` is dropped, since the server stores the digits
    /// only and refuses 7 characters (docs/docspace-api.md, "Room settings").
    fn color(&mut self, node: &Node) -> Option<String> {
        let text = match &node.value {
            Value::Str(s) => s.trim().to_string(),
            // `color: 123456` reads as a number; its digits are still a colour.
            Value::Int(i) if i.to_string() == self.written(node) => i.to_string(),
            // `001122`, `1e3456` or `0x1c6ddc` read as a number that is not what is written:
            // show it as written, and say to quote it.
            Value::Int(_) | Value::Float(_) => {
                self.color_number(node);
                return None;
            }
            _ => {
                self.wrong_type("color", "6 hex digits such as 1c6ddc", node);
                return None;
            }
        };
        let digits = text.strip_prefix('#').unwrap_or(&text);
        if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Some(digits.to_string());
        }
        self.error(
            "manifest::color",
            format!("`{text}` is not a colour: DocSpace takes 6 hex digits"),
            node.span,
            "not 6 hex digits",
            Some("write 6 hex digits such as 1c6ddc (a leading # is dropped); quote a colour that starts with # or with 0".into()),
        );
        None
    }

    /// A `color:` that YAML reads as a number other than its digits (`001122` is 1122,
    /// `0x1c6ddc` is 1863132): named as written, with the quoted form to write instead.
    fn color_number(&mut self, node: &Node) {
        let written = self.written(node).to_string();
        let digits = written
            .strip_prefix("0x")
            .or_else(|| written.strip_prefix("0X"))
            .unwrap_or(&written);
        let hex = digits.len() == 6 && digits.chars().all(|c| c.is_ascii_hexdigit());
        let (message, label, help) = if hex && digits == written {
            (
                format!("`color: {written}` is read as a number, not as the colour {written}"),
                "read as a number",
                format!(
                    "quote the colour: `color: \"{written}\"` (YAML reads unquoted digits as a number, and leading zeros or an `e` change it)"
                ),
            )
        } else if hex {
            (
                format!("`{written}` is not a colour: DocSpace takes 6 hex digits, without `0x`"),
                "not 6 hex digits",
                format!("write the digits alone, quoted: `color: \"{digits}\"`"),
            )
        } else {
            (
                format!("`{written}` is not a colour: DocSpace takes 6 hex digits"),
                "not 6 hex digits",
                "write 6 hex digits such as 1c6ddc, quoted: `color: \"1c6ddc\"`".to_string(),
            )
        };
        self.error("manifest::color", message, node.span, label, Some(help));
    }

    /// The text of `node` as written in the file (quotes included).
    fn written(&self, node: &Node) -> &str {
        self.file
            .text
            .get(node.span.offset..node.span.offset + node.span.len)
            .unwrap_or_default()
            .trim()
    }

    /// `cover:` a cover id. The ids come from the portal (`GET rooms/covers`) and cannot be
    /// checked offline: only the server's length limit is.
    fn cover(&mut self, node: &Node) -> Option<String> {
        let text = self.str_ref("cover", node)?.trim();
        let problem = if text.is_empty() {
            Some("the cover id is empty".to_string())
        } else if model::server_len(text) > COVER_MAX_CHARS {
            Some(format!(
                "the cover id is longer than {COVER_MAX_CHARS} characters"
            ))
        } else if text
            .chars()
            .any(|c| text::is_control(c) || c.is_whitespace())
        {
            Some("the cover id contains spaces or control characters".to_string())
        } else {
            None
        };
        if let Some(message) = problem {
            self.error(
                "manifest::cover",
                message,
                node.span,
                "not a cover id",
                Some(format!("use an id from the portal's list of covers (GET /api/2.0/files/rooms/covers), up to {COVER_MAX_CHARS} characters")),
            );
            return None;
        }
        Some(text.to_string())
    }

    fn lifetime(&mut self, node: &Node) -> Option<Lifetime> {
        let entries = self.mapping(node, "lifetime", LIFETIME_KEYS)?;
        let mut value = None;
        let mut period = None;
        let mut delete_permanently = Some(false);
        let mut ok = true;
        for (name, _, v) in &entries {
            match *name {
                "value" => {
                    value = self.lifetime_value(v);
                    ok &= value.is_some();
                }
                "period" => {
                    period = self.lifetime_period(v);
                    ok &= period.is_some();
                }
                "delete_permanently" => {
                    delete_permanently = self.boolean("lifetime.delete_permanently", v);
                    ok &= delete_permanently.is_some();
                }
                _ => unreachable!(),
            }
        }
        let missing: Vec<&str> = ["value", "period"]
            .into_iter()
            .filter(|k| !entries_have(&entries, k))
            .collect();
        if !missing.is_empty() {
            self.error(
                "manifest::lifetime_incomplete",
                format!(
                    "`lifetime` needs {}",
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                node.span,
                "incomplete lifetime",
                Some("write for example `lifetime: {value: 90, period: days}`: files older than that are removed".into()),
            );
            return None;
        }
        if !ok {
            return None;
        }
        Some(Lifetime {
            value: value?,
            period: period?,
            delete_permanently: delete_permanently?,
        })
    }

    /// `lifetime.value`: a whole number of periods from 1 to [`LIFETIME_MAX`].
    fn lifetime_value(&mut self, v: &Node) -> Option<u16> {
        match v.value {
            Value::Int(i) if (1..=LIFETIME_MAX).contains(&i) => Some(i as u16),
            Value::Int(_) => {
                self.error(
                    "manifest::lifetime_value",
                    format!("`lifetime.value` must be from 1 to {LIFETIME_MAX}"),
                    v.span,
                    "out of range",
                    Some("DocSpace keeps files for 1 to 999 days, months or years".into()),
                );
                None
            }
            _ => {
                self.wrong_type("lifetime.value", "a whole number from 1 to 999", v);
                None
            }
        }
    }

    /// `lifetime.period`: days, months or years, with a suggestion for a typo.
    fn lifetime_period(&mut self, v: &Node) -> Option<LifetimePeriod> {
        let text = self.str_ref("lifetime.period", v)?;
        let period = LifetimePeriod::parse_manifest(text);
        if period.is_none() {
            let names: Vec<&str> = LifetimePeriod::ALL.iter().map(|p| p.name()).collect();
            self.error(
                "manifest::lifetime_period",
                format!("unknown lifetime period `{text}`"),
                v.span,
                "unknown period",
                Some(match did_you_mean(text, &names) {
                    Some(s) => format!("did you mean `{s}`? Periods: {}", names.join(", ")),
                    None => format!("periods: {}", names.join(", ")),
                }),
            );
        }
        period
    }

    /// A room's `watermark`: text, additions and rotation, showing at least something.
    fn watermark(&mut self, node: &Node) -> Option<Watermark> {
        let entries = self.mapping(node, "watermark", WATERMARK_KEYS)?;
        let mut text = None;
        let mut additions = BTreeSet::new();
        let mut rotation = 0;
        let mut ok = true;
        for (name, _, v) in &entries {
            match *name {
                "text" => match self.watermark_text(v) {
                    Some(t) => text = t,
                    None => ok = false,
                },
                "additions" => match self.watermark_additions(v) {
                    Some(a) => additions = a,
                    None => ok = false,
                },
                "rotation" => match self.watermark_rotation(v) {
                    Some(r) => rotation = r,
                    None => ok = false,
                },
                _ => unreachable!(),
            }
        }
        if !ok {
            return None;
        }
        if text.is_none() && additions.is_empty() {
            self.error(
                "manifest::watermark_empty",
                "the watermark shows nothing: it has no `text` and no `additions`",
                node.span,
                "empty watermark",
                Some("give `text`, `additions` (user_name, user_email, user_ip, current_date, room_name), or both".into()),
            );
            return None;
        }
        Some(Watermark {
            text,
            additions,
            rotation,
        })
    }

    /// `watermark.text`, trimmed: `Some(None)` when empty, `None` when refused (too long,
    /// or holding a control character).
    fn watermark_text(&mut self, v: &Node) -> Option<Option<String>> {
        let t = self.str_ref("watermark.text", v)?.trim();
        if model::server_len(t) > WATERMARK_TEXT_MAX_CHARS {
            self.error(
                "manifest::watermark_text",
                format!("the watermark text is longer than {WATERMARK_TEXT_MAX_CHARS} characters"),
                v.span,
                "too long",
                Some(
                    "shorten the text (the server counts UTF-16 units: an emoji counts as two)"
                        .into(),
                ),
            );
            None
        } else if let Some(c) = t.chars().find(|c| text::is_control(*c)) {
            self.error(
                "manifest::watermark_text",
                format!(
                    "the watermark text contains a control character ({})",
                    describe_control(c)
                ),
                v.span,
                "control character",
                None,
            );
            None
        } else {
            Some((!t.is_empty()).then(|| t.to_string()))
        }
    }

    /// `watermark.additions`: known names, each once (a repeat is a warning); `None` when
    /// any item is refused, after reporting every one.
    fn watermark_additions(&mut self, v: &Node) -> Option<BTreeSet<WatermarkAddition>> {
        let Value::Seq(items) = &v.value else {
            self.wrong_type("watermark.additions", "a list of names", v);
            return None;
        };
        let names: Vec<&str> = WatermarkAddition::ALL.iter().map(|a| a.name()).collect();
        let mut additions = BTreeSet::new();
        let mut ok = true;
        for item in items {
            let Some(written) = self.str_ref("a watermark addition", item) else {
                ok = false;
                continue;
            };
            match WatermarkAddition::parse_manifest(written) {
                Some(a) if additions.contains(&a) => self.warning(
                    "manifest::duplicate_watermark_addition",
                    format!("`{a}` is listed twice"),
                    item.span,
                    "listed again",
                    None,
                ),
                Some(a) => {
                    additions.insert(a);
                }
                None => {
                    ok = false;
                    self.error(
                        "manifest::watermark_addition",
                        format!("unknown watermark addition `{written}`"),
                        item.span,
                        "unknown addition",
                        Some(match did_you_mean(written, &names) {
                            Some(s) => {
                                format!("did you mean `{s}`? Additions: {}", names.join(", "))
                            }
                            None => format!("additions: {}", names.join(", ")),
                        }),
                    );
                }
            }
        }
        ok.then_some(additions)
    }

    /// `watermark.rotation`: whole degrees from -360 to 360.
    fn watermark_rotation(&mut self, v: &Node) -> Option<i32> {
        match v.value {
            Value::Int(i) if (-360..=360).contains(&i) => Some(i as i32),
            _ => {
                self.error(
                    "manifest::watermark_rotation",
                    "`watermark.rotation` must be an angle in whole degrees from -360 to 360",
                    v.span,
                    "not an angle",
                    Some("0 is horizontal and -45 diagonal, the two angles the DocSpace web client offers".into()),
                );
                None
            }
        }
    }
}

/// Whether a room type takes a setting ([`RoomType::takes_indexing`] and the like).
pub(super) type TypeTest = fn(RoomType) -> bool;

/// A room's settings as read, before they go into its [`DesiredRoom`].
#[derive(Default)]
pub(super) struct RoomSettings {
    pub(super) color: Option<String>,
    pub(super) cover: Option<String>,
    pub(super) indexing: Option<bool>,
    pub(super) lifetime: Option<Lifetime>,
    pub(super) watermark: Option<Watermark>,
}
