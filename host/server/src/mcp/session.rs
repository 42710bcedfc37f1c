//! Sessions of the stateful (2025-06-18, 2025-11-25) protocol: negotiated
//! version, client capabilities, log level, the server's requests awaiting
//! the client's answer, and the requests in flight (for cancellation).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rand::RngCore;
use serde_json::Value;
use tokio::sync::{broadcast, oneshot};
use tokio::task::AbortHandle;

/// Sessions unused this long are forgotten.
const IDLE: Duration = Duration::from_secs(3600);
/// The most sessions kept at once; creating one more drops the least recent.
const MAX_SESSIONS: usize = 10_000;

/// The answer to a server-to-client request: `result` or `error`.
pub type ClientAnswer = Result<Value, Value>;

/// One client's session.
pub struct Session {
    pub id: String,
    pub tenant: String,
    /// Who opened it (`key:<id>`, `user:<name>`; `None` on a public
    /// endpoint): only the same caller may use it.
    pub caller: Option<String>,
    pub version: String,
    pub client_capabilities: Value,
    /// Lowest log level sent (rank, see `convert::level_rank`); 0 = debug.
    pub log_level: AtomicU8,
    next_request: AtomicU64,
    pending: Mutex<HashMap<String, oneshot::Sender<ClientAnswer>>>,
    in_flight: Mutex<HashMap<String, AbortHandle>>,
    pub subscriptions: Mutex<HashSet<String>>,
    last_used: Mutex<Instant>,
}

impl Session {
    /// Registers a server-to-client request; returns its id and where the
    /// answer arrives.
    pub fn new_request(&self) -> (String, oneshot::Receiver<ClientAnswer>) {
        let id = format!("pa-{}", self.next_request.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id.clone(), tx);
        (id, rx)
    }

    /// Delivers the client's answer to request `id`; false if none waits.
    pub fn answer(&self, id: &Value, answer: ClientAnswer) -> bool {
        let key = id_key(id);
        match self.pending.lock().unwrap().remove(&key) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// Records a request in flight so `notifications/cancelled` can stop it.
    pub fn started(&self, id: &Value, handle: AbortHandle) {
        self.in_flight.lock().unwrap().insert(id_key(id), handle);
    }

    /// Forgets a finished request.
    pub fn finished(&self, id: &Value) {
        self.in_flight.lock().unwrap().remove(&id_key(id));
    }

    /// Stops request `id` if it is still running.
    pub fn cancel(&self, id: &Value) {
        if let Some(handle) = self.in_flight.lock().unwrap().remove(&id_key(id)) {
            handle.abort();
        }
    }

    fn touch(&self) {
        *self.last_used.lock().unwrap() = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap().elapsed()
    }
}

/// Request ids compare by their JSON text (`1` and `"1"` differ).
fn id_key(id: &Value) -> String {
    id.to_string()
}

/// Every session, and the per-tenant change feed that drives
/// `notifications/*/list_changed`.
pub struct Sessions {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    changes: broadcast::Sender<String>,
    /// Signs the stateless revision's `requestState`.
    pub signer: super::state::StateSigner,
    /// Who may use each tenant's endpoint (`api-key` or `public`), read from
    /// the store once and kept in step by [`Sessions::set_access`].
    access: RwLock<HashMap<String, String>>,
    /// The MCP tasks this node runs.
    pub tasks: super::tasks::Running,
}

impl Sessions {
    /// No sessions yet; `requestState` signed with `state_key`; tasks leased
    /// for `task_lease` at a time.
    pub fn new(state_key: Vec<u8>, task_lease: std::time::Duration) -> Sessions {
        Sessions {
            sessions: RwLock::default(),
            changes: broadcast::channel(256).0,
            signer: super::state::StateSigner::new(state_key),
            access: RwLock::default(),
            tasks: super::tasks::Running::new(task_lease),
        }
    }

    /// Opens a session for `tenant` with the negotiated `version`.
    pub fn create(
        &self,
        tenant: &str,
        caller: Option<String>,
        version: &str,
        client_capabilities: Value,
    ) -> Arc<Session> {
        let mut secret = [0u8; 16];
        rand::rng().fill_bytes(&mut secret);
        let session = Arc::new(Session {
            id: hex::encode(secret),
            tenant: tenant.to_string(),
            caller,
            version: version.to_string(),
            client_capabilities,
            log_level: AtomicU8::new(0),
            next_request: AtomicU64::new(1),
            pending: Mutex::default(),
            in_flight: Mutex::default(),
            subscriptions: Mutex::default(),
            last_used: Mutex::new(Instant::now()),
        });
        let mut sessions = self.sessions.write().unwrap();
        sessions.retain(|_, s| s.idle_for() < IDLE);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .max_by_key(|(_, s)| s.idle_for())
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(session.id.clone(), session.clone());
        session
    }

    /// The live session `id` of `tenant`.
    pub fn get(&self, tenant: &str, id: &str, caller: Option<&str>) -> Option<Arc<Session>> {
        let session = self.sessions.read().unwrap().get(id).cloned()?;
        if session.tenant != tenant || session.caller.as_deref() != caller || session.idle_for() >= IDLE {
            return None;
        }
        session.touch();
        Some(session)
    }

    /// Ends session `id` of `tenant`; false if there is none.
    pub fn remove(&self, tenant: &str, id: &str, caller: Option<&str>) -> bool {
        let mut sessions = self.sessions.write().unwrap();
        match sessions.get(id) {
            Some(s) if s.tenant == tenant && s.caller.as_deref() == caller => sessions.remove(id).is_some(),
            _ => false,
        }
    }

    /// The cached access setting of `tenant`, if known.
    pub fn access(&self, tenant: &str) -> Option<String> {
        self.access.read().unwrap().get(tenant).cloned()
    }

    /// Records the access setting of `tenant` (after storing it).
    pub fn set_access(&self, tenant: &str, access: &str) {
        self.access
            .write()
            .unwrap()
            .insert(tenant.to_string(), access.to_string());
    }

    /// Tells every session of `tenant` that its tools, prompts or resources changed.
    pub fn changed(&self, tenant: &str) {
        let _ = self.changes.send(tenant.to_string());
    }

    /// A feed of tenants whose catalog changed.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.changes.subscribe()
    }
}
