//! Turns clap's types into plain settings: which portal, which key, how to print. Commands
//! receive these, never `cli` types, so they can be called from tests directly.

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use secrecy::SecretString;
use thiserror::Error;
use url::Url;

use crate::cli::NetworkArgs;

/// Where the portal is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortalSpec {
    /// A real (or test) server reached over HTTP(S).
    Url(Url),
    /// The embedded emulator, state kept in this JSON file (`sandbox:PATH`).
    Sandbox(PathBuf),
}

/// Settings shared by every command that talks to a portal.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    pub portal: PortalSpec,
    /// `None` only for `sandbox:` portals, whose key is shared in-process.
    pub api_key: Option<SecretString>,
    pub ca_cert: Option<PathBuf>,
    /// `--insecure-http`: also decides which redirects are followed.
    pub insecure_http: bool,
    /// `--timeout`, per request.
    pub timeout: std::time::Duration,
    /// `--rate-limit`: requests per rolling minute (0 = no client-side budget).
    pub requests_per_minute: u32,
}

#[derive(Debug, Error, Diagnostic)]
pub enum SettingsError {
    #[error("no portal given")]
    #[diagnostic(
        code(settings::no_portal),
        help(
            "pass --portal https://your-portal.example.com (or set DOCSPACE_URL); to try without a portal use --portal sandbox:sandbox.json"
        )
    )]
    NoPortal,

    #[error("`{0}` is not a valid portal URL")]
    #[diagnostic(
        code(settings::bad_url),
        help("use https://HOST, http://127.0.0.1:PORT, or sandbox:PATH")
    )]
    BadUrl(String),

    #[error("plain http:// is only allowed to loopback, not to `{0}`")]
    #[diagnostic(
        code(settings::insecure_http),
        help(
            "use https://, or pass --insecure-http if you accept sending the API key unencrypted"
        )
    )]
    InsecureHttp(String),

    #[error("unsupported URL scheme `{0}`")]
    #[diagnostic(code(settings::bad_scheme), help("use https://HOST or sandbox:PATH"))]
    BadScheme(String),

    #[error("no API key: set DOCSPACE_API_KEY or pass --api-key-file PATH")]
    #[diagnostic(
        code(settings::no_api_key),
        help(
            "create a key in DocSpace under Developer Tools > API keys; it looks like sk-<64 hex characters>"
        )
    )]
    NoApiKey,

    #[error("cannot read the API key file {path}: {source}")]
    #[diagnostic(code(settings::api_key_file))]
    ApiKeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("the API key file {0} is empty")]
    #[diagnostic(code(settings::api_key_file_empty))]
    ApiKeyFileEmpty(String),

    /// The key as read holds a character that cannot be part of a key: sending it would only
    /// earn "the portal rejected the API key", which sends the user looking in the wrong place.
    #[error("the API key from {source_name} contains {what} at character {position}")]
    #[diagnostic(
        code(settings::api_key_invisible),
        help(
            "an API key is `sk-` followed by 64 hex characters; copy it again or remove the character (e.g. with an editor that shows invisible characters)"
        )
    )]
    ApiKeyCharacter {
        source_name: String,
        what: String,
        position: usize,
    },

    #[error("`{given}` has a path; --portal takes the portal's address only")]
    #[diagnostic(code(settings::portal_path), help("use --portal {corrected}"))]
    PortalPath { given: String, corrected: String },
}

/// Parses `--portal` / `DOCSPACE_URL`.
pub fn parse_portal(text: &str, insecure_http: bool) -> Result<PortalSpec, SettingsError> {
    if let Some(path) = text.strip_prefix("sandbox:") {
        if path.is_empty() {
            return Err(SettingsError::BadUrl(text.to_string()));
        }
        return Ok(PortalSpec::Sandbox(PathBuf::from(path)));
    }
    let url = Url::parse(text).map_err(|_| SettingsError::BadUrl(text.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !loopback && !insecure_http {
                return Err(SettingsError::InsecureHttp(
                    url.host_str().unwrap_or_default().to_string(),
                ));
            }
        }
        other => return Err(SettingsError::BadScheme(other.to_string())),
    }
    if url.host().is_none() {
        return Err(SettingsError::BadUrl(text.to_string()));
    }
    // The client appends `/api/2.0/...` to the address; a path such as `/api/2.0` or
    // `/rooms/shared` (copied from the browser) would double it and every call would 404.
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(SettingsError::PortalPath {
            given: text.to_string(),
            corrected: url[..url::Position::BeforePath].to_string(),
        });
    }
    Ok(PortalSpec::Url(url))
}

