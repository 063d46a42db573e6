//! The portal's policies a plan checks links and covers against (docs/docspace-api.md,
//! "Portal link policies"): the link-sharing restrictions (`GET /files/settings`), the
//! password policy (`GET /settings/security/password`) and the cover list
//! (`GET /files/rooms/covers`). Each is read at most once per run, by the planner.

use reqwest::Method;
use serde::Deserialize;

use super::client::{Call, Client};
use super::error::ApiError;
use super::policy::CallClass;

fn yes() -> bool {
    true
}

/// The part of `FilesSettingsDto` about external links. Defaults are the server's
/// (`FilesSettings.GetDefault`): external sharing on, the restriction applying to rooms.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesSettingsDto {
    #[serde(default = "yes")]
    pub external_share: bool,
    #[serde(default = "yes")]
    pub external_share_apply_to_rooms: bool,
}

/// The part of `PasswordSettingsDto` that decides whether a link password is taken: its
/// length and the classes of characters it must have (absent: not asked, the default).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordSettingsDto {
    pub min_length: i64,
    #[serde(default)]
    pub upper_case: bool,
    #[serde(default)]
    pub digits: bool,
    #[serde(default)]
    pub spec_symbols: bool,
    /// The alphabet the portal takes: narrower than printable ASCII on a portal with
    /// `web:password:ascii:cut` (`PasswordSettingsManager.AllowedCharactersRegexStr`).
    #[serde(default)]
    pub allowed_characters_regex_str: Option<String>,
}

/// One row of `GET /files/rooms/covers` (`CoversResultDto`); the SVG in `data` is not read.
#[derive(Debug, Clone, Deserialize)]
pub struct CoverDto {
    pub id: String,
}

impl Client {
    /// `GET /api/2.0/files/settings` (`SettingsController.GetFilesSettings`).
    pub async fn files_settings(&self) -> Result<FilesSettingsDto, ApiError> {
        let call = Call::new(Method::GET, "/api/2.0/files/settings", CallClass::Read);
        self.fetch(call).await
    }

    /// `GET /api/2.0/settings/security/password` (`SecurityController.GetPasswordSettings`).
    pub async fn password_settings(&self) -> Result<PasswordSettingsDto, ApiError> {
        let call = Call::new(
            Method::GET,
            "/api/2.0/settings/security/password",
            CallClass::Read,
        );
        self.fetch(call).await
    }

    /// `GET /api/2.0/files/rooms/covers` (`VirtualRoomsController.GetRoomCovers`).
    pub async fn room_covers(&self) -> Result<Vec<CoverDto>, ApiError> {
        let call = Call::new(Method::GET, "/api/2.0/files/rooms/covers", CallClass::Read);
        self.fetch(call).await
    }
}
