//! docspace-provision: ONLYOFFICE DocSpace rooms and room membership as code.
//!
//! Data flows one way (docs/architecture.md, "The pipeline"; the modules and what each may
//! depend on: docs/architecture.md, "Modules and their dependencies"):
//!
//! ```text
//! files --manifest (parse, validate)--> Desired --+
//!                                                 +--plan (pure diff)--> Plan --render--> text|json|markdown
//! portal --state (read over docspace)--> Observed-+                       |
//!                                                                         +--apply--> Report --render
//! ```
//!
//! - [`manifest`]: the user-facing YAML, the only place YAML is parsed; located diagnostics.
//! - [`model`]: span-free vocabulary (room types, access levels, the server's role tables).
//! - [`docspace`]: the HTTP client for the DocSpace API (retries, pacing, wire types).
//! - [`sandbox`]: the embedded DocSpace-compatible emulator.
//! - [`commands`]: one module per subcommand; [`printer`] is the only writer to the terminal.
//! - [`output`]: the files the tool writes (plans, reports, exports): devices and FIFOs written
//!   through, regular files replaced atomically with their permissions kept.

// By layer (docs/architecture.md, "Layout"): `model` (vocabulary and server rules),
// `manifest`, `docspace` (HTTP), `observe` (the portal as read, identity), `plan`, `apply`
// (with its report), `render`, `shell` (arguments, settings, printer, files, signals) and
// thin `commands`; `sandbox` apart; `text` and `redact` are ground-floor helpers.
pub mod apply;
pub mod commands;
pub mod docspace;
pub mod doctor;
pub mod export;
pub mod links;
pub mod manifest;
pub mod model;
pub mod observe;
pub mod plan;
pub mod redact;
pub mod render;
pub mod sandbox;
pub mod shell;
#[cfg(test)]
mod testing;
pub mod text;

// The short paths every module and the tests use, kept as they were before the layout
// grouped the files by layer.
pub use apply::report;
pub use observe::{identity, room_settings, state};
pub use shell::{cli, exit, output, printer, settings};

pub use exit::ExitStatus;
