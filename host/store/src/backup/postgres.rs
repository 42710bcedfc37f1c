//! PostgreSQL snapshots: `pg_dump` (custom format) of the platform's schema
//! in a snapshot exported by a repeatable-read transaction, which counts the
//! rows and reads the blob references of exactly the dumped data; restored
//! with `pg_restore` in one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;

use sqlx::{Connection, Executor, PgConnection};
use tokio::io::AsyncBufReadExt;
use tokio::process::Command;

use super::{SnapshotInfo, site_blobs};
use crate::StoreError;

const PUBLIC: &str = "public";

/// Runs `program` with `args`; its stdout, or an error quoting its stderr.
async fn run(program: &str, args: &[&str]) -> Result<Vec<u8>, StoreError> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            StoreError::Backup(format!(
                "cannot run {program} (is the PostgreSQL client installed?): {e}"
            ))
        })?;
    if !output.status.success() {
        return Err(StoreError::Backup(format!(
            "{program} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(output.stdout)
}

fn path_text(path: &Path) -> Result<&str, StoreError> {
    path.to_str()
        .ok_or_else(|| StoreError::Backup(format!("{} is not a UTF-8 path", path.display())))
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) async fn snapshot(url: &str, schema: Option<String>, out: &Path) -> Result<SnapshotInfo, StoreError> {
    let schema = schema.unwrap_or_else(|| PUBLIC.into());
    let mut conn = PgConnection::connect(url).await?;
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?;
    let exported: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .bind(&schema)
    .fetch_all(&mut conn)
    .await?;
    if !names.iter().any(|n| n == "_sqlx_migrations") {
        return Err(StoreError::Backup(format!(
            "schema `{schema}` holds no platform database"
        )));
    }
    let mut tables = BTreeMap::new();
    for name in names {
        let sql = format!("SELECT COUNT(*) FROM {}.{}", quote(&schema), quote(&name));
        let rows: i64 = sqlx::query_scalar(&sql).fetch_one(&mut conn).await?;
        tables.insert(name, rows as u64);
    }
    let q = quote(&schema);
    let migration: i64 = sqlx::query_scalar(&format!(
        "SELECT COALESCE(MAX(version), 0) FROM {q}._sqlx_migrations WHERE success"
    ))
    .fetch_one(&mut conn)
    .await?;
    let mut blobs: BTreeSet<String> = sqlx::query_scalar(&format!("SELECT sha256 FROM {q}.plugin_versions"))
        .fetch_all(&mut conn)
        .await?
        .into_iter()
        .collect();
    let files: Vec<String> = sqlx::query_scalar(&format!("SELECT files FROM {q}.site_versions"))
        .fetch_all(&mut conn)
        .await?;
    for files in files {
        site_blobs(&files, &mut blobs)?;
    }
    let dump = run(
        "pg_dump",
        &[
            "--dbname",
            url,
            "--schema",
            &schema,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--snapshot",
            &exported,
            "--file",
            path_text(out)?,
        ],
    )
    .await;
    conn.execute("COMMIT").await?;
    conn.close().await?;
    dump?;
    Ok(SnapshotInfo {
        backend: "postgres".into(),
        schema: Some(schema),
        migration,
        tables,
        blobs,
    })
}

/// An entry of `pg_restore --list`: `ID; CATALOG OID DESC… SCHEMA NAME OWNER`.
struct TocEntry<'a> {
    line: &'a str,
    desc: String,
    schema: &'a str,
    name: &'a str,
}

fn toc(list: &str) -> Vec<TocEntry<'_>> {
    list.lines()
        .filter(|line| !line.starts_with(';') && !line.trim().is_empty())
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            // ID; CATALOG OID, then a description of one or more words, then schema, name and owner.
            (words.len() >= 7).then(|| TocEntry {
                line,
                desc: words[3..words.len() - 3].join(" "),
                schema: words[words.len() - 3],
                name: words[words.len() - 2],
            })
        })
        .collect()
}

