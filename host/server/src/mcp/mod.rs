//! The MCP gateway: every enabled tool-server plugin of a tenant behind one
//! Streamable HTTP endpoint, `/t/{tenant}/mcp`.

mod catalog;
mod convert;
mod endpoint;
mod jsonrpc;
mod methods;
mod param_headers;
mod peer;
mod session;
mod state;
mod tasks;

pub use catalog::Catalog;
pub use endpoint::{delete, get, post, resource_metadata};
pub use session::Sessions;
