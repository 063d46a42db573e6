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

pub mod apply;
pub mod cli;
pub mod commands;
pub mod docspace;
pub mod doctor;
pub mod exit;
pub mod export;
pub mod identity;
pub mod links;
pub mod manifest;
pub mod model;
pub mod output;
pub mod plan;
pub mod printer;
pub mod redact;
pub mod render;
pub mod report;
pub mod room_settings;
pub mod sandbox;
pub mod settings;
pub mod state;
#[cfg(test)]
mod testing;
pub mod text;

pub use exit::ExitStatus;
