//! `pa backup`: the drill (populate, back up while serving, wipe, restore,
//! every row and blob compared, audit chain verified, the restored platform
//! serving) on both backends; damaged, truncated and wrongly unlocked
//! backups refused; restores (and `verify` of a target) refused into anything
//! but an empty target.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, Row};

use crate::backends::{Backend, Platform, new_place, on_both_backends};
use crate::support::{ADMIN, Api, Pa, get, pa_bin, postgres_url};

on_both_backends!(drill);

const TENANTS: [&str; 4] = ["acme", "globex", "initech", "umbrella"];
const KEYS: usize = 150;

/// Every row of every table, as text, ordered by all columns.
type Rows = BTreeMap<String, Vec<Vec<Option<String>>>>;

/// `pa backup <args>` with `env`; success and what it printed.
fn pa_backup(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(pa_bin());
    cmd.arg("backup").args(args).env_remove("PA_BACKUP_PASSPHRASE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    crate::support::outcome(&out)
}

/// `SELECT` every column of `from` as text (`as_text` of each name), ordered by all of them.
fn ordered_select(columns: &[String], as_text: impl Fn(&str) -> String, from: &str) -> String {
    let select: Vec<String> = columns.iter().map(|c| as_text(c)).collect();
    let order: Vec<String> = (1..=columns.len()).map(|i| i.to_string()).collect();
    format!("SELECT {} FROM {from} ORDER BY {}", select.join(", "), order.join(", "))
}

/// `--data-dir DIR [--database-url URL]`.
fn place_args(dir: &Path, database_url: Option<&str>) -> Vec<String> {
    let mut args = vec!["--data-dir".to_string(), dir.display().to_string()];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_string(), url.to_string()]);
    }
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Tenants with a key-value plugin holding data, an HTTP function in two
/// versions, and a site published by a workflow run that completed.
async fn populate(platform: &Platform) {
    let admin = platform.api(ADMIN);
    let kv = json!({"grants": {"key_value_stores": ["default"]}});
    for tenant in TENANTS {
        admin.create_tenant(tenant).await;
        admin.deploy(tenant, "kv", "1.0.0", "spin5_kv.wasm", kv.clone()).await;
        admin.deploy(tenant, "web", "1.0.0", "hello_p2.wasm", json!({})).await;
        admin.deploy(tenant, "web", "2.0.0", "hello_p3.wasm", json!({})).await;
        crate::control::published_site(&admin, tenant).await;
        for i in 0..KEYS {
            let url = format!("{}/t/{tenant}/fn/kv/kv/key-{i}", platform.pa.url);
            let value = format!("{tenant} value {i}\ttab\\backslash {}", "x".repeat(i));
            let status = admin.http.put(url).body(value).send().await.unwrap().status();
            assert_eq!(status, 201);
        }
    }
}

/// Every row of the platform's database; no table left out.
async fn rows(dir: &Path, schema: Option<&str>) -> Rows {
    let mut all = Rows::new();
    match schema {
        None => {
            let url = format!("sqlite://{}?mode=ro", dir.join("pa.db").display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            for table in tables {
                let columns: Vec<String> = sqlx::query(&format!("PRAGMA table_info(\"{table}\")"))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>("name"))
                    .collect();
                let sql = ordered_select(&columns, |c| format!("quote(\"{c}\")"), &format!("\"{table}\""));
                let table_rows = sqlx::query(&sql).fetch_all(&mut conn).await.unwrap();
                let values = table_rows
                    .iter()
                    .map(|r| (0..columns.len()).map(|i| r.get::<Option<String>, _>(i)).collect())
                    .collect();
                all.insert(table, values);
            }
        }
        Some(schema) => {
            let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
            )
            .bind(schema)
            .fetch_all(&mut conn)
            .await
            .unwrap();
            for table in tables {
                let columns: Vec<String> = sqlx::query_scalar(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
                )
                .bind(schema)
                .bind(&table)
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let sql = ordered_select(
                    &columns,
                    |c| format!("\"{c}\"::text"),
                    &format!("\"{schema}\".\"{table}\""),
                );
                let table_rows = sqlx::query(&sql).fetch_all(&mut conn).await.unwrap();
                let values = table_rows
                    .iter()
                    .map(|r| (0..columns.len()).map(|i| r.get::<Option<String>, _>(i)).collect())
                    .collect();
                all.insert(table, values);
            }
        }
    }
    all
}

/// Every blob file of the data folder, by name.
fn blobs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap())
        })
        .collect()
}

