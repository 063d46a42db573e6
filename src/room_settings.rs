//! A room's settings beyond title, tags, quota and download rights: colour, cover, automatic
//! indexing, file lifetime and watermark (issue 13), as domain values.
//!
//! The wire carries integers and bit flags (docs/docspace-api.md, "Room settings"); the rest of
//! the tool sees only the types here, which convert to and from the wire in one place.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::docspace::wire::{LifetimeDto, RoomDto, WatermarkDto, WatermarkRequest};
use crate::model::RoomType;

/// The unit of a file lifetime (`RoomDataLifetimePeriod`: 0 day, 1 month, 2 year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LifetimePeriod {
    Days,
    Months,
    Years,
}

impl LifetimePeriod {
    pub const ALL: [LifetimePeriod; 3] = [
        LifetimePeriod::Days,
        LifetimePeriod::Months,
        LifetimePeriod::Years,
    ];

    pub fn wire(self) -> i64 {
        match self {
            LifetimePeriod::Days => 0,
            LifetimePeriod::Months => 1,
            LifetimePeriod::Years => 2,
        }
    }

    pub fn from_wire(value: i64) -> Option<LifetimePeriod> {
        LifetimePeriod::ALL.into_iter().find(|p| p.wire() == value)
    }

    pub fn name(self) -> &'static str {
        match self {
            LifetimePeriod::Days => "days",
            LifetimePeriod::Months => "months",
            LifetimePeriod::Years => "years",
        }
    }

    /// A manifest spelling: `days`/`day`, `months`/`month`, `years`/`year`, any case.
    pub fn parse(text: &str) -> Option<LifetimePeriod> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_suffix('s').unwrap_or(&t);
        LifetimePeriod::ALL
            .into_iter()
            .find(|p| p.name().strip_suffix('s') == Some(t))
    }
}

impl fmt::Display for LifetimePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How long files stay in a room before the server removes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetime {
    /// 1..999 (the server refuses anything else).
    pub value: i64,
    pub period: LifetimePeriod,
    /// Delete for good instead of moving to the trash.
    pub delete_permanently: bool,
}

/// The server's bounds of [`Lifetime::value`] (`RoomDataLifetimeDto`: `Range(1, 999)`).
pub const LIFETIME_VALUE_RANGE: std::ops::RangeInclusive<i64> = 1..=999;

impl Lifetime {
    /// `None` for a lifetime the tool cannot represent (unknown period, no value): the room
    /// then reads as having an unmanaged lifetime, see [`RoomSettings::lifetime_unknown`].
    pub fn from_dto(d: &LifetimeDto) -> Option<Lifetime> {
        Some(Lifetime {
            value: d.value?,
            period: LifetimePeriod::from_wire(d.period)?,
            delete_permanently: d.delete_permanently,
        })
    }

    pub fn to_wire(&self) -> LifetimeDto {
        LifetimeDto {
            enabled: Some(true),
            value: Some(self.value),
            period: self.period.wire(),
            delete_permanently: self.delete_permanently,
        }
    }

    /// The request body that switches a room's lifetime off (`enabled: false`).
    pub fn off_wire() -> LifetimeDto {
        LifetimeDto {
            enabled: Some(false),
            ..LifetimeDto::default()
        }
    }
}

/// What a text watermark adds to each page (`WatermarkAdditions` bit flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WatermarkAddition {
    UserName,
    UserEmail,
    UserIpAddress,
    CurrentDate,
    RoomName,
}

impl WatermarkAddition {
    pub const ALL: [WatermarkAddition; 5] = [
        WatermarkAddition::UserName,
        WatermarkAddition::UserEmail,
        WatermarkAddition::UserIpAddress,
        WatermarkAddition::CurrentDate,
        WatermarkAddition::RoomName,
    ];

    pub fn bit(self) -> i64 {
        match self {
            WatermarkAddition::UserName => 1,
            WatermarkAddition::UserEmail => 2,
            WatermarkAddition::UserIpAddress => 4,
            WatermarkAddition::CurrentDate => 8,
            WatermarkAddition::RoomName => 16,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            WatermarkAddition::UserName => "user-name",
            WatermarkAddition::UserEmail => "user-email",
            WatermarkAddition::UserIpAddress => "user-ip-address",
            WatermarkAddition::CurrentDate => "current-date",
            WatermarkAddition::RoomName => "room-name",
        }
    }

