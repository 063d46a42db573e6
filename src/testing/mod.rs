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

/// Plans with the one planner ([`crate::plan::build`]) against `portal` at `now`, as `plan`
/// and `apply` do; panics on a refused manifest (test inputs are valid).
#[cfg(test)]
pub(crate) async fn build_plan(
    portal: &memory::MemoryPortal,
    desired: &crate::manifest::Desired,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::plan::build::Built {
    let inputs = crate::plan::build::Inputs {
        portal: "https://memory.test",
        desired,
        passwords: crate::links::read_passwords(desired),
        options: crate::plan::build::Options::default(),
        now,
        scopes_for: None,
    };
    match crate::plan::build::build(portal, inputs, &|_, _| {}).await {
        Ok(built) => built,
        Err(e) => panic!("valid inputs were refused: {e:?}"),
    }
}
