//! The one integration-test binary: each module drives the real binary or the library against
//! servers it starts itself on 127.0.0.1.

mod apply;
mod book;
mod ci_examples;
mod client;
mod common;
mod docs;
mod doctor;
mod expiry;
mod export;
mod finish;
mod links;
mod network;
mod newguest;
mod output;
mod pending;
mod plan;
mod portal_policy;
mod prune;
mod real_portal;
mod room_filter;
mod room_settings;
mod sandbox;
mod sandbox_binary;
mod sandbox_people;
mod sandbox_sdk_conformance;
mod sandbox_server_rules;
mod saved_plan;
mod schema;
mod scopes;
mod secrets;
mod shipping;
mod signals;
mod state;
mod ux;
mod validate;