pub(super) async fn inspect(file: &Path) -> Result<SnapshotInfo, StoreError> {
    let file = path_text(file)?;
    let list = String::from_utf8(run("pg_restore", &["--list", file]).await?)
        .map_err(|e| StoreError::Backup(format!("the PostgreSQL dump's table of contents is not text: {e}")))?;
    let entries = toc(&list);
    let mut schema = None;
    let mut tables = BTreeMap::new();
    for entry in entries.iter().filter(|e| e.desc == "TABLE") {
        schema = Some(entry.schema.to_string());
        tables.insert(entry.name.to_string(), 0u64);
    }
    let schema = schema.ok_or_else(|| StoreError::Backup("the PostgreSQL dump holds no tables".into()))?;
    let mut child = Command::new("pg_restore")
        .args(["--data-only", "--file=-", file])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| StoreError::Backup(format!("cannot run pg_restore: {e}")))?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("piped")).split(b'\n');
    // Reads to the end even after a bad line, so pg_restore never blocks on a full pipe.
    let read = async move {
        let mut data = Data::default();
        let mut failure = None;
        while let Some(line) = lines.next_segment().await? {
            if failure.is_none() {
                failure = data.line(&line).err();
            }
        }
        Ok::<_, std::io::Error>((data, failure))
    };
    let (read, output) = tokio::join!(read, child.wait_with_output());
    let output = output.map_err(|e| StoreError::Backup(format!("pg_restore: {e}")))?;
    if !output.status.success() {
        return Err(StoreError::Backup(format!(
            "the PostgreSQL dump cannot be read: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let (data, failure) = read.map_err(|e| StoreError::Backup(format!("reading pg_restore's output: {e}")))?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    for (table, rows) in data.rows {
        *tables.entry(table).or_default() = rows;
    }
    let mut blobs = data.plugin_blobs;
    for files in &data.site_files {
        site_blobs(files, &mut blobs)?;
    }
    Ok(SnapshotInfo {
        backend: "postgres".into(),
        schema: Some(schema),
        migration: data.migration,
        tables,
        blobs,
    })
}

/// What the `COPY … FROM stdin` blocks of a data-only restore script hold.
#[derive(Default)]
struct Data {
    /// The table of the block being read and its columns.
    copying: Option<(String, Vec<String>)>,
    rows: BTreeMap<String, u64>,
    plugin_blobs: BTreeSet<String>,
    site_files: Vec<String>,
    migration: i64,
}

impl Data {
    fn line(&mut self, line: &[u8]) -> Result<(), StoreError> {
        let bad = |what: &str| StoreError::Backup(format!("the PostgreSQL dump's data is damaged: {what}"));
        let Some((table, columns)) = &self.copying else {
            if let Some(rest) = line.strip_prefix(b"COPY ") {
                let rest = std::str::from_utf8(rest).map_err(|_| bad("a COPY header is not text"))?;
                let (name, rest) = rest.split_once(" (").ok_or_else(|| bad(rest))?;
                let (columns, _) = rest.split_once(") FROM stdin;").ok_or_else(|| bad(rest))?;
                let table = name.rsplit('.').next().unwrap_or(name).trim_matches('"').to_string();
                let columns = columns.split(", ").map(|c| c.trim_matches('"').to_string()).collect();
                self.rows.insert(table.clone(), 0);
                self.copying = Some((table, columns));
            }
            return Ok(());
        };
        if line == b"\\." {
            self.copying = None;
            return Ok(());
        }
        let fields: Vec<&[u8]> = line.split(|b| *b == b'\t').collect();
        if fields.len() != columns.len() {
            return Err(bad(&format!(
                "a row of {table} has {} of {} columns",
                fields.len(),
                columns.len()
            )));
        }
        let field = |name: &str| -> Result<String, StoreError> {
            let i = columns
                .iter()
                .position(|c| c == name)
                .ok_or_else(|| bad(&format!("{table} has no {name}")))?;
            String::from_utf8(unescape(fields[i])).map_err(|_| bad(&format!("{table}.{name} is not text")))
        };
        match table.as_str() {
            "plugin_versions" => {
                self.plugin_blobs.insert(field("sha256")?);
            }
            "site_versions" => self.site_files.push(field("files")?),
            "_sqlx_migrations" if field("success")? == "t" => {
                let version = field("version")?.parse().map_err(|_| bad("a migration version"))?;
                self.migration = self.migration.max(version);
            }
            _ => {}
        }
        *self.rows.get_mut(table).expect("inserted with the header") += 1;
        Ok(())
    }
}

/// A field of COPY's text format with its backslash escapes undone.
fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'n') => out.push(b'\n'),
            Some(b'r') => out.push(b'\r'),
            Some(b't') => out.push(b'\t'),
            Some(b'b') => out.push(8),
            Some(b'f') => out.push(12),
            Some(b'v') => out.push(11),
            Some(other) => out.push(other),
            None => out.push(b'\\'),
        }
    }
    out
}

