//! Keeping this node's live plugins in step with the other nodes': each
//! change heard from the store is applied at once, and the whole table is
//! compared after a lost connection and every [`RECONCILE`] as a safety net.

use std::time::Duration;

use pa_store::Change;

use crate::platform::Platform;

/// How often the live table is compared with the store in full.
const RECONCILE: Duration = Duration::from_secs(30);
/// How long to wait before listening again after the store failed.
const RETRY: Duration = Duration::from_secs(1);

/// Follows the store's changes until the process ends.
pub fn spawn(platform: Platform) {
    tokio::spawn(follow_changes(platform.clone()));
    tokio::spawn(reconcile_periodically(platform));
}

async fn follow_changes(platform: Platform) {
    loop {
        match platform.store.changes().await {
            Ok(None) => return,
            Ok(Some(mut changes)) => {
                // Changes committed before the listener started are not heard.
                platform.deployments.sync_all(&platform).await;
                loop {
                    match changes.next().await {
                        Ok(Change::Deployment { tenant, plugin }) => {
                            platform.deployments.sync(&platform, &tenant, &plugin).await;
                        }
                        Ok(Change::Reconnected) => platform.deployments.sync_all(&platform).await,
                        Err(e) => {
                            tracing::warn!(error = %e, "listening for other nodes' changes");
                            tokio::time::sleep(RETRY).await;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other nodes' changes");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

async fn reconcile_periodically(platform: Platform) {
    let mut every = tokio::time::interval(RECONCILE);
    every.tick().await;
    loop {
        every.tick().await;
        platform.deployments.sync_all(&platform).await;
    }
}