/// Reads the key from `--api-key-file` (first non-empty line) or `DOCSPACE_API_KEY`.
pub fn load_api_key(file: Option<&Path>) -> Result<Option<SecretString>, SettingsError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::ApiKeyFile {
            path: path.display().to_string(),
            source,
        })?;
        // Editors on Windows save UTF-8 with a byte order mark; it is not part of the key.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let key = text.lines().map(str::trim).find(|l| !l.is_empty());
        return match key {
            Some(k) => {
                check_key_characters(k, &path.display().to_string())?;
                Ok(Some(SecretString::from(k.to_string())))
            }
            None => Err(SettingsError::ApiKeyFileEmpty(path.display().to_string())),
        };
    }
    let Some(key) = std::env::var("DOCSPACE_API_KEY")
        .ok()
        .map(|k| k.trim().trim_start_matches('\u{feff}').to_string())
        .filter(|k| !k.is_empty())
    else {
        return Ok(None);
    };
    check_key_characters(&key, "DOCSPACE_API_KEY")?;
    Ok(Some(SecretString::from(key)))
}

/// Refuses a key with a character no key has: a header value must be visible ASCII, and a
/// stray control, zero-width or non-ASCII character is a copy-and-paste accident. The error
/// names the character by code point and position, never the key itself.
fn check_key_characters(key: &str, source_name: &str) -> Result<(), SettingsError> {
    match key.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic()) {
        None => Ok(()),
        Some((i, c)) => {
            let what = if c.is_control() {
                format!("a control character (U+{:04X})", u32::from(c))
            } else if c.is_whitespace() {
                format!("a space (U+{:04X})", u32::from(c))
            } else if c.is_ascii() {
                format!("the character U+{:04X}", u32::from(c))
            } else {
                format!(
                    "a non-ASCII or invisible character (U+{:04X})",
                    u32::from(c)
                )
            };
            Err(SettingsError::ApiKeyCharacter {
                source_name: source_name.to_string(),
                what,
                position: i + 1,
            })
        }
    }
}

/// Resolves the portal settings for commands that need a portal.
pub fn portal_settings(global: &NetworkArgs) -> Result<PortalSettings, SettingsError> {
    let text = global.portal.as_deref().ok_or(SettingsError::NoPortal)?;
    let portal = parse_portal(text, global.insecure_http)?;
    let api_key = load_api_key(global.api_key_file.as_deref())?;
    if api_key.is_none() && !matches!(portal, PortalSpec::Sandbox(_)) {
        return Err(SettingsError::NoApiKey);
    }
    if let Some(key) = &api_key {
        use secrecy::ExposeSecret;
        crate::redact::register(key.expose_secret());
    }
    Ok(PortalSettings {
        portal,
        api_key,
        ca_cert: global.ca_cert.clone(),
        insecure_http: global.insecure_http,
        timeout: std::time::Duration::from_secs(global.timeout),
        requests_per_minute: global.rate_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(parse_portal("http://127.0.0.1:8080", false).is_ok());
        assert!(parse_portal("http://localhost:1", false).is_ok());
        assert!(matches!(
            parse_portal("http://portal.example.com", false),
            Err(SettingsError::InsecureHttp(_))
        ));
        assert!(parse_portal("http://portal.example.com", true).is_ok());
        assert_eq!(
            parse_portal("sandbox:x.json", false).unwrap(),
            PortalSpec::Sandbox("x.json".into())
        );
        assert!(parse_portal("ftp://x", false).is_err());
    }

    #[test]
    fn a_portal_with_a_path_is_refused_with_the_address_alone() {
        for given in [
            "https://host.example.com/api/2.0",
            "https://host.example.com/rooms/shared",
            "https://host.example.com:8443/x/?a=1",
            "https://host.example.com/?a=1",
        ] {
            match parse_portal(given, false) {
                Err(SettingsError::PortalPath { corrected, .. }) => assert!(
                    corrected == "https://host.example.com"
                        || corrected == "https://host.example.com:8443",
                    "{given}: {corrected}"
                ),
                other => panic!("{given}: {other:?}"),
            }
        }
        assert!(parse_portal("https://host.example.com/", false).is_ok());
    }

    #[test]
    fn key_characters() {
        assert!(check_key_characters("sk-0123abc", "f").is_ok());
        let e = check_key_characters("sk-01\u{200b}23", "f").unwrap_err();
        assert!(
            e.to_string().contains("U+200B at character 6")
                || e.to_string().contains("(U+200B) at character 6"),
            "{e}"
        );
        assert!(check_key_characters("sk-01\u{7}", "f").is_err());
    }
}
