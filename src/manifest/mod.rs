//! The manifest: YAML parsing (the only YAML call site), the user-facing model, validation.