/// Refuses a target schema other than the archived one, or one with tables.
pub(super) async fn check_target(url: &str, schema: Option<&str>, archived: Option<&str>) -> Result<(), StoreError> {
    let schema = schema.unwrap_or(PUBLIC);
    let archived = archived.unwrap_or(PUBLIC);
    if schema != archived {
        let hint = if archived == PUBLIC {
            "without `schema=`".to_string()
        } else {
            format!("with `?schema={archived}`")
        };
        return Err(StoreError::Backup(format!(
            "the backup holds schema `{archived}`, not `{schema}`: restore it into a database URL {hint}"
        )));
    }
    let mut conn = PgConnection::connect(url).await?;
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1")
        .bind(schema)
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    if tables > 0 {
        return Err(StoreError::Backup(format!(
            "schema `{schema}` of the target database has {tables} tables: restore into an empty database or schema"
        )));
    }
    Ok(())
}

/// Restores a checked snapshot into `schema` (created if missing) in one transaction.
pub(super) async fn restore(url: &str, schema: Option<&str>, file: &Path) -> Result<(), StoreError> {
    let schema = schema.unwrap_or(PUBLIC);
    let mut conn = PgConnection::connect(url).await?;
    conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {}", quote(schema)).as_str())
        .await?;
    conn.close().await?;
    // The schema exists now: restore everything but its creation.
    let text = path_text(file)?;
    let list = String::from_utf8_lossy(&run("pg_restore", &["--list", text]).await?).into_owned();
    let kept: Vec<&str> = toc(&list)
        .into_iter()
        .filter(|e| e.desc != "SCHEMA" && !e.line.contains(" COMMENT - SCHEMA "))
        .map(|e| e.line)
        .collect();
    let list_file = file.with_extension("list");
    tokio::fs::write(&list_file, kept.join("\n") + "\n")
        .await
        .map_err(|e| StoreError::Backup(format!("cannot write {}: {e}", list_file.display())))?;
    run(
        "pg_restore",
        &[
            "--dbname",
            url,
            "--use-list",
            path_text(&list_file)?,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            text,
        ],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_are_undone() {
        assert_eq!(unescape(br#"{"a":"x\\ty"}\tz\\"#), b"{\"a\":\"x\\ty\"}\tz\\");
    }

    #[test]
    fn copy_blocks_are_counted_and_blob_references_read() {
        let mut data = Data::default();
        for line in [
            "SET search_path = '';",
            "COPY s.plugin_versions (tenant, name, version, sha256) FROM stdin;",
            "acme\thello\t1.0.0\tabc",
            "\\.",
            "COPY s.site_versions (tenant, files) FROM stdin;",
            "acme\t{\"index.html\": \"def\"}",
            "\\.",
            "COPY s._sqlx_migrations (version, success) FROM stdin;",
            "1\tt",
            "8\tt",
            "\\.",
        ] {
            data.line(line.as_bytes()).unwrap();
        }
        assert_eq!(data.rows["plugin_versions"], 1);
        assert_eq!(data.rows["_sqlx_migrations"], 2);
        assert_eq!(data.migration, 8);
        assert!(data.plugin_blobs.contains("abc"));
        assert_eq!(data.site_files.len(), 1);
        let mut short = Data::default();
        short.line(b"COPY s.kv (a, b) FROM stdin;").unwrap();
        assert!(short.line(b"only-one").is_err());
    }

    #[test]
    fn table_of_contents_lines_are_split() {
        let list = ";\n; Archive created\n215; 1259 16386 TABLE s plugin_versions postgres\n3350; 0 16386 TABLE DATA s plugin_versions postgres\n6; 2615 2200 SCHEMA - s postgres\n4; 0 0 COMMENT - SCHEMA public postgres\n";
        let entries = toc(list);
        assert_eq!(entries.len(), 4);
        assert!(entries[3].line.contains(" COMMENT - SCHEMA "));
        assert_eq!(
            (entries[0].desc.as_str(), entries[0].name),
            ("TABLE", "plugin_versions")
        );
        assert_eq!(entries[1].desc, "TABLE DATA");
        assert_eq!((entries[2].desc.as_str(), entries[2].schema), ("SCHEMA", "-"));
    }
}
