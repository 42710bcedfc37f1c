//! The audit log: one hash chain per tenant (`""` for platform actions).
//!
//! Each row's `hash` is an HMAC-SHA256, under a key the database does not hold,
//! of the previous row's hash and this row's fields; `audit_heads` records each
//! chain's last row. Editing, deleting, inserting or reordering rows breaks the
//! chain, and without the key it cannot be rebuilt.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{now, on_pool};
use crate::{Store, StoreError};

/// An action to record.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    /// Tenant acted in (`""`: the platform).
    pub tenant: String,
    /// Who: `user:NAME`, `key:ID` or `anonymous`.
    pub actor: String,
    /// What, e.g. `plugin.upload`.
    pub action: String,
    /// On what, e.g. `plugin/hello@1.0.0`.
    pub target: String,
    /// `success`, `denied` or `failure`.
    pub outcome: String,
    /// The client's address.
    pub source_ip: String,
    /// The request id.
    pub request_id: String,
    /// Extra facts as JSON (`{}` when none).
    pub detail: String,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct AuditRecord {
    /// Tenant (`""`: the platform).
    pub tenant: String,
    /// Position in the tenant's chain, from 1.
    pub seq: i64,
    /// Time (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// How it ended.
    pub outcome: String,
    /// Client address.
    pub source_ip: String,
    /// Request id.
    pub request_id: String,
    /// Extra facts (JSON).
    pub detail: String,
    /// Chain hash (hex).
    pub hash: String,
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this action.
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// At or after this time (RFC 3339).
    pub since: Option<String>,
    /// Before this time (RFC 3339).
    pub until: Option<String>,
    /// Only rows after this sequence number (pagination).
    pub after: Option<i64>,
    /// At most this many rows.
    pub limit: i64,
}

/// What `verify_audit` found in one tenant's chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainReport {
    /// Tenant (`""`: the platform).
    pub tenant: String,
    /// Rows read.
    pub rows: i64,
    /// Every break found; empty when the chain is intact.
    pub problems: Vec<String>,
}

const AUDIT_COLUMNS: &str =
    "SELECT tenant, seq, at, actor, action, target, outcome, source_ip, request_id, detail, hash FROM audit";

