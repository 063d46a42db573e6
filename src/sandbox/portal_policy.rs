//! Portal-wide policies an admin sets (docs/docspace-api.md, "Portal link policies"): the
//! external-link restriction (`FilesSettings.DisableShareLinkSetting` with
//! `ExternalShareApplyToRoomsSetting`) and the password policy (`PasswordSettings`: `MinLength`,
//! `UpperCase`, `Digits`, `SpecSymbols`),
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
    /// The password policy's `upperCase`, `digits` and `specSymbols` (all off by default):
    /// a link password must then have a capital letter, a digit, a special character.
    pub password_upper_case: bool,
    pub password_digits: bool,
    pub password_spec_symbols: bool,
    /// The server runs with `web:password:ascii:cut` (`PasswordSettingsManager`): passwords
    /// take only letters, digits and `!"#$%&()*+,.:;<>?@^_{}~`, which are then also the
    /// special characters (no space, no `'-/=[\]`|`).
    pub password_ascii_cut: bool,
}

/// `PasswordSettingsManager`'s symbols when `PrintableASCII` is off (`ascii:cut`).
const CUT_SYMBOLS: &str = "!\"#$%&()*+,.:;<>?@^_{}~";

impl Default for PortalPolicy {
    fn default() -> PortalPolicy {
        PortalPolicy {
            links_restricted: false,
            password_min_length: 8,
            password_upper_case: false,
            password_digits: false,
            password_spec_symbols: false,
            password_ascii_cut: false,
        }
    }
}

impl PortalPolicy {
    pub fn is_default(&self) -> bool {
        *self == PortalPolicy::default()
    }

    /// `CheckPassword`: the policy's regular expression (`GetPasswordRegex`: printable ASCII
    /// without spaces, `minLength` to 30 UTF-16 units, and a `(?=.*\d)`, `(?=.*[A-Z])`,
    /// `(?=.*[\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E])` look-ahead for each switch on).
    pub fn password_ok(&self, password: &str) -> bool {
        let len = password.encode_utf16().count();
        let bytes = password.as_bytes();
        let cut = self.password_ascii_cut;
        let special = |b: &u8| {
            if cut {
                CUT_SYMBOLS.as_bytes().contains(b)
            } else {
                matches!(b, 0x21..=0x2F | 0x3A..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E)
            }
        };
        let allowed = |b: &u8| {
            if cut {
                b.is_ascii_alphanumeric() || special(b)
            } else {
                (0x21..=0x7E).contains(b)
            }
        };
        (self.password_min_length..=PASSWORD_MAX).contains(&len)
            && bytes.iter().all(allowed)
            && (!self.password_upper_case || bytes.iter().any(u8::is_ascii_uppercase))
            && (!self.password_digits || bytes.iter().any(u8::is_ascii_digit))
            && (!self.password_spec_symbols || bytes.iter().any(special))
    }

    /// The message of a refused password (`GetPasswordHelpMessage`, with the resources of
    /// `Resource.resx`; `rules::LINK_PASSWORD_RULE` with the default policy).
    pub fn password_rule(&self) -> String {
        let mut text = format!(
            "Password must contain from {} to {PASSWORD_MAX} characters, only latin letters, no spaces",
            self.password_min_length
        );
        for (on, what) in [
            (self.password_upper_case, "capital letters"),
            (self.password_digits, "digits"),
            (self.password_spec_symbols, "special characters"),
        ] {
            if on {
                text.push_str(", ");
                text.push_str(what);
            }
        }
        text
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
            "upperCase": s.policy.password_upper_case,
            "digits": s.policy.password_digits,
            "specSymbols": s.policy.password_spec_symbols,
            "allowedCharactersRegexStr": if s.policy.password_ascii_cut {
                format!("[0-9a-zA-Z{CUT_SYMBOLS}]")
            } else {
                "[\\x21-\\x7E]".to_string()
            },
            "digitsRegexStr": "(?=.*\\d)",
            "upperCaseRegexStr": "(?=.*[A-Z])",
            "specSymbolsRegexStr": if s.policy.password_ascii_cut {
                format!("(?=.*[{CUT_SYMBOLS}])")
            } else {
                "(?=.*[\\x21-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7E])".to_string()
            },
        })))
    })
    .await
}