    /// A manifest spelling: the kebab-case name, `_` or `-` or nothing between words, any case.
    pub fn parse(text: &str) -> Option<WatermarkAddition> {
        let key: String = text
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        WatermarkAddition::ALL
            .into_iter()
            .find(|a| a.name().replace('-', "") == key)
    }

    /// The set of flags in `bits`; unknown bits are ignored (see [`Watermark::unknown_bits`]).
    pub fn from_bits(bits: i64) -> BTreeSet<WatermarkAddition> {
        WatermarkAddition::ALL
            .into_iter()
            .filter(|a| bits & a.bit() != 0)
            .collect()
    }

    pub fn to_bits(set: &BTreeSet<WatermarkAddition>) -> i64 {
        set.iter().map(|a| a.bit()).fold(0, |acc, b| acc | b)
    }
}

impl fmt::Display for WatermarkAddition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A room's text watermark.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Watermark {
    /// `None` or empty: no text of its own.
    pub text: Option<String>,
    pub additions: BTreeSet<WatermarkAddition>,
    /// Degrees, as the server stores them (the web client offers 0 and -45).
    pub rotate: i64,
    /// The live watermark is an image: the tool does not manage image watermarks and must not
    /// silently replace one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image: bool,
}

impl Watermark {
    pub fn from_dto(d: &WatermarkDto) -> Watermark {
        Watermark {
            text: d.text.clone().filter(|t| !t.is_empty()),
            additions: WatermarkAddition::from_bits(d.additions),
            rotate: d.rotate,
            image: d.image_url.as_deref().is_some_and(|u| !u.is_empty()),
        }
    }

    pub fn to_wire(&self) -> WatermarkRequest {
        WatermarkRequest {
            enabled: Some(true),
            additions: WatermarkAddition::to_bits(&self.additions),
            text: self.text.clone(),
            rotate: self.rotate,
        }
    }

    /// The request body that removes a room's watermark (`enabled: false`).
    pub fn off_wire() -> WatermarkRequest {
        WatermarkRequest {
            enabled: Some(false),
            ..WatermarkRequest::default()
        }
    }
}

/// The settings of one room as the portal has them (or as a manifest wants them, where
/// `None` means "not managed").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomSettings {
    /// Hex without `#`, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// A cover id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexing: Option<bool>,
    /// `None`: no lifetime (or, with [`RoomSettings::lifetime_unknown`], one the tool cannot
    /// read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Lifetime>,
    /// The portal returned a lifetime of a shape the tool does not know.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lifetime_unknown: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
}

impl RoomSettings {
    /// The settings a room object (from the listing or a single read) carries; no extra call.
    pub fn from_dto(r: &RoomDto) -> RoomSettings {
        let logo = r.logo.as_ref();
        let lifetime = r.lifetime.as_ref().map(Lifetime::from_dto);
        RoomSettings {
            color: logo
                .and_then(|l| l.color.as_deref())
                .map(normalise_color)
                .filter(|c| !c.is_empty()),
            cover: logo
                .and_then(|l| l.cover.as_ref())
                .and_then(|c| c.id.clone())
                .filter(|c| !c.is_empty()),
            indexing: r.indexing,
            lifetime_unknown: matches!(lifetime, Some(None)),
            lifetime: lifetime.flatten(),
            watermark: r.watermark.as_ref().map(Watermark::from_dto),
        }
    }
}

/// A colour as the server stores it: hex digits without `#`, compared case-insensitively.
pub fn normalise_color(text: &str) -> String {
    text.trim().trim_start_matches('#').to_ascii_lowercase()
}

/// One of the settings of this module, for the rule of which room types take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoomSetting {
    Color,
    Cover,
    Indexing,
    Lifetime,
    Watermark,
}

