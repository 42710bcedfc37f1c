//! `pa`: the PowerAutomation host.

mod backup;
mod billing;
mod listen;
mod plugin;
mod remote;
mod telemetry;
mod workflow;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use listen::listen;
use pa_server::{Compiler, Platform, PlatformConfig, Rate, RateLimits};

/// The host allocates and frees many small buffers per request (headers,
/// store state, body frames); mimalloc does that with less CPU than glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long `pa up` lets requests in flight finish when it stops.
const UP_DRAIN: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(name = "pa", version, about = "PowerAutomation: a multi-tenant WebAssembly host")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the platform: control plane, functions, metrics.
    Serve(ServeArgs),
    /// Serve a Spin manifest locally, like `spin up`.
    Up(UpArgs),
    /// Manage plugins on a running server.
    Plugin(plugin::PluginArgs),
    /// Check the audit log.
    Audit(AuditArgs),
    /// Back up, check and restore a platform's data.
    Backup(backup::BackupArgs),
    /// A tenant's usage and invoices on a running server.
    Billing(billing::BillingArgs),
    /// Workflows and their runs on a running server.
    Workflow(workflow::WorkflowArgs),
    /// Internal: compile a component read on stdin for engine `p2` or `p3`
    /// (run by `pa serve` in a child process it can kill at the time limit).
    #[command(hide = true)]
    CompileWorker { engine: String },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    data: backup::DataArgs,
    /// Seconds a stopping node (SIGTERM) waits for its requests and workflow
    /// steps in flight before it exits anyway.
    #[arg(long, env = "PA_DRAIN_SECS", default_value_t = 30)]
    drain_secs: u64,
    /// Threads serving HTTP connections (default: one per core).
    #[arg(long, env = "PA_HTTP_THREADS")]
    http_threads: Option<NonZeroUsize>,
    /// Largest accepted component upload, in bytes.
    #[arg(long, env = "PA_MAX_UPLOAD_BYTES", default_value_t = 50 << 20)]
    max_upload_bytes: usize,
    /// Seconds one upload may take to compile.
    #[arg(long, env = "PA_COMPILE_TIMEOUT_SECS", default_value_t = 60)]
    compile_timeout_secs: u64,
    /// Requests one tenant may run at once.
    #[arg(long, env = "PA_TENANT_CONCURRENCY", default_value_t = 256)]
    tenant_concurrency: u32,
    /// Redis shared by the nodes (rate limits); in-process state when unset.
    #[arg(long, env = "PA_REDIS_URL")]
    redis_url: Option<String>,
    /// Prefix of this platform's Redis keys.
    #[arg(long, env = "PA_REDIS_PREFIX", default_value = "pa:")]
    redis_prefix: String,
    /// Requests per client IP address (`N/s`, `N/min` or `N/h`); unlimited when unset.
    #[arg(long, env = "PA_RATE_LIMIT_IP")]
    rate_limit_ip: Option<Rate>,
    /// Requests per API key or access token.
    #[arg(long, env = "PA_RATE_LIMIT_KEY")]
    rate_limit_key: Option<Rate>,
    /// Requests per tenant (API, functions and MCP together).
    #[arg(long, env = "PA_RATE_LIMIT_TENANT")]
    rate_limit_tenant: Option<Rate>,
    /// Browser origins allowed to call the API cross-origin (comma-separated, or `*`).
    #[arg(long, env = "PA_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Workflow steps this node runs at once.
    #[arg(long, env = "PA_WORKFLOW_WORKERS", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=1024))]
    workflow_workers: u16,
    /// Seconds a workflow step stays with a node that stopped answering
    /// before another node takes it over (running steps renew it).
    #[arg(long, env = "PA_WORKFLOW_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    workflow_lease_secs: u64,
    /// Seconds an MCP task is reported running without word from the node
    /// running it; then it is reported failed (running tasks renew it).
    #[arg(long, env = "PA_TASK_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    task_lease_secs: u64,
    /// Folder of the built management console (default: `console/dist` here,
    /// or `console/` beside the `pa` executable).
    #[arg(long, env = "PA_CONSOLE_DIR")]
    console_dir: Option<PathBuf>,
    /// Folder of the built first-party components tenants may enable
    /// (default: `first-party/` beside the `pa` executable, if there).
    #[arg(long, env = "PA_FIRST_PARTY_DIR")]
    first_party_dir: Option<PathBuf>,
    /// Loopback, private or link-local hosts (names or addresses,
    /// comma-separated; `*` for any) where tenants' model providers may be,
    /// e.g. a local Ollama at `127.0.0.1`; other providers must be public.
    #[arg(long, env = "PA_MODEL_INTERNAL_HOSTS", value_delimiter = ',')]
    model_internal_hosts: Vec<String>,
}

