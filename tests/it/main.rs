//! The one integration-test binary: each module drives the real binary or the library against
//! servers it starts itself on 127.0.0.1.

mod apply;
mod client;
mod common;
mod plan;
mod sandbox;
mod schema;
mod validate;
