//! `igd`: parse the command line, set up logging and signals, call [`igd::run`].

use clap::{Parser, Subcommand};
use igd::config::{LogFormat, ProcessEnv, Settings};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: fewer cycles per allocation on the per-call path (see
/// the Benchmarks section of the README for what it bought).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// IntentGate daemon: the authorization gateway between AI agents and their MCP tools.
///
/// Settings: defaults, then /etc/intentgate/igd.toml (--config), then INTENTGATE_* environment
/// variables; secrets also from INTENTGATE_X_FILE and $CREDENTIALS_DIRECTORY. Exit status 64
/// means a configuration error (the message names the variable). SIGTERM drains and stops;
/// SIGHUP reloads the policy file, the intent rules file, the TLS certificate and the admin
/// listener's certificate, key and client CA. See README.md for every variable.
///
/// Admin API: the Unix socket (INTENTGATE_ADMIN_SOCKET; the peer's uid is the identity), and
/// optionally an mTLS listener (INTENTGATE_ADMIN_LISTEN=HOST:PORT with INTENTGATE_ADMIN_TLS_CERT,
/// INTENTGATE_ADMIN_TLS_KEY and INTENTGATE_ADMIN_CLIENT_CA, all required): a client certificate
/// chaining to that CA is required, and its subject, as RFC 4514 text (CN=oncall-1,O=Example:
/// what openssl x509 -noout -subject -nameopt RFC2253 prints), names the operator account. On
/// the agent listener, /v1/admin/ takes bearers: operator API tokens when the listener has TLS
/// or listens on loopback, and INTENTGATE_ADMIN_TOKEN / INTENTGATE_TENANT_ADMINS when set.
///
/// Intent check (INTENTGATE_EXTRACTOR): off (the default; input.intent is null), rules:FILE (TOML
/// rules over the tool name, the arguments and the agent's prompt in
/// params._meta["io.intentgate/prompt"]), or http:URL (a plain-HTTP sidecar: igd POSTs
/// {"tool", "args", "prompt" (or null), "tenant", "subject", "method"} as JSON and expects a 200
/// answer {"summary": string, "category": string, "confidence": number from 0 to 1} of at most
/// 64 KiB within INTENTGATE_EXTRACTOR_TIMEOUT_MS, default 200). The result is input.intent; a
/// failure (time-out, refused connection, another status, anything else in the body) gives
/// input.intent null and input.intent_error, a short reason, and the policy decides.
#[derive(Debug, Parser)]
#[command(name = "igd", version, about)]
struct Cli {
    /// Settings file (default /etc/intentgate/igd.toml when it exists).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the daemon (the default).
    Run,
    /// Validate settings and keys without starting.
    CheckConfig,
    /// Print the man page (roff).
    Man,
}

fn fail(code: i32, message: &str) -> ExitCode {
    tracing::error!("{message}");
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// A configuration error: logged, and for `igd check-config` (run by a person or a script) also
/// written to stderr as one plain line.
fn fail_config(to_stderr: bool, code: i32, detail: &str) -> ExitCode {
    if to_stderr {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "igd: invalid configuration: {detail}");
    }
    fail(code, &format!("invalid configuration: {detail}"))
}

/// No transparent huge pages for igd's heap: the allocator asks for them on its arenas, and with
/// THP a few live objects keep 2 MiB pages resident (peak RSS under load 74–78 MiB with, 57
/// without; CPU per call the same).
#[allow(unsafe_code)]
fn disable_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and touches no memory of ours;
    // it sets a flag on the process's address space. A kernel without it returns EINVAL,
    // which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    let cli = Cli::parse();
    if let Some(Command::Man) = cli.command {
        use clap::CommandFactory;
        use std::io::Write;
        let mut out = Vec::new();
        if clap_mangen::Man::new(Cli::command())
            .section("8")
            .render(&mut out)
            .is_err()
        {
            return ExitCode::FAILURE;
        }
        let _ = std::io::stdout().write_all(&out);
        return ExitCode::SUCCESS;
    }
    let checking = matches!(cli.command, Some(Command::CheckConfig));
    // Settings first, so that LOG_LEVEL and LOG_FORMAT from igd.toml apply to the logs too.
    let (settings, mut telemetry) = match Settings::load(cli.config.as_deref(), &ProcessEnv) {
        Ok(s) => {
            // Only the daemon exports traces; check-config has none to send.
            let otel = (!checking)
                .then_some(s.ops.otel_endpoint.as_deref())
                .flatten();
            let telemetry = igd::telemetry::init(&s.log_level, s.log_format, otel);
            (s, telemetry)
        }
        Err(e) => {
            igd::telemetry::init("info", LogFormat::Json, None);
            return fail_config(checking, igd::config::EXIT_CONFIG, &e.to_string());
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Man => ExitCode::SUCCESS,
        Command::CheckConfig => match igd::check_config(&settings) {
            Ok(()) => {
                tracing::info!("configuration is valid");
                ExitCode::SUCCESS
            }
            Err(e) => fail_config(true, e.exit_code(), &e.to_string()),
        },
        Command::Run => {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return fail(1, &format!("cannot start the runtime: {e}")),
            };
            telemetry.start(&runtime);
            // The handlers are installed now, before igd can say it is ready: a SIGTERM that
            // came between READY=1 and the first poll of a lazily installed handler would kill
            // igd without its drain.
            let shutdown = {
                let _context = runtime.enter();
                shutdown_signal()
            };
            let result = runtime.block_on(igd::run(settings, shutdown));
            telemetry.finish(&runtime);
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e.exit_code(), &format!("igd stopped: {e}")),
            }
        }
    }
}

/// SIGTERM or SIGINT, with both handlers installed when this is called (inside the runtime's
/// context). A handler that cannot be installed leaves that signal's default action (tokio never
/// uninstalls one it installed, so the other is still awaited, not dropped).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{signal, Signal, SignalKind};
    async fn next(s: Option<Signal>) {
        match s {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        tokio::select! {
            _ = next(term) => tracing::info!("SIGTERM received"),
            _ = next(int) => tracing::info!("SIGINT received"),
        }
    }
}
