//! Host capabilities beyond WASI that a plugin may be granted — chat-model
//! inference, text recognition and static-site publishing — and their
//! `powerautomation:plugin` imports. The platform provides them; every call
//! checks the plugin's grant first.

use wasmtime::component::HasSelf;

use crate::state::InstanceState;
use crate::tools::interfaces::{model, ocr, sites};

pub use model::{ChatOptions, Completion, Message};
pub use ocr::Recognition;
pub use sites::SiteFile;

/// What one plugin may use beyond WASI, key-value stores and variables.
#[derive(Clone, Debug, Default)]
pub struct CapabilityGrants {
    /// Chat-model inference.
    pub model: bool,
    /// Text recognition.
    pub ocr: bool,
    /// Sites it may publish.
    pub sites: Vec<String>,
}

/// The platform side of the capabilities, per tenant.
#[async_trait::async_trait]
pub trait Capabilities: Send + Sync + 'static {
    /// Answers `messages` with the tenant's model.
    async fn chat(&self, tenant: &str, messages: Vec<Message>, options: ChatOptions) -> Result<Completion, String>;
    /// Reads the text of `image`.
    async fn recognize(&self, tenant: &str, image: Vec<u8>, language: Option<String>) -> Result<Recognition, String>;
    /// Publishes `files` as the new live version of the tenant's `site`.
    async fn publish(&self, tenant: &str, plugin: &str, site: &str, files: Vec<SiteFile>) -> Result<u32, String>;
}

/// The capabilities of a host that offers none (`pa up`).
pub struct NoCapabilities;

#[async_trait::async_trait]
impl Capabilities for NoCapabilities {
    async fn chat(&self, _: &str, _: Vec<Message>, _: ChatOptions) -> Result<Completion, String> {
        Err("model inference is not available on this host".into())
    }
    async fn recognize(&self, _: &str, _: Vec<u8>, _: Option<String>) -> Result<Recognition, String> {
        Err("text recognition is not available on this host".into())
    }
    async fn publish(&self, _: &str, _: &str, _: &str, _: Vec<SiteFile>) -> Result<u32, String> {
        Err("site publishing is not available on this host".into())
    }
}

/// Adds the capability interfaces to a linker.
pub(crate) fn add_to_linker(linker: &mut wasmtime::component::Linker<InstanceState>) -> wasmtime::Result<()> {
    model::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)?;
    ocr::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)?;
    sites::add_to_linker::<_, HasSelf<InstanceState>>(linker, |s| s)
}

/// The refusal of a capability the plugin was not granted.
fn not_granted(capability: &str) -> String {
    format!("the plugin has no grant for the `{capability}` capability")
}

impl model::Host for InstanceState {
    async fn chat(&mut self, messages: Vec<Message>, options: ChatOptions) -> Result<Completion, String> {
        let ctx = self.spin_ctx();
        if !ctx.grants.model {
            return Err(not_granted("model"));
        }
        ctx.capabilities.chat(&ctx.tenant, messages, options).await
    }
}

impl ocr::Host for InstanceState {
    async fn recognize(&mut self, image: Vec<u8>, language: Option<String>) -> Result<Recognition, String> {
        let ctx = self.spin_ctx();
        if !ctx.grants.ocr {
            return Err(not_granted("ocr"));
        }
        ctx.capabilities.recognize(&ctx.tenant, image, language).await
    }
}

impl sites::Host for InstanceState {
    async fn publish(&mut self, site: String, files: Vec<SiteFile>) -> Result<u32, String> {
        let ctx = self.spin_ctx();
        if !ctx.grants.sites.contains(&site) {
            return Err(format!("the plugin has no grant to publish site `{site}`"));
        }
        ctx.capabilities.publish(&ctx.tenant, &ctx.plugin, &site, files).await
    }
}