fn chain_hash(key: &[u8], previous: &str, r: &AuditRecord) -> String {
    let fields = serde_json::json!([
        r.tenant,
        r.seq,
        r.at,
        r.actor,
        r.action,
        r.target,
        r.outcome,
        r.source_ip,
        r.request_id,
        r.detail
    ]);
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(previous.as_bytes());
    mac.update(b"\n");
    mac.update(fields.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Store {
    /// Appends an action to its tenant's chain; concurrent appends are serialised.
    pub async fn append_audit(&self, key: &[u8], new: NewAudit) -> Result<AuditRecord, StoreError> {
        // PostgreSQL text holds no NUL: a caller's NUL (say, in a refused
        // username) is kept as U+FFFD rather than losing the entry.
        let text = |s: String| {
            if s.contains('\0') {
                s.replace('\0', "\u{fffd}")
            } else {
                s
            }
        };
        let mut record = AuditRecord {
            tenant: text(new.tenant),
            seq: 0,
            at: now(),
            actor: text(new.actor),
            action: new.action,
            target: text(new.target),
            outcome: new.outcome,
            source_ip: new.source_ip,
            request_id: new.request_id,
            detail: text(new.detail),
            hash: String::new(),
        };
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO audit_heads (tenant, seq, hash) VALUES ($1, 0, '') ON CONFLICT DO NOTHING")
                .bind(&record.tenant)
                .execute(&mut *tx)
                .await?;
            let (seq, previous): (i64, String) =
                sqlx::query_as("UPDATE audit_heads SET seq = seq + 1 WHERE tenant = $1 RETURNING seq, hash")
                    .bind(&record.tenant)
                    .fetch_one(&mut *tx)
                    .await?;
            record.seq = seq;
            record.hash = chain_hash(key, &previous, &record);
            sqlx::query(
                "INSERT INTO audit (tenant, seq, at, actor, action, target, outcome, source_ip, request_id, detail, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&record.tenant)
            .bind(record.seq)
            .bind(&record.at)
            .bind(&record.actor)
            .bind(&record.action)
            .bind(&record.target)
            .bind(&record.outcome)
            .bind(&record.source_ip)
            .bind(&record.request_id)
            .bind(&record.detail)
            .bind(&record.hash)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE audit_heads SET hash = $1 WHERE tenant = $2")
                .bind(&record.hash)
                .bind(&record.tenant)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(record)
    }

    /// A tenant's audit rows matching `q`, oldest first.
    pub async fn audit(&self, tenant: &str, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = format!("{AUDIT_COLUMNS} WHERE tenant = $1");
        let mut binds = vec![tenant.to_string()];
        let filters = [
            ("action =", &q.action),
            ("actor =", &q.actor),
            ("outcome =", &q.outcome),
            ("at >=", &q.since),
            ("at <", &q.until),
        ];
        for (condition, value) in filters {
            if let Some(value) = value {
                binds.push(value.clone());
                sql.push_str(&format!(" AND {condition} ${}", binds.len()));
            }
        }
        sql.push_str(&format!(
            " AND seq > {} ORDER BY seq LIMIT {}",
            q.after.unwrap_or(0),
            q.limit.max(0)
        ));
        let rows = on_pool!(self, |pool| {
            let mut query = sqlx::query_as(&sql);
            for value in &binds {
                query = query.bind(value);
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Checks every chain (or `tenant`'s) against `key`.
    pub async fn verify_audit(&self, key: &[u8], tenant: Option<&str>) -> Result<Vec<ChainReport>, StoreError> {
        let tenants: Vec<String> = match tenant {
            Some(t) => vec![t.to_string()],
            None => on_pool!(self, |pool| sqlx::query_scalar(
                "SELECT tenant FROM audit_heads UNION SELECT tenant FROM audit ORDER BY 1"
            )
            .fetch_all(pool)
            .await)?,
        };
        let mut reports = Vec::new();
        for tenant in tenants {
            reports.push(self.verify_chain(key, &tenant).await?);
        }
        Ok(reports)
    }

    async fn verify_chain(&self, key: &[u8], tenant: &str) -> Result<ChainReport, StoreError> {
        let sql = format!("{AUDIT_COLUMNS} WHERE tenant = $1 ORDER BY seq");
        let rows: Vec<AuditRecord> = on_pool!(self, |pool| sqlx::query_as(&sql).bind(tenant).fetch_all(pool).await)?;
        let head: Option<(i64, String)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT seq, hash FROM audit_heads WHERE tenant = $1"
        )
        .bind(tenant)
        .fetch_optional(pool)
        .await)?;
        let mut problems = Vec::new();
        let mut previous = String::new();
        let mut expected = 1;
        for row in &rows {
            if row.seq != expected {
                problems.push(format!(
                    "row {expected} is missing (the next row is {}): rows were deleted or inserted",
                    row.seq
                ));
            } else if chain_hash(key, &previous, row) != row.hash {
                problems.push(format!(
                    "row {} does not match its hash: it was edited, moved, or the chain was rewritten",
                    row.seq
                ));
            }
            previous = row.hash.clone();
            expected = row.seq + 1;
        }
        let (last_seq, last_hash) = rows.last().map(|r| (r.seq, r.hash.as_str())).unwrap_or((0, ""));
        match head {
            Some((seq, hash)) if seq == last_seq && hash == last_hash => {}
            Some((seq, _)) => problems.push(format!(
                "the chain should end at row {seq} but ends at row {last_seq}: rows were deleted or added at the end"
            )),
            None if rows.is_empty() => {}
            None => problems.push("the chain's head record is missing".to_string()),
        }
        Ok(ChainReport {
            tenant: tenant.to_string(),
            rows: rows.len() as i64,
            problems,
        })
    }
}
