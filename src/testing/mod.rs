//! Test support below the binary: an in-memory portal ([`memory`]) that implements
//! [`crate::docspace::DocSpaceApi`], and the tests that run the engine against it.
//!
//! Compiled only for tests. The end-to-end tests through the binary (tests/it) stay the place
//! for what users see; these run the executor and the planner in milliseconds.

pub mod memory;

#[cfg(test)]
mod props;

#[cfg(test)]
mod memory_tests;

#[cfg(test)]
mod executor_tests;
