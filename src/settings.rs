//! Turns clap's types into plain settings: which portal, which key, how to print. Commands
//! receive these, never `cli` types, so they can be called from tests directly.

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use secrecy::SecretString;
use thiserror::Error;
use url::Url;

use crate::cli::GlobalArgs;

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
    Ok(PortalSpec::Url(url))
}

/// Reads the key from `--api-key-file` (first non-empty line) or `DOCSPACE_API_KEY`.
pub fn load_api_key(file: Option<&Path>) -> Result<Option<SecretString>, SettingsError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::ApiKeyFile {
            path: path.display().to_string(),
            source,
        })?;
        let key = text.lines().map(str::trim).find(|l| !l.is_empty());
        return match key {
            Some(k) => Ok(Some(SecretString::from(k.to_string()))),
            None => Err(SettingsError::ApiKeyFileEmpty(path.display().to_string())),
        };
    }
    Ok(std::env::var("DOCSPACE_API_KEY")
        .ok()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .map(SecretString::from))
}

/// Resolves the portal settings for commands that need a portal.
pub fn portal_settings(global: &GlobalArgs) -> Result<PortalSettings, SettingsError> {
    let text = global.portal.as_deref().ok_or(SettingsError::NoPortal)?;
    let portal = parse_portal(text, global.insecure_http)?;
    let api_key = load_api_key(global.api_key_file.as_deref())?;
    if api_key.is_none() && !matches!(portal, PortalSpec::Sandbox(_)) {
        return Err(SettingsError::NoApiKey);
    }
    Ok(PortalSettings {
        portal,
        api_key,
        ca_cert: global.ca_cert.clone(),
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
}
