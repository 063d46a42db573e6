//! A room's settings beyond title, tags, quota and download rights as the portal has them
//! (colour, cover, automatic indexing, file lifetime, watermark; issue 13), and their wire
//! conversions.
//!
//! The values themselves ([`Lifetime`], [`Watermark`] and their enums) are the domain
//! vocabulary in `model`, shared by manifest, state, plan and export. The wire carries
//! integers and bit flags (docs/docspace-api.md, "Room settings"); this module is the one
//! place that converts between the two, next to the client's wire types.

use serde::{Deserialize, Serialize};

use crate::docspace::wire::{LifetimeDto, LogoDto, RoomDto, WatermarkDto, WatermarkRequest};
use crate::model::{LIFETIME_VALUE_RANGE, Lifetime, LifetimePeriod, Watermark, WatermarkAddition};

/// A lifetime as the portal returned it; `None` for a shape the tool cannot represent
/// (unknown period, no value, a value out of range): the room then reads as having an
/// unmanaged lifetime, see [`RoomSettings::lifetime_unknown`].
pub fn lifetime_from_wire(d: &LifetimeDto) -> Option<Lifetime> {
    let value = u16::try_from(d.value?).ok()?;
    Some(Lifetime {
        value: LIFETIME_VALUE_RANGE.contains(&value).then_some(value)?,
        period: LifetimePeriod::from_wire(d.period)?,
        delete_permanently: d.delete_permanently,
    })
}

/// The request body that sets a lifetime.
pub fn lifetime_to_wire(l: &Lifetime) -> LifetimeDto {
    LifetimeDto {
        enabled: Some(true),
        value: Some(i64::from(l.value)),
        period: l.period.wire(),
        delete_permanently: l.delete_permanently,
    }
}

/// The request body that switches a room's lifetime off (`enabled: false`).
pub fn lifetime_off_wire() -> LifetimeDto {
    LifetimeDto {
        enabled: Some(false),
        ..LifetimeDto::default()
    }
}

/// A text watermark as the portal returned it. Unknown bits are ignored; a rotation outside
/// `i32` (never sent by any client) reads as 0.
pub fn watermark_from_wire(d: &WatermarkDto) -> Watermark {
    Watermark {
        text: d.text.clone().filter(|t| !t.is_empty()),
        additions: WatermarkAddition::from_wire(d.additions)
            .into_iter()
            .collect(),
        rotation: i32::try_from(d.rotate).unwrap_or(0),
    }
}

/// The request body that sets a text watermark.
pub fn watermark_to_wire(w: &Watermark) -> WatermarkRequest {
    WatermarkRequest {
        enabled: Some(true),
        additions: w
            .additions
            .iter()
            .map(|a| a.wire())
            .fold(0, |acc, b| acc | b),
        text: w.text.clone(),
        rotate: i64::from(w.rotation),
    }
}

/// The request body that removes a room's watermark (`enabled: false`).
pub fn watermark_off_wire() -> WatermarkRequest {
    WatermarkRequest {
        enabled: Some(false),
        ..WatermarkRequest::default()
    }
}

/// The settings of one room as the portal has them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomSettings {
    /// Hex without `#`, lower-cased.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// A cover id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cover: Option<String>,
    /// The room has an uploaded logo: the portal then shows no colour and no cover, so
    /// neither can be managed while it has one (docs/docspace-api.md, "Room settings").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub logo_uploaded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indexing: Option<bool>,
    /// `None`: no lifetime (or, with [`RoomSettings::lifetime_unknown`], one the tool cannot
    /// read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime: Option<Lifetime>,
    /// The portal returned a lifetime of a shape the tool does not know.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lifetime_unknown: bool,
    /// `None`: no watermark, or an image watermark (see [`RoomSettings::watermark_image`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<Watermark>,
    /// The live watermark is an image: the tool does not manage image watermarks and must
    /// not silently replace one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub watermark_image: bool,
}

impl RoomSettings {
    /// The settings a room object (from the listing or a single read) carries; no extra call.
    pub fn from_dto(r: &RoomDto) -> RoomSettings {
        let logo = r.logo.as_ref();
        let logo_uploaded = logo.is_some_and(LogoDto::uploaded);
        // Never trust a colour or cover next to an uploaded image: the server does not send
        // them then, and a client that did would still not show them.
        let logo = logo.filter(|_| !logo_uploaded);
        let lifetime = r.lifetime.as_ref().map(lifetime_from_wire);
        let image = r
            .watermark
            .as_ref()
            .is_some_and(|w| w.image_url.as_deref().is_some_and(|u| !u.is_empty()));
        RoomSettings {
            color: logo
                .and_then(|l| l.color.as_deref())
                .map(normalise_color)
                .filter(|c| !c.is_empty()),
            cover: logo
                .and_then(|l| l.cover.as_ref())
                .and_then(|c| c.id.clone())
                .filter(|c| !c.is_empty()),
            logo_uploaded,
            indexing: r.indexing,
            lifetime_unknown: matches!(lifetime, Some(None)),
            lifetime: lifetime.flatten(),
            watermark: r
                .watermark
                .as_ref()
                .filter(|_| !image)
                .map(watermark_from_wire),
            watermark_image: image,
        }
    }
}

/// A colour as the server stores it: hex digits without `#`, compared case-insensitively.
pub fn normalise_color(text: &str) -> String {
    text.trim().trim_start_matches('#').to_ascii_lowercase()
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
        assert_eq!(w.rotation, -45);
        assert!(!s.watermark_image);
        assert_eq!(watermark_to_wire(&w).additions, 18);
    }

    #[test]
    fn an_uploaded_logo_hides_colour_and_cover() {
        let room: RoomDto = serde_json::from_value(json!({
            "id": 1, "title": "VDR", "roomType": 8,
            "logo": {"original": "/storage/room_logos/root/1_orig.png", "large": "l", "medium": "m",
                     "small": "s", "color": "1B6CA8", "cover": {"id": "book", "data": ""}}
        }))
        .unwrap();
        let s = RoomSettings::from_dto(&room);
        assert!(s.logo_uploaded);
        assert_eq!((s.color, s.cover), (None, None));
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
        assert!(s.watermark_image);
        assert_eq!(s.watermark, None);
        let out_of_range = LifetimeDto {
            enabled: None,
            value: Some(5000),
            period: 0,
            delete_permanently: false,
        };
        assert_eq!(lifetime_from_wire(&out_of_range), None);
    }

    #[test]
    fn wire_values() {
        assert_eq!(
            serde_json::to_value(lifetime_to_wire(&Lifetime {
                value: 30,
                period: LifetimePeriod::Days,
                delete_permanently: false
            }))
            .unwrap(),
            json!({"enabled": true, "value": 30, "period": 0, "deletePermanently": false})
        );
        assert_eq!(
            serde_json::to_value(watermark_off_wire()).unwrap(),
            json!({"enabled": false, "additions": 0, "rotate": 0})
        );
        assert_eq!(
            serde_json::to_value(lifetime_off_wire()).unwrap(),
            json!({"enabled": false, "period": 0, "deletePermanently": false})
        );
    }
}
