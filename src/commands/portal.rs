//! Opening a portal for a command: a real server over HTTP(S), or the embedded sandbox started
//! in-process on an ephemeral loopback port (`sandbox:PATH`), so the same client code runs in
//! both cases.

use miette::IntoDiagnostic;
use secrecy::SecretString;

use crate::docspace::{Client, ClientConfig};
use crate::sandbox::SandboxHandle;
use crate::settings::{PortalSettings, PortalSpec};

/// A connected portal. Keeps the in-process sandbox alive while the command runs.
pub struct Portal {
    pub client: Client,
    /// The portal as shown in plans and reports (`https://host` or `sandbox:PATH`).
    pub display: String,
    sandbox: Option<SandboxHandle>,
}

impl Portal {
    /// Stops the in-process sandbox (if any) gracefully, so its state file is complete.
    pub async fn close(self) {
        if let Some(s) = self.sandbox
            && let Err(e) = s.stop().await
        {
            tracing::warn!("the sandbox did not stop cleanly: {e}");
        }
    }
}

/// Connects to the portal the settings name. Must run inside a tokio runtime.
pub async fn open(settings: &PortalSettings) -> miette::Result<Portal> {
    match &settings.portal {
        PortalSpec::Url(url) => {
            let key = settings.api_key.clone().ok_or_else(|| {
                miette::miette!("no API key: set DOCSPACE_API_KEY or pass --api-key-file PATH")
            })?;
            let mut config = ClientConfig::new(url.clone(), key);
            config.ca_cert = settings.ca_cert.clone();
            config.allow_insecure_http = settings.insecure_http;
            config.timeout = settings.timeout;
            config.requests_per_minute = settings.requests_per_minute;
            let client = Client::new(config)?;
            let display = url.as_str().trim_end_matches('/').to_string();
            Ok(Portal {
                client,
                display,
                sandbox: None,
            })
        }
        PortalSpec::Sandbox(path) => {
            // `DOCSPACE_SANDBOX_KEY_SCOPES` runs the embedded sandbox with a restricted key.
            let faults = crate::sandbox::FaultConfig {
                key_scopes: crate::sandbox::key_scopes_from_env(),
                ..crate::sandbox::FaultConfig::default()
            };
            let handle = crate::sandbox::start_in_process(path, faults)
                .await
                .into_diagnostic()
                .map_err(|e| {
                    e.wrap_err(format!(
                        "cannot start the sandbox with state file {}",
                        path.display()
                    ))
                })?;
            crate::redact::register(&handle.api_key);
            let mut config = ClientConfig::new(
                handle.base_url.clone(),
                SecretString::from(handle.api_key.clone()),
            );
            // The in-process sandbox has no rate limiter; pacing would only slow it down.
            config.requests_per_minute = 0;
            config.timeout = settings.timeout;
            let client = Client::new(config)?;
            Ok(Portal {
                client,
                display: format!("sandbox:{}", path.display()),
                sandbox: Some(handle),
            })
        }
    }
}

/// Refuses, before anything is read or written, a command the key's scopes cannot run
/// (`crate::observe::scopes`; the command is a row of `crate::model::scopes::COMMANDS`).
pub async fn check_scopes(portal: &Portal, command: &str) -> miette::Result<()> {
    crate::observe::scopes::check_all(&portal.client, command)
        .await
        .map_err(|e| miette::miette!("{e}"))
}

/// A multi-threaded runtime for commands that talk to a portal.
pub fn runtime() -> miette::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()
}
