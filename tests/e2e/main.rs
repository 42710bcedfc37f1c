//! End-to-end tests: the real `pa` binary serving the guest components built
//! by `cargo xtask test` (in `PA_GUESTS`, default `target/guests/…`).

mod backends;
mod backup;
mod billing;
mod cluster;
mod control;
mod faults;
mod first_party;
mod gateway;
mod graphql;
mod identity;
mod idp;
mod mcp;
mod mcp_tasks;
mod monitoring;
mod object_storage;
mod observability;
mod products;
mod registry;
mod support;
mod up;
mod workflows;
