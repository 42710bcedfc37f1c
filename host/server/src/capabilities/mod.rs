//! The host capabilities plugins may be granted, as this platform provides
//! them: chat models per tenant, OCR with Tesseract, and static sites.

pub mod model;
pub mod ocr;
pub mod provider_hosts;

use std::sync::Arc;

use pa_runtime::{ChatMessage, ChatOptions, Completion, Recognition, SiteFile};
use pa_store::{Blobs, Store};
use tokio::sync::Semaphore;

use crate::metering::Metering;
use model::Models;
use ocr::OcrLimits;

/// The platform's side of [`pa_runtime::Capabilities`].
pub struct PlatformCapabilities {
    store: Store,
    blobs: Blobs,
    metering: Arc<Metering>,
    models: Models,
    ocr_limits: OcrLimits,
    /// Recognitions running at once on this node (one per core).
    ocr_permits: Semaphore,
}

impl PlatformCapabilities {
    /// Capabilities backed by the platform's store, blobs and metering.
    pub fn new(store: Store, blobs: Blobs, metering: Arc<Metering>, models: Models, ocr_limits: OcrLimits) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        PlatformCapabilities {
            store,
            blobs,
            metering,
            models,
            ocr_limits,
            ocr_permits: Semaphore::new(cores),
        }
    }
}

#[async_trait::async_trait]
impl pa_runtime::Capabilities for PlatformCapabilities {
    async fn chat(&self, tenant: &str, messages: Vec<ChatMessage>, options: ChatOptions) -> Result<Completion, String> {
        self.models.chat(tenant, &messages, &options).await
    }

    async fn recognize(&self, _tenant: &str, image: Vec<u8>, language: Option<String>) -> Result<Recognition, String> {
        let _permit = self
            .ocr_permits
            .acquire()
            .await
            .map_err(|_| "the OCR engine is shutting down".to_string())?;
        ocr::recognize(&self.ocr_limits, &image, language.as_deref()).await
    }

    async fn publish(&self, tenant: &str, plugin: &str, site: &str, files: Vec<SiteFile>) -> Result<u32, String> {
        crate::sites::publish((&self.store, &self.blobs, &self.metering), tenant, plugin, site, files).await
    }
}