impl RoomSetting {
    pub fn name(self) -> &'static str {
        match self {
            RoomSetting::Color => "color",
            RoomSetting::Cover => "cover",
            RoomSetting::Indexing => "indexing",
            RoomSetting::Lifetime => "lifetime",
            RoomSetting::Watermark => "watermark",
        }
    }

    /// Whether a room of `room_type` takes this setting, and if not, why (for validation
    /// messages). Colour and cover belong to every room. Indexing, file lifetime and
    /// watermarks are virtual data room features: the server stores them for any room type
    /// without complaint, but only virtual data rooms act on them and show them
    /// (docs/docspace-api.md, "Room settings"), so elsewhere they would be silent settings.
    pub fn allowed_in(self, room_type: RoomType) -> Result<(), String> {
        match self {
            RoomSetting::Color | RoomSetting::Cover => Ok(()),
            RoomSetting::Indexing | RoomSetting::Lifetime | RoomSetting::Watermark => {
                if room_type == RoomType::VirtualDataRoom {
                    Ok(())
                } else {
                    Err(format!(
                        "`{}` is a virtual data room setting; a {} room does not use it",
                        self.name(),
                        room_type
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_are_read_from_the_room_object() {
        let room: RoomDto = serde_json::from_value(json!({
            "id": 1, "title": "VDR", "roomType": 8, "indexing": true,
            "logo": {"original": "", "large": "", "medium": "", "small": "", "color": "1B6CA8",
                     "cover": {"id": "cover-3", "data": "<svg/>"}},
            "lifetime": {"deletePermanently": true, "period": 1, "value": 6},
            "watermark": {"additions": 18, "text": "Confidential", "rotate": -45, "imageScale": 0,
                          "imageHeight": 0, "imageWidth": 0}
        }))
        .unwrap();
        let s = RoomSettings::from_dto(&room);
        assert_eq!(s.color.as_deref(), Some("1b6ca8"));
        assert_eq!(s.cover.as_deref(), Some("cover-3"));
        assert_eq!(s.indexing, Some(true));
        assert_eq!(
            s.lifetime,
            Some(Lifetime {
                value: 6,
                period: LifetimePeriod::Months,
                delete_permanently: true
            })
        );
        let w = s.watermark.unwrap();
        assert_eq!(w.text.as_deref(), Some("Confidential"));
        assert_eq!(
            w.additions,
            [WatermarkAddition::UserEmail, WatermarkAddition::RoomName]
                .into_iter()
                .collect()
        );
        assert_eq!(w.rotate, -45);
        assert!(!w.image);
        assert_eq!(WatermarkAddition::to_bits(&w.additions), 18);
    }

    #[test]
    fn odd_shapes_read_as_unknown_not_as_errors() {
        let room: RoomDto = serde_json::from_value(json!({
            "id": 1, "title": "X", "roomType": 8,
            "logo": "not an object", "lifetime": {"period": 7, "value": 3},
            "watermark": {"additions": 0, "imageUrl": "https://x/y.png", "rotate": 0}
        }))
        .unwrap();
        let s = RoomSettings::from_dto(&room);
        assert_eq!(s.color, None);
        assert_eq!(s.lifetime, None);
        assert!(s.lifetime_unknown);
        assert!(s.watermark.unwrap().image);
    }

    #[test]
    fn spellings_and_wire_values() {
        assert_eq!(LifetimePeriod::parse("Month"), Some(LifetimePeriod::Months));
        assert_eq!(LifetimePeriod::parse("days"), Some(LifetimePeriod::Days));
        assert_eq!(LifetimePeriod::parse("weeks"), None);
        assert_eq!(
            WatermarkAddition::parse("user_ip_address"),
            Some(WatermarkAddition::UserIpAddress)
        );
        assert_eq!(WatermarkAddition::parse("nope"), None);
        assert_eq!(
            serde_json::to_value(
                Lifetime {
                    value: 30,
                    period: LifetimePeriod::Days,
                    delete_permanently: false
                }
                .to_wire()
            )
            .unwrap(),
            json!({"enabled": true, "value": 30, "period": 0, "deletePermanently": false})
        );
        assert_eq!(
            serde_json::to_value(Watermark::off_wire()).unwrap(),
            json!({"enabled": false, "additions": 0, "rotate": 0})
        );
    }

    #[test]
    fn vdr_settings_are_refused_elsewhere_with_a_reason() {
        assert!(
            RoomSetting::Watermark
                .allowed_in(RoomType::VirtualDataRoom)
                .is_ok()
        );
        let why = RoomSetting::Lifetime
            .allowed_in(RoomType::Collaboration)
            .unwrap_err();
        assert!(why.contains("virtual data room"), "{why}");
        assert!(RoomSetting::Color.allowed_in(RoomType::Public).is_ok());
    }
}