async fn drop_schema(schema: &str) {
    let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn drill(backend: Backend) {
    let platform = Platform::start(backend);
    populate(&platform).await;
    // Nothing is written once the last usage is flushed (every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = rows(platform.dir.path(), platform.schema()).await;
    let blobs_before = blobs(platform.dir.path());
    for table in [
        "tenants",
        "plugin_versions",
        "deployments",
        "kv",
        "workflow_runs",
        "workflow_steps",
        "audit",
        "site_versions",
        "usage",
    ] {
        assert!(!before.get(table).is_none_or(Vec::is_empty), "{table} should have rows");
    }
    assert!(blobs_before.len() >= 5, "{:?}", blobs_before.keys());

    // Back up while the platform serves.
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("platform.backup");
    let source = place_args(platform.dir.path(), platform.database_url());
    let mut args = vec!["create", "--out", archive.to_str().unwrap()];
    args.extend(strs(&source));
    let started = Instant::now();
    let (ok, text) = pa_backup(&args, &[]);
    let create_secs = started.elapsed().as_secs_f64();
    assert!(ok, "{text}");
    assert!(text.contains(&format!("{} blobs", blobs_before.len())), "{text}");
    assert_eq!(
        rows(platform.dir.path(), platform.schema()).await,
        before,
        "the platform was idle during the backup"
    );
    let (ok, text) = pa_backup(&["verify", archive.to_str().unwrap()], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("intact"), "{text}");

    // Wipe: stop, and restore into a new data folder and a dropped and empty schema.
    let schema = platform.schema().map(str::to_string);
    let database_url = platform.database_url().map(str::to_string);
    let Platform { pa, dir, .. } = platform;
    pa.stop();
    drop(dir);
    if let Some(schema) = &schema {
        drop_schema(schema).await;
    }
    let fresh = tempfile::tempdir().unwrap();
    let target = place_args(fresh.path(), database_url.as_deref());
    // `verify` with a target checks it as `restore` would, writing nothing.
    let verify_into = |place: &[String]| {
        let mut args = vec!["verify", archive.to_str().unwrap()];
        args.extend(strs(place));
        pa_backup(&args, &[])
    };
    let (ok, text) = verify_into(&target);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("it can be restored into {}", fresh.path().display())),
        "{text}"
    );
    assert_eq!(
        std::fs::read_dir(fresh.path()).unwrap().count(),
        0,
        "verify wrote nothing"
    );
    let mut args = vec!["restore", archive.to_str().unwrap()];
    args.extend(strs(&target));
    let started = Instant::now();
    let (ok, text) = pa_backup(&args, &[]);
    let restore_secs = started.elapsed().as_secs_f64();
    assert!(ok, "{text}");
    assert!(text.contains("restored"), "{text}");

    // Every row and every blob as it was.
    let after = rows(fresh.path(), schema.as_deref()).await;
    assert_eq!(after.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>());
    for (table, expected) in &before {
        assert!(after[table] == *expected, "table {table} differs after the restore");
    }
    let blobs_after = blobs(fresh.path());
    assert_eq!(
        blobs_after.keys().collect::<Vec<_>>(),
        blobs_before.keys().collect::<Vec<_>>()
    );
    assert!(blobs_after == blobs_before, "blob bytes differ after the restore");

    let rows_total: usize = before.values().map(Vec::len).sum();
    let blob_bytes: usize = blobs_before.values().map(Vec::len).sum();
    let archive_bytes = std::fs::metadata(&archive).unwrap().len();
    eprintln!(
        "backup drill ({backend:?}): {rows_total} rows in {} tables, {} blobs of {blob_bytes} bytes; \
         archive {archive_bytes} bytes; create {create_secs:.2} s, restore {restore_secs:.2} s",
        before.len(),
        blobs_before.len()
    );

    // A second restore finds the target taken: the data folder, then the
    // database; a verify of the same target says the same.
    let (ok, text) = pa_backup(&args, &[]);
    assert!(!ok);
    assert!(text.contains("is not empty"), "{text}");
    let (ok, text) = verify_into(&target);
    assert!(!ok);
    assert!(text.contains("is not empty"), "{text}");
    let other = tempfile::tempdir().unwrap();
    let taken = match backend {
        Backend::Sqlite => Some(format!("sqlite://{}", fresh.path().join("pa.db").display())),
        Backend::Postgres => database_url.clone(),
    };
    let refusals = |url: Option<&str>| {
        let place = place_args(other.path(), url);
        let mut args = vec!["restore".to_string(), archive.display().to_string()];
        args.extend(place.iter().cloned());
        [pa_backup(&strs(&args), &[]), verify_into(&place)]
    };
    for (ok, text) in refusals(taken.as_deref()) {
        assert!(!ok);
        match backend {
            Backend::Sqlite => assert!(
                text.contains("exists: restore into a place without a database"),
                "{text}"
            ),
            Backend::Postgres => assert!(
                text.contains(" tables: restore into an empty database or schema"),
                "{text}"
            ),
        }
    }
    if let Backend::Postgres = backend {
        let (_, elsewhere, _) = new_place(backend);
        let hint = format!(
            "restore it into a database URL with `?schema={}`",
            schema.as_deref().unwrap()
        );
        for (ok, text) in refusals(elsewhere.as_deref()) {
            assert!(!ok);
            assert!(text.contains(&hint), "{text}");
        }
    }
    assert_eq!(
        std::fs::read_dir(other.path()).unwrap().count(),
        0,
        "a refused restore writes nothing"
    );

    // The restored platform: audit chains intact, plugins and key-value data served.
    let restored = Platform::serve_on(fresh, database_url, schema, &[]);
    let (ok, text) = restored.verify(None);
    assert!(ok, "{text}");
    assert!(text.contains("acme:") && text.contains("intact"), "{text}");
    for tenant in TENANTS {
        let base = format!("{}/t/{tenant}", restored.pa.url);
        let (status, value) = get(&format!("{base}/fn/kv/kv/key-7")).await;
        assert_eq!(
            (status, value),
            (200, format!("{tenant} value 7\ttab\\backslash xxxxxxx"))
        );
        let (status, _) = get(&format!("{base}/fn/web/")).await;
        assert_eq!(status, 200);
        assert_eq!(
            get(&format!("{base}/sites/pages/")).await,
            (200, "<h1>pages</h1>".to_string())
        );
    }
}