#[derive(clap::Args)]
struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Detect edited, deleted, inserted or reordered audit rows (exit 1 if any).
    Verify {
        /// Only this tenant's chain.
        #[arg(long)]
        tenant: Option<String>,
        /// Folder of the platform (its secret key, and its database by default).
        #[arg(long, env = "PA_DATA_DIR", default_value = "./data")]
        data_dir: PathBuf,
        /// Database URL (`sqlite://…` or `postgres://…`).
        #[arg(long, env = "PA_DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(clap::Args)]
struct UpArgs {
    /// The Spin manifest.
    #[arg(long, short = 'f', default_value = "spin.toml")]
    file: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "PA_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Folder for key-value data and compiled code (default: `.pa` beside the manifest).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() {
    // Store drops would otherwise capture a backtrace each (see shared notes).
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: set before any other thread reads the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let cli = Cli::parse();
    let telemetry = telemetry::init().unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    });
    let result = match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Up(args) => up(args).await,
        Command::Plugin(args) => plugin::run(args).await,
        Command::Audit(args) => audit(args).await,
        Command::Backup(args) => backup::run(args).await,
        Command::Billing(args) => billing::run(args).await,
        Command::Workflow(args) => workflow::run(args).await,
        Command::CompileWorker { engine } => pa_server::compile_worker(&engine).map_err(anyhow::Error::msg),
    };
    telemetry.shutdown().await;
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let platform = Platform::open(PlatformConfig {
        data_dir: args.data.data_dir,
        database_url: args.data.database_url,
        blob_url: args.data.blob_url,
        max_upload_bytes: args.max_upload_bytes,
        compiler: Compiler::Process {
            program: std::env::current_exe()?,
            args: vec!["compile-worker".into()],
        },
        compile_timeout: Duration::from_secs(args.compile_timeout_secs),
        tenant_concurrency: args.tenant_concurrency,
        rate_limits: RateLimits {
            ip: args.rate_limit_ip,
            key: args.rate_limit_key,
            tenant: args.rate_limit_tenant,
        },
        redis_url: args.redis_url,
        redis_prefix: args.redis_prefix,
        cors_origins: args.cors_origins,
        workflow_workers: usize::from(args.workflow_workers),
        workflow_lease: Duration::from_secs(args.workflow_lease_secs),
        task_lease: Duration::from_secs(args.task_lease_secs),
        console_dir: pa_server::locate_console(args.console_dir),
        first_party_dir: pa_server::locate_first_party(args.first_party_dir),
        model_internal_hosts: args.model_internal_hosts,
    })
    .await?;
    match std::env::var("PA_ADMIN_TOKEN") {
        Ok(token) if !token.is_empty() => platform.bootstrap_admin(&token).await?,
        _ if !platform.has_admin().await? => {
            let token = format!("pa_admin_{}", hex::encode(rand::random::<[u8; 24]>()));
            platform.bootstrap_admin(&token).await?;
            eprintln!("Generated the platform admin API key (shown once): {token}");
        }
        _ => {}
    }
    platform.load_enabled().await?;
    let drain = Duration::from_secs(args.drain_secs);
    let stopping_since = Arc::new(std::sync::OnceLock::new());
    let stop = {
        let (platform, stopping_since) = (platform.clone(), stopping_since.clone());
        async move {
            pa_server::shutdown_signal().await;
            stopping_since.get_or_init(Instant::now);
            tracing::info!("stopping: draining requests and workflow steps");
            platform.start_draining();
        }
    };
    let http_threads = args.http_threads.unwrap_or_else(listen::one_per_core);
    listen(args.listen, pa_server::app(platform.clone()), http_threads, stop, drain).await?;
    let spent = stopping_since.get().map(Instant::elapsed).unwrap_or_default();
    platform.shut_down(drain.saturating_sub(spent)).await;
    Ok(())
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = args.data_dir.unwrap_or_else(|| {
        args.file
            .parent()
            .map(|d| d.join(".pa"))
            .unwrap_or_else(|| PathBuf::from(".pa"))
    });
    let app = pa_server::up::router(&args.file, &data_dir).await?;
    listen(
        args.listen,
        app,
        listen::one_per_core(),
        pa_server::shutdown_signal(),
        UP_DRAIN,
    )
    .await
}

async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let AuditCommand::Verify {
        tenant,
        data_dir,
        database_url,
    } = args.command;
    let reports = pa_server::verify_audit(&data_dir, database_url, tenant.as_deref()).await?;
    let mut broken = 0;
    for report in &reports {
        let name = if report.tenant.is_empty() {
            "(platform)"
        } else {
            &report.tenant
        };
        if report.problems.is_empty() {
            println!("{name}: {} rows, intact", report.rows);
        } else {
            broken += 1;
            println!("{name}: {} rows, TAMPERED", report.rows);
            for problem in &report.problems {
                println!("  - {problem}");
            }
        }
    }
    if broken > 0 {
        anyhow::bail!("{broken} of {} audit chains have been tampered with", reports.len());
    }
    Ok(())
}
