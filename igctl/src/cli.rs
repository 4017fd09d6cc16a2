//! The command line, as clap definitions. Man pages and completions are generated from these.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Operate an IntentGate gateway: tokens, stops, audit, policies.
///
/// Exit codes: 0 ok, 1 error, 2 usage, 3 audit verification failed (tampered),
/// 4 refused (unauthenticated, forbidden, step-up failed), 5 daemon unreachable,
/// 6 unverifiable (no pinned key or checkpoint to verify against).
#[derive(Debug, Parser)]
#[command(name = "igctl", version, about, long_about = None)]
pub struct Cli {
    /// igd's admin Unix socket.
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// igd's admin URL (or IGCTL_URL): https://HOST:PORT (TLS, verified against --ca or the
    /// system roots; the mTLS admin listener with --cert and --key), or http:// on loopback,
    /// with --token.
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// PEM file of the CA that signed igd's certificate, trusted instead of the system roots for
    /// an https:// --url (or IGCTL_CA).
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// PEM client certificate presented to igd's mTLS admin listener (https:// --url; or
    /// IGCTL_CERT). Its subject is your identity: an operator account must name it.
    #[arg(long, global = true, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// PEM private key of --cert (or IGCTL_KEY).
    #[arg(long, global = true, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Bearer token for --url (or IGCTL_TOKEN): an operator API token (igo_…) or the
    /// compatibility admin token.
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Mint a capability token (printed once; igd keeps only its metadata).
    Mint(MintArgs),
    /// Minted root tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Revoke a token (and every token attenuated from it) by jti.
    Revoke(RevokeArgs),
    /// List revocations.
    Revocations,
    /// Place an emergency stop on a tenant or one of its subjects.
    Stop(StopArgs),
    /// Lift an emergency stop.
    Unstop(UnstopArgs),
    /// Work with a token offline (no daemon needed).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Generate a master key (64 hex characters) for INTENTGATE_MASTER_KEY, or with --audit an
    /// Ed25519 audit signing key (PKCS#8 PEM) for INTENTGATE_AUDIT_SIGNING_KEY.
    GenKey {
        /// Generate an audit signing key instead.
        #[arg(long)]
        audit: bool,
        /// With --audit: announce the new public key to igd (a chained `checkpoint-key` entry)
        /// before it is installed, so verifiers can trust it through the current key.
        #[arg(long, requires = "audit")]
        announce: bool,
        /// With --announce: a fresh TOTP code for step-up (announcing a key is step-up gated).
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// List tenants.
    Tenants,
    /// Agents seen in the audit log: first and last seen, calls allowed and refused.
    Agents,
    /// Ask igd whether it is ready.
    Health,
    /// Read and verify the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Rego policies: check, test and evaluate them offline; drafts, dry-run, diff, promote,
    /// rollback and the active policy in igd.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// The approvals queue: calls the policy escalated, held until an operator decides. Alone:
    /// the live TUI on a terminal (keys: ↑/↓ select, a approve, r reject, / filter, ? help,
    /// q quit), the same as `approvals list` anywhere else.
    Approvals {
        #[command(subcommand)]
        command: Option<ApprovalsCommand>,
    },
    /// Operator accounts: who may use the admin API, with which role (admins, step-up).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// TOTP step-up for your own identity: enroll an authenticator app, or disable it.
    Totp {
        #[command(subcommand)]
        command: TotpCommand,
    },
    /// Just-in-time elevation: an operator asks for admin for a while; another admin approves.
    Elevate {
        #[command(subcommand)]
        command: ElevateCommand,
    },
    /// Notification channels: Slack, Microsoft Teams and PagerDuty, one tenant each. Blocked,
    /// escalated and step-up calls and approval time-outs of the tenant are posted to them
    /// (one message per finding) through the audit fan-out.
    Notify {
        #[command(subcommand)]
        command: NotifyCommand,
    },
    /// The audit fan-out's sinks (webhook, SIEM, notification channels): state (ok, retrying,
    /// refused, standby, starting), entries not yet delivered (LAG), the age of the oldest
    /// one, deliveries and failures since igd started, and the last error. Operators and
    /// admins; a tenant-confined caller sees its tenant's sinks only.
    ///
    /// Each sink delivers what lies past its cursor on every tenant chain and never drops an
    /// entry: while a receiver fails, the lag grows and the sink retries with backoff (1 s to
    /// 5 min, at least the receiver's Retry-After). The cursors and counts per chain are in
    /// the JSON output.
    Integrations {
        /// Print JSON (the same as --output json).
        #[arg(long)]
        json: bool,
    },
    /// Show the identity igd sees for this connection: role, tenant, TOTP, elevation.
    Whoami,
    /// Check credentials against igd and store them, for commands run without --socket, --url
    /// or IGCTL_*.
    ///
    /// Give --url and either --token (an operator API token) or --cert, --key and --ca (the
    /// mTLS admin listener); IGCTL_URL, IGCTL_TOKEN, IGCTL_CERT, IGCTL_KEY and IGCTL_CA work
    /// too. igctl asks igd who it is (GET /v1/admin/whoami) and stores the credentials only if
    /// igd accepts them.
    ///
    /// The token goes to the OS keyring (on Linux the kernel keyring, keyutils), service
    /// "intentgate", user = the URL; the URL and the certificate, key and CA paths (never the
    /// key itself) go to $XDG_CONFIG_HOME/intentgate/credentials.toml (else
    /// ~/.config/intentgate/credentials.toml), mode 0600. Where no keyring is usable (in many
    /// containers) the token goes into that file instead, with a warning. The kernel keyring
    /// forgets after a reboot: then log in again.
    ///
    /// Connection precedence: flags > IGCTL_SOCKET / IGCTL_URL / IGCTL_TOKEN (and IGCTL_CA,
    /// IGCTL_CERT, IGCTL_KEY) > what igctl login stored > ./intentgate-data/admin.sock if
    /// present > /run/intentgate/admin.sock.
    Login,
    /// Remove the credentials igctl login stored (keyring entry and file).
    Logout,
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct MintArgs {
    /// The agent's identity (root subject).
    #[arg(long)]
    pub subject: String,
    /// The tenant the token belongs to.
    #[arg(long)]
    pub tenant: String,
    /// Comma-separated tool names the token may call.
    #[arg(long, value_delimiter = ',', required_unless_present = "all_tools")]
    pub tools: Vec<String>,
    /// Allow every tool (`["*"]`). Step-up gated: pass --totp.
    #[arg(long, conflicts_with = "tools")]
    pub all_tools: bool,
    /// With --all-tools: a fresh TOTP code for step-up, sent as X-IntentGate-TOTP.
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
    /// Lifetime: seconds, or a number with s, m, h or d.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub ttl: u64,
    /// Most calls the token may make.
    #[arg(long)]
    pub max_calls: u64,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List live root tokens.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Include expired and revoked tokens.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The jti to revoke.
    pub jti: String,
    /// Tenant of the jti (needed for child tokens igd did not mint).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Why (recorded in the audit log).
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    #[arg(long)]
    pub tenant: String,
    /// Only this subject (default: the whole tenant).
    #[arg(long)]
    pub subject: Option<String>,
    /// Why (required; recorded in the audit log).
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct UnstopArgs {
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub subject: Option<String>,
    #[arg(long, default_value = "")]
    pub reason: String,
    /// A fresh TOTP code for step-up (lifting a stop is step-up gated).
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Show a token's claims and effective rights (never its tag; signature not checked).
    Inspect {
        /// The token, or - to read it from standard input.
        token: String,
    },
    /// Narrow a token offline by appending an attenuation block.
    Attenuate(AttenuateArgs),
}

#[derive(Debug, Args)]
pub struct AttenuateArgs {
    /// The token, or - to read it from standard input.
    pub token: String,
    /// Keep only these tools (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub tools: Option<Vec<String>>,
    /// Lower the call limit.
    #[arg(long)]
    pub max_calls: Option<u64>,
    /// Expire sooner: lifetime from now (seconds, or with s, m, h, d).
    #[arg(long, value_parser = parse_duration)]
    pub ttl: Option<u64>,
    /// Delegation label (the agent's identity stays the root subject).
    #[arg(long)]
    pub sub: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit entries.
    List(AuditListArgs),
    /// Export one tenant's chain, one row per entry (CSV or NDJSON), streamed.
    Export(AuditExportArgs),
    /// Erase a subject's stored argument values, salts and recorded policy inputs (address,
    /// intent) before a time (GDPR); the chain and its verification are untouched, the erased
    /// decisions are no longer replayed by dry-run, and the erasure itself is chained.
    Erase {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        subject: String,
        /// Erase what was recorded before this time (RFC 3339).
        #[arg(long)]
        before: String,
        /// A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// Retention: cut a tenant's chain before a time; a signed `marker` records the cut and
    /// verification continues from it.
    Prune {
        #[arg(long)]
        tenant: String,
        /// Remove entries recorded before this time (RFC 3339).
        #[arg(long)]
        before: String,
        #[arg(long)]
        reason: String,
        /// A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// After a database restore: record where the chain leaves the signed history (the fork
    /// point, in a `marker`) and let the signer anchor it again; verifiers excuse only the
    /// checkpoints past the fork point.
    Rebaseline {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        reason: String,
        /// Accept the marker or key announcement with this seq and hash though igd did not
        /// write it (after checking it; repeatable; the refusal names both). Without it such an
        /// entry refuses the re-baseline.
        #[arg(long, value_name = "SEQ:HASH")]
        accept: Vec<String>,
        /// A fresh TOTP code (or a recovery code) for step-up, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// Write an evidence pack (.tar.gz): entries, checkpoints, keys, report, manifest, controls.
    Evidence(AuditEvidenceArgs),
    /// Re-verify an evidence pack offline (no daemon) against a pinned key.
    VerifyPack {
        /// The pack (.tar.gz).
        pack: PathBuf,
        /// Verifier key file (required: evidence is never trusted on first use).
        #[arg(long, value_name = "FILE")]
        pubkey: PathBuf,
    },
    /// Verify the chains locally: fetch entries and signed checkpoints and recompute
    /// everything against pinned keys. Exit 3 when tampered, 6 when unverifiable.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditEvidenceArgs {
    #[arg(long)]
    pub tenant: String,
    /// Window start (RFC 3339; recorded in the report).
    #[arg(long)]
    pub from: Option<String>,
    /// Window end (RFC 3339): entries at or after it are left out.
    #[arg(long)]
    pub to: Option<String>,
    /// Verifier keys to build against (default: keys pinned on first use).
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Where to write the pack.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// Only this tenant (default: every tenant in scope).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Verifier keys to trust (one `name+id+key` per line); default: keys pinned on first use
    /// under the config dir.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Pinned newest checkpoints (JSON, tenant → note): the chain must still contain them;
    /// updated after each successful run.
    #[arg(long, value_name = "FILE")]
    pub pin: Option<PathBuf>,
    /// Fail (exit 6) when entries after the newest checkpoint are not yet anchored.
    #[arg(long)]
    pub require_anchor: bool,
    /// Ask igd for its own verdict instead of recomputing locally.
    #[arg(long)]
    pub server: bool,
}

#[derive(Debug, Args)]
pub struct AuditExportArgs {
    #[arg(long)]
    pub tenant: String,
    /// csv or ndjson.
    #[arg(long, default_value = "csv", value_parser = ["csv", "ndjson"])]
    pub format: String,
    /// Entries at or after this time (RFC 3339).
    #[arg(long)]
    pub from: Option<String>,
    /// Entries before this time (RFC 3339).
    #[arg(long)]
    pub to: Option<String>,
    /// Start at this seq (to continue a truncated export).
    #[arg(long)]
    pub from_seq: Option<u64>,
    /// Write here instead of standard output.
    #[arg(long, short = 'O', value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditListArgs {
    #[arg(long)]
    pub tenant: Option<String>,
    #[arg(long)]
    pub subject: Option<String>,
    #[arg(long)]
    pub tool: Option<String>,
    /// allow, block or escalate.
    #[arg(long)]
    pub decision: Option<String>,
    /// Most entries to show (1..=1000).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Continue after this cursor (`next_cursor` of the previous page).
    #[arg(long)]
    pub cursor: Option<String>,
}

/// `policy …`. `check`, `test` and `eval` run here, offline, with the policy implementation
/// igd uses; the daemon is not asked.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Parse and compile policies and their tests, and check the entrypoint (`decision` in
    /// package `intentgate.policy`), the size limits and the safety rules (no network, clock
    /// or randomness builtins). Offline. Each directory holding .rego files (searched
    /// recursively) is one policy; the files named are one more. Problems are printed as
    /// FILE:LINE:COLUMN: MESSAGE; exit 1 if there is any.
    Check {
        /// Policy files (*_test.rego ones are its tests) or directories.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Run the policies' tests, like `opa test`: every rule named test_* (in *_test.rego files
    /// and in the policy) evaluated as data.PACKAGE.RULE passes when it is true; todo_test_*
    /// rules are skipped. Offline. Each directory holding .rego files (searched recursively)
    /// is one policy with its tests. Exit 1 on a failed test or a policy that does not load.
    Test {
        /// Directories (or files, taken together as one policy).
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Evaluate a policy's decision for one input, as igd would decide a call (offline). A
    /// deny is an answer: the exit code is 0.
    Eval(PolicyEvalArgs),
    /// Drafts in igd's policy store: a policy module and its *_test.rego modules, compiled and
    /// tested by igd before they are stored.
    Draft {
        #[command(subcommand)]
        command: PolicyDraftCommand,
    },
    /// Replay a candidate policy (a draft id or policy files) over the decisions recorded in a
    /// window (default: the last 24 hours), on their recorded inputs: how many calls it would
    /// allow, block and escalate, the transition matrix from what was decided then, and sample
    /// calls whose verdict changes. A progress bar on a terminal.
    DryRun {
        /// A draft id (d-…) or policy files / a directory.
        #[arg(value_name = "DRAFT|FILE")]
        candidate: String,
        #[command(flatten)]
        window: PolicyWindowArgs,
    },
    /// Compare two policies (draft ids or files): the source diff, then B replayed against A on
    /// the same recorded inputs.
    Diff {
        #[arg(value_name = "A")]
        a: String,
        #[arg(value_name = "B")]
        b: String,
        #[command(flatten)]
        window: PolicyWindowArgs,
    },
    /// Make a draft the active policy, on every replica within a second. igd compiles it and
    /// runs its tests again first. A step-up action: pass --totp.
    Promote {
        /// The draft id (d-…).
        draft_id: String,
        /// A fresh TOTP code (or a recovery code), sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// Return to the policy that was active before the current one (repeat to go further
    /// back; before the first promotion, the policy file decides). A step-up action.
    Rollback {
        /// A fresh TOTP code (or a recovery code), sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// Show what decides now (store, file or embedded default), its revision and the store's
    /// recent changes; --clear deactivates the store's policy (the file decides again).
    Active {
        #[arg(long)]
        clear: bool,
        /// With --clear (a step-up action): a fresh TOTP code, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE", requires = "clear")]
        totp: Option<String>,
    },
}

/// `operator …`.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Add an operator account (admin, step-up). It authenticates by a uid on the admin socket,
    /// a client certificate subject and/or an API token (--token: shown once).
    Add(OperatorAddArgs),
    /// List operator accounts.
    List,
    /// Remove an operator account and its TOTP enrollment (admin, step-up).
    Remove {
        /// The account's name.
        name: String,
        /// A fresh TOTP code for step-up, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct OperatorAddArgs {
    /// The account's name ([a-z0-9][a-z0-9._-]{0,62}): the identity in the audit log.
    pub name: String,
    /// viewer, operator or admin.
    #[arg(long, value_parser = ["viewer", "operator", "admin"])]
    pub role: String,
    /// Confine a viewer or operator to one tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// The Unix uid it connects to the admin socket as.
    #[arg(long)]
    pub uid: Option<u32>,
    /// Its client certificate subject on the mTLS admin listener (RFC 4514, e.g.
    /// CN=oncall-1,O=Example).
    #[arg(long, value_name = "SUBJECT")]
    pub cert_subject: Option<String>,
    /// Issue an API token for it (printed once; igd keeps only its hash).
    #[arg(long = "issue-token")]
    pub issue_token: bool,
    /// A fresh TOTP code for step-up, sent as X-IntentGate-TOTP.
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
}

/// `totp …`.
#[derive(Debug, Subcommand)]
pub enum TotpCommand {
    /// Enroll an authenticator app for your identity: prints the otpauth:// URI and the secret
    /// (and a QR code on a terminal). On a terminal igctl then asks for the first code and
    /// prints ten one-time recovery codes, once; in a script, confirm with `totp confirm`.
    /// Re-enrolling replaces a confirmed enrollment and needs --totp with its current code.
    Enroll {
        /// When replacing a confirmed enrollment: a code of the current one.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
    /// Confirm a pending enrollment with the first code from the app; prints the ten one-time
    /// recovery codes, once.
    Confirm {
        /// The 6-digit code the app shows now.
        #[arg(long, value_name = "CODE")]
        code: String,
    },
    /// Disable TOTP: your own (with your code), or with --identity another's (admin, step-up).
    Disable {
        /// Another identity (an operator name, uid:N).
        #[arg(long, value_name = "ID")]
        identity: Option<String>,
        /// A fresh TOTP code for step-up, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
}

/// `elevate …`.
#[derive(Debug, Subcommand)]
pub enum ElevateCommand {
    /// Ask for admin for a while (operators); another admin approves it.
    Request {
        /// Why (required; recorded in the audit log).
        #[arg(long)]
        reason: String,
        /// 5m, 15m, 30m, 1h or 4h.
        #[arg(long, default_value = "15m", value_parser = parse_elevation_duration)]
        duration: u64,
    },
    /// List elevations: pending, active and expired.
    List,
    /// Approve another identity's elevation (admin, step-up; never your own).
    Approve {
        /// The elevation id (elv_…).
        id: String,
        /// A fresh TOTP code for step-up, sent as X-IntentGate-TOTP.
        #[arg(long, value_name = "CODE")]
        totp: Option<String>,
    },
}

/// `notify …`.
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Add a channel (an admin, or the tenant admin of --tenant). The webhook URL or routing
    /// key is sealed in igd's store and never shown again; pass `-` to type it at a prompt (or
    /// pipe it on stdin) so it stays out of your shell history.
    ///
    /// Slack: --webhook-url, an incoming webhook URL (https://hooks.slack.com/services/…).
    /// Teams: --webhook-url, the URL of a Workflows "When a Teams webhook request is received"
    /// flow (or an incoming webhook). PagerDuty: --routing-key, the integration key of an
    /// Events API v2 integration (--events-url only for another endpoint, e.g. the EU service).
    Add(NotifyAddArgs),
    /// List channels (of your tenants): id, kind, events and the receiver's host.
    List {
        /// Only this tenant's channels.
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON (the same as --output json).
        #[arg(long)]
        json: bool,
    },
    /// Send one clearly marked test message to a channel now and show the receiver's answer
    /// (exit 1 when it refused). PagerDuty gets an `info` alert titled [TEST]: resolve it.
    Test {
        /// The channel id (ntf_…).
        id: String,
    },
    /// Print the exact JSON body a channel would be sent for an audit entry of its tenant, or
    /// for a sample blocked call; nothing is sent. A PagerDuty routing key shows as <redacted>.
    Preview {
        /// The channel id (ntf_…).
        id: String,
        /// The audit entry's event_id (32 hex), e.g. a decision_id from a refusal.
        #[arg(long, value_name = "EVENT_ID")]
        event: Option<String>,
    },
    /// Remove a channel (an admin, or the tenant admin of its tenant); delivery to it stops.
    Remove {
        /// The channel id (ntf_…).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct NotifyAddArgs {
    /// The tenant whose findings the channel receives.
    #[arg(long)]
    pub tenant: String,
    /// slack, teams or pagerduty.
    #[arg(long, value_parser = ["slack", "teams", "pagerduty"])]
    pub kind: String,
    /// A name for people ([a-z0-9][a-z0-9._-]{0,62}, unique in the tenant).
    #[arg(long)]
    pub name: String,
    /// Slack or Teams: the webhook URL; `-` reads it from a prompt or stdin. (Not --url: that
    /// names igd.)
    #[arg(long, value_name = "URL", conflicts_with_all = ["routing_key", "events_url"])]
    pub webhook_url: Option<String>,
    /// PagerDuty: the integration (routing) key; `-` reads it from a prompt or stdin.
    #[arg(long, value_name = "KEY")]
    pub routing_key: Option<String>,
    /// PagerDuty: another Events API v2 endpoint (default
    /// https://events.pagerduty.com/v2/enqueue; the EU service is
    /// https://events.eu.pagerduty.com/v2/enqueue).
    #[arg(long, value_name = "URL", requires = "routing_key")]
    pub events_url: Option<String>,
    /// Comma-separated: deny, escalate, requires_step_up, approval_timeout (default: all four).
    #[arg(long, value_delimiter = ',', value_parser = ["deny", "escalate", "requires_step_up", "approval_timeout"])]
    pub events: Vec<String>,
}

/// An elevation's length: exactly 5m, 15m, 30m, 1h or 4h (or the same in seconds).
pub fn parse_elevation_duration(text: &str) -> Result<u64, String> {
    let secs = parse_duration(text)?;
    if [300, 900, 1800, 3600, 14400].contains(&secs) {
        Ok(secs)
    } else {
        Err(format!(
            "{text:?}: an elevation lasts 5m, 15m, 30m, 1h or 4h"
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum PolicyDraftCommand {
    /// Store a draft: one policy module and its *_test.rego files (or a directory of them).
    Create {
        /// Default: the directory's name.
        #[arg(long)]
        name: Option<String>,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List drafts.
    List,
    /// Show a draft with its sources.
    Show { id: String },
    /// Delete a draft (what is active, and what a rollback returns to, keep their own copy).
    Delete { id: String },
}

/// The window of recorded decisions a dry-run replays.
#[derive(Debug, Args)]
pub struct PolicyWindowArgs {
    /// Start (RFC 3339); default: 24 hours before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// End (RFC 3339); default: now.
    #[arg(long)]
    pub to: Option<String>,
    /// Most divergent calls to show.
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
}

#[derive(Debug, Args)]
pub struct PolicyEvalArgs {
    /// Policy files or a directory (*_test.rego files are left out).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The input document (DESIGN §4.3): JSON text, @FILE, or - for standard input.
    #[arg(long, short = 'i', value_name = "JSON")]
    pub input: String,
    /// Evaluation time limit in milliseconds (igd's INTENTGATE_POLICY_TIMEOUT_MS).
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub timeout_ms: u64,
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List approvals: id, tenant, agent, tool, reason, step-up, time left (or status).
    List(ApprovalsListArgs),
    /// Approve or reject a pending call; prints the decided row. Exit 1 if it was already
    /// decided, 4 if a step-up code is needed or wrong.
    Decide(DecideArgs),
}

#[derive(Debug, Args)]
pub struct ApprovalsListArgs {
    /// Which rows.
    #[arg(long, default_value = "pending", value_parser = [
        "pending", "approved", "rejected", "timeout", "forwarded", "lapsed", "all",
    ])]
    pub status: String,
    /// Only this tenant.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Most rows (1..=10000; igd's default 1000).
    #[arg(long)]
    pub limit: Option<u32>,
}

impl Default for ApprovalsListArgs {
    fn default() -> Self {
        ApprovalsListArgs {
            status: "pending".into(),
            tenant: None,
            limit: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The approval's id (apr_…).
    pub id: String,
    /// approve or reject (or --approve / --reject).
    #[arg(
        value_parser = ["approve", "reject"],
        required_unless_present_any = ["approve", "reject"],
        conflicts_with_all = ["approve", "reject"],
    )]
    pub decision: Option<String>,
    /// Approve the call.
    #[arg(long, conflicts_with = "reject")]
    pub approve: bool,
    /// Reject the call.
    #[arg(long)]
    pub reject: bool,
    /// A note for the audit log.
    #[arg(long)]
    pub note: Option<String>,
    /// A fresh TOTP code: approving a call marked STEP-UP needs one.
    #[arg(long, value_name = "CODE")]
    pub totp: Option<String>,
}

impl DecideArgs {
    /// `approve` or `reject`, however it was given.
    pub fn decision(&self) -> Option<&'static str> {
        match (self.decision.as_deref(), self.approve, self.reject) {
            (Some("approve"), ..) | (None, true, false) => Some("approve"),
            (Some("reject"), ..) | (None, false, true) => Some("reject"),
            _ => None,
        }
    }
}

/// Parse `90`, `90s`, `15m`, `1h`, `7d` into seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 3600, 90s, 15m, 1h or 7d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: unit must be s, m, h or d")),
    };
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("90"), Ok(90));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(parse_elevation_duration("15m"), Ok(900));
        assert_eq!(parse_elevation_duration("4h"), Ok(14400));
        assert!(parse_elevation_duration("10m").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