/// A platform on SQLite that keeps its secret key in its data folder.
async fn keyed_platform(dir: &Path) -> Pa {
    let pa = Pa::serve(dir, &[]);
    let admin = Api::new(&pa, ADMIN);
    admin.create_tenant("acme").await;
    admin.deploy("acme", "web", "1.0.0", "hello_p2.wasm", json!({})).await;
    pa
}

fn flip_byte(file: &Path, at: u64) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    let at = at as usize % bytes.len();
    bytes[at] ^= 0x20;
    let damaged = file.with_extension(format!("flipped-{at}"));
    std::fs::write(&damaged, bytes).unwrap();
    damaged
}

fn truncated(file: &Path, keep: usize) -> PathBuf {
    let bytes = std::fs::read(file).unwrap();
    let cut = file.with_extension("truncated");
    std::fs::write(&cut, &bytes[..keep.min(bytes.len() - 1)]).unwrap();
    cut
}

#[tokio::test]
async fn damaged_truncated_or_wrongly_unlocked_backups_are_refused() {
    let data = tempfile::tempdir().unwrap();
    let pa = keyed_platform(data.path()).await;
    let out = tempfile::tempdir().unwrap();
    let plain = out.path().join("plain.backup");
    let dir = data.path().to_str().unwrap();
    let (ok, text) = pa_backup(&["create", "--out", plain.to_str().unwrap(), "--data-dir", dir], &[]);
    assert!(ok, "{text}");
    assert!(text.contains("not encrypted"), "{text}");
    assert!(text.contains("holds the platform secret key"), "{text}");
    let (ok, text) = pa_backup(&["create", "--out", plain.to_str().unwrap(), "--data-dir", dir], &[]);
    assert!(
        !ok && text.contains("exists"),
        "an existing file is not overwritten: {text}"
    );

    let passphrase = out.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    let sealed = out.path().join("sealed.backup");
    let (ok, text) = pa_backup(
        &[
            "create",
            "--out",
            sealed.to_str().unwrap(),
            "--data-dir",
            dir,
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
        &[],
    );
    assert!(ok, "{text}");
    assert!(text.contains(" encrypted"), "{text}");
    pa.stop();
    let sealed_text = std::fs::read(&sealed).unwrap();
    assert!(
        !sealed_text.windows(14).any(|w| w == b"manifest.json\0"),
        "the encrypted file shows no entry names"
    );

    let verify = |file: &Path, env: &[(&str, &str)]| pa_backup(&["verify", file.to_str().unwrap()], env);
    let (ok, text) = verify(&sealed, &[]);
    assert!(!ok && text.contains("is encrypted: give its passphrase"), "{text}");
    let (ok, text) = verify(&sealed, &[("PA_BACKUP_PASSPHRASE", "wrong horse")]);
    assert!(!ok && text.contains("wrong passphrase"), "{text}");
    let (ok, text) = verify(&sealed, &[("PA_BACKUP_PASSPHRASE", "correct horse battery staple")]);
    assert!(ok && text.contains("intact") && text.contains("encrypted"), "{text}");

    // Any flipped byte or lost tail is found, encrypted or not.
    for file in [&plain, &sealed] {
        let len = std::fs::metadata(file).unwrap().len();
        let env = [("PA_BACKUP_PASSPHRASE", "correct horse battery staple")];
        for at in [len / 3, len / 2, len - 5] {
            let damaged = flip_byte(file, at);
            let (ok, text) = verify(&damaged, &env);
            assert!(
                !ok,
                "a flipped byte at {at} of {} went unnoticed: {text}",
                file.display()
            );
            assert!(text.starts_with("error: "), "{text}");
        }
        for keep in [len as usize / 2, len as usize - 1] {
            let (ok, text) = verify(&truncated(file, keep), &env);
            assert!(!ok, "{} cut to {keep} bytes went unnoticed: {text}", file.display());
        }
    }
    let (ok, text) = verify(&out.path().join("passphrase"), &[]);
    assert!(!ok && text.contains("is not a backup"), "{text}");

    // Restored with its secret key, the audit chain verifies without PA_SECRET_KEY.
    let target = tempfile::tempdir().unwrap();
    let (ok, text) = pa_backup(
        &[
            "restore",
            sealed.to_str().unwrap(),
            "--data-dir",
            target.path().to_str().unwrap(),
        ],
        &[("PA_BACKUP_PASSPHRASE", "wrong horse")],
    );
    assert!(!ok && text.contains("wrong passphrase"), "{text}");
    assert_eq!(
        std::fs::read_dir(target.path()).unwrap().count(),
        0,
        "nothing is written"
    );
    let (ok, text) = pa_backup(
        &[
            "restore",
            sealed.to_str().unwrap(),
            "--data-dir",
            target.path().to_str().unwrap(),
        ],
        &[("PA_BACKUP_PASSPHRASE", "correct horse battery staple")],
    );
    assert!(ok, "{text}");
    assert_eq!(
        std::fs::read(target.path().join("secret.key")).unwrap(),
        std::fs::read(data.path().join("secret.key")).unwrap()
    );
    let out = Command::new(pa_bin())
        .args(["audit", "verify", "--data-dir", target.path().to_str().unwrap()])
        .env_remove("PA_SECRET_KEY")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("acme:") && text.contains("intact"),
        "{text}"
    );
    let pa = Pa::serve(target.path(), &[]);
    assert_eq!(get(&format!("{}/t/acme/fn/web/", pa.url)).await.0, 200);
    let admin = Api::new(&pa, ADMIN);
    let (status, _) = admin.send(Method::GET, "/api/v1/tenants/acme/plugins", None).await;
    assert_eq!(status, 200);
}

