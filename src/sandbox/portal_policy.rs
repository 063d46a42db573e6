//! Portal-wide policies an admin sets (docs/docspace-api.md, "Portal link policies"): the
//! external-link restriction (`FilesSettings.DisableShareLinkSetting` with
//! `ExternalShareApplyToRoomsSetting`) and the password policy (`PasswordSettings.MinLength`),
//! kept in the state file (`policy`), and the two routes that read them:
//! `GET /files/settings` (`FilesSettingsDtoConverter.Get`) and
//! `GET /settings/security/password` (`SecurityController.GetPasswordSettings`).
//! The links route enforces them (`links::set`) as `ResolveRequiredAuthAsync` and
//! `PasswordSettingsManager.CheckPassword` do.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Shared;
use super::envelope::{ApiResult, Reply};

/// The server's `PasswordSettingsManager.MaxLength`.
pub const PASSWORD_MAX: usize = 30;

/// The policies of the sandbox's portal; the defaults are the server's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PortalPolicy {
    /// An admin turned external sharing off for rooms (`externalShare: false`,
    /// `externalShareApplyToRooms: true`).
    pub links_restricted: bool,
    /// The password policy's `minLength` (8 by default).
    pub password_min_length: usize,
}

impl Default for PortalPolicy {
    fn default() -> PortalPolicy {
        PortalPolicy {
            links_restricted: false,
            password_min_length: 8,
        }
    }
}

impl PortalPolicy {
    pub fn is_default(&self) -> bool {
        *self == PortalPolicy::default()
    }

    /// `CheckPassword`: printable ASCII without spaces, `minLength` to 30 UTF-16 units.
    pub fn password_ok(&self, password: &str) -> bool {
        let len = password.encode_utf16().count();
        (self.password_min_length..=PASSWORD_MAX).contains(&len)
            && password.bytes().all(|b| (0x21..=0x7E).contains(&b))
    }

    /// The message of a refused password (`GetPasswordHelpMessage`; `rules::LINK_PASSWORD_RULE`
    /// with the default policy).
    pub fn password_rule(&self) -> String {
        format!(
            "Password must contain from {} to {PASSWORD_MAX} characters, only latin letters, no spaces",
            self.password_min_length
        )
    }
}

/// `GET /api/2.0/files/settings`: the external-link part of `FilesSettingsDto`.
pub(crate) async fn files_settings(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        let restricted = s.policy.links_restricted;
        Ok(Reply::new(json!({
            "externalShare": !restricted,
            "externalShareSocialMedia": !restricted,
            "defaultShareLinkInternal": restricted,
            "externalShareApplyToDocuments": true,
            "externalShareApplyToRooms": true,
            "blockExistingLinksOnRestrict": true,
        })))
    })
    .await
}

/// `GET /api/2.0/settings/security/password`: `PasswordSettingsDto`.
pub(crate) async fn password_settings(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        Ok(Reply::new(json!({
            "minLength": s.policy.password_min_length,
            "upperCase": false,
            "digits": false,
            "specSymbols": false,
            "allowedCharactersRegexStr": "[\\x21-\\x7E]",
            "digitsRegexStr": "(?=.*\\d)",
            "upperCaseRegexStr": "(?=.*[A-Z])",
            "specSymbolsRegexStr": "(?=.*[\\x21-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7E])",
        })))
    })
    .await
}
