//! The embedded DocSpace-compatible emulator.