/// `deploy/scripts/NAME` run with the test's `pa` and `env`.
fn script(name: &str, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/scripts")
        .join(name);
    let mut cmd = Command::new(path);
    cmd.args(["--pa", pa_bin().to_str().unwrap()])
        .args(args)
        .env_remove("PA_SECRET_KEY")
        .env_remove("PA_DATABASE_URL")
        .env_remove("PA_BACKUP_PASSPHRASE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    crate::support::outcome(&out)
}

#[tokio::test]
async fn the_deploy_scripts_back_up_rotate_and_restore() {
    let data = tempfile::tempdir().unwrap();
    let pa = keyed_platform(data.path()).await;
    let backups = tempfile::tempdir().unwrap();
    let folder = backups.path().to_str().unwrap();
    let env = [
        ("PA_DATA_DIR", data.path().to_str().unwrap()),
        ("PA_BACKUP_PASSPHRASE", "a scripted passphrase"),
    ];
    for _ in 0..2 {
        let (ok, text) = script("backup.sh", &["--keep", "1", folder], &env);
        assert!(ok, "{text}");
        assert!(text.contains(" encrypted") && text.contains("intact"), "{text}");
        // Backups are named by the second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    pa.stop();
    let kept: Vec<PathBuf> = std::fs::read_dir(backups.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "--keep 1 leaves the newest: {kept:?}");

    let target = tempfile::tempdir().unwrap();
    let env = [
        ("PA_DATA_DIR", target.path().to_str().unwrap()),
        ("PA_BACKUP_PASSPHRASE", "a scripted passphrase"),
    ];
    let (ok, text) = script("restore.sh", &[kept[0].to_str().unwrap()], &env);
    assert!(ok, "{text}");
    assert!(
        text.contains("restored") && text.contains("acme:") && text.contains("intact"),
        "{text}"
    );
    let (ok, text) = script("restore.sh", &[kept[0].to_str().unwrap()], &env);
    assert!(!ok && text.contains("is not empty"), "{text}");
}
