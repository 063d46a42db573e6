//! Command-line types (clap derive) and nothing else. Doc comments here are the single source
//! for `--help`, the man page and shell completions. Commands never see these types directly:
//! [`crate::settings`] resolves them into plain settings first.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes:
  0  success (for `plan --detailed-exitcode`: no changes)
  1  error before or instead of any change: invalid manifest, bad flags, auth,
     unreachable portal, stale saved plan, a plan, `access` or `audit` that could
     not read every room, a blocking `doctor` check
  2  `plan --detailed-exitcode`: changes pending; `export --check`: the file differs;
     `audit`: policy violations found
  3  `apply` ran but the portal does not fully match: an item failed or was
     skipped (stale saved plan, removal guard, downgrade guard, Ctrl-C/SIGTERM,
     portal limit reached, a room that could not be read), or the report file
     could not be written after changes were made; the report lists each item

The API key is read from DOCSPACE_API_KEY or --api-key-file, never from a flag value.
Try it without a portal: docspace-provision apply examples/rooms.yaml --portal sandbox:sandbox.json --auto-approve";

/// The exit codes as `(code, meaning)`, read from the `Exit codes:` part of the help text so
/// that `--help` and the man page cannot disagree.
pub fn exit_codes() -> Vec<(u8, String)> {
    let mut codes: Vec<(u8, String)> = Vec::new();
    let Some((_, rest)) = AFTER_HELP.split_once("Exit codes:\n") else {
        return codes;
    };
    for line in rest.lines() {
        if line.trim().is_empty() {
            break;
        }
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match trimmed.split_once("  ") {
            Some((code, meaning)) if indent <= 2 && code.parse::<u8>().is_ok() => {
                codes.push((code.parse().unwrap_or_default(), meaning.trim().to_string()));
            }
            _ => {
                if let Some((_, meaning)) = codes.last_mut() {
                    meaning.push(' ');
                    meaning.push_str(trimmed);
                }
            }
        }
    }
    codes
}

/// Keep ONLYOFFICE DocSpace rooms and room membership as code.
///
/// Write rooms and their invitees in a YAML manifest; `plan` shows what would change on the
/// portal, `apply` makes it so, and re-running is always safe.
#[derive(Debug, Parser)]
#[command(name = "docspace-provision", version, about, long_about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(flatten)]
    pub legacy_network: LegacyNetworkArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts: how much to print and in what colours.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Only errors on stderr, and no progress; a successful `apply` prints no text report
    /// (a failure still does; `--format json` is printed as always).
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// When to use colours. `NO_COLOR` in the environment is honoured under `auto`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,
}

/// Where the portal is and how to reach it: only on the commands that talk to a portal
/// (`plan`, `apply`, `export`), so the offline commands do not list options they ignore.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Portal options")]
pub struct NetworkArgs {
    /// Portal to talk to: `https://HOST`, `http://127.0.0.1:PORT` (plain HTTP only to loopback),
    /// or `sandbox:PATH` for the embedded emulator keeping its state in the JSON file PATH.
    /// The address only, without a path such as `/api/2.0`.
    #[arg(long, env = "DOCSPACE_URL", value_name = "URL")]
    pub portal: Option<String>,

    /// Read the API key from this file (first non-empty line; a UTF-8 byte order mark and
    /// surrounding whitespace are ignored). Otherwise DOCSPACE_API_KEY is used.
    #[arg(long, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,

    /// Trust this PEM certificate (or bundle) in addition to the system roots, for self-hosted
    /// portals behind a private CA.
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,

    /// Allow plain `http://` to a host that is not loopback. The API key then crosses the network
    /// unencrypted: use only on a trusted network.
    #[arg(long)]
    pub insecure_http: bool,

    /// Seconds one request may take (connecting, sending, reading the answer) before it is
    /// given up and, where safe, retried.
    #[arg(long, env = "DOCSPACE_TIMEOUT", value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// Requests per rolling minute this run may send. The portal allows 1,500 per user; the
    /// default leaves room for the same account's browser sessions. 0 turns the client-side
    /// budget off (the portal's own limiter still applies).
    #[arg(long, env = "DOCSPACE_RATE_LIMIT", value_name = "PER_MINUTE",
          default_value_t = crate::docspace::DEFAULT_REQUESTS_PER_MINUTE)]
    pub rate_limit: u32,
}

/// The portal options written before the subcommand (`docspace-provision --portal URL plan`),
/// as releases before 0.2 accepted them. Hidden from help; the subcommand's own options are the
/// documented place.
#[derive(Debug, Clone, Default, Args)]
pub struct LegacyNetworkArgs {
    #[arg(long = "portal", id = "legacy_portal", hide = true, value_name = "URL")]
    pub portal: Option<String>,
    #[arg(long = "api-key-file", id = "legacy_api_key_file", hide = true)]
    pub api_key_file: Option<PathBuf>,
    #[arg(long = "ca-cert", id = "legacy_ca_cert", hide = true)]
    pub ca_cert: Option<PathBuf>,
    #[arg(long = "insecure-http", id = "legacy_insecure_http", hide = true)]
    pub insecure_http: bool,
}

impl Default for NetworkArgs {
    /// The same defaults as the flags (for code that builds settings without parsing).
    fn default() -> NetworkArgs {
        NetworkArgs {
            portal: None,
            api_key_file: None,
            ca_cert: None,
            insecure_http: false,
            timeout: 60,
            rate_limit: crate::docspace::DEFAULT_REQUESTS_PER_MINUTE,
        }
    }
}

impl NetworkArgs {
    /// These options with any given before the subcommand taking precedence (an explicit
    /// flag beats `DOCSPACE_URL`, which only the subcommand's `--portal` reads).
    pub fn merged(self, legacy: &LegacyNetworkArgs) -> NetworkArgs {
        NetworkArgs {
            portal: legacy.portal.clone().or(self.portal),
            api_key_file: legacy.api_key_file.clone().or(self.api_key_file),
            ca_cert: legacy.ca_cert.clone().or(self.ca_cert),
            insecure_http: legacy.insecure_http || self.insecure_http,
            timeout: self.timeout,
            rate_limit: self.rate_limit,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline: structure, names, role rules. No network.
    ///
    /// Every problem is reported in one run, each pointing at file:line:column.
    ///
    /// Example: docspace-provision validate rooms.yaml teams/
    Validate(ValidateArgs),

    /// Show what `apply` would change on the portal, without changing anything.
    ///
    /// Example: docspace-provision plan rooms.yaml --format markdown --detailed-exitcode
    Plan(PlanArgs),

    /// Make the portal match the manifests: create rooms, set settings, invite, change roles,
    /// remove (with `members: exact`), archive.
    ///
    /// Example: docspace-provision apply rooms.yaml --auto-approve --report report.json
    Apply(ApplyArgs),

    /// Write a manifest describing the live portal (to adopt existing rooms).
    ///
    /// Example: docspace-provision export --out rooms.yaml
    Export(ExportArgs),

    /// Who can enter which room, and how: every room the key can see (managed or not), each
    /// person with their access level and how they get it (directly, through a group, both,
    /// as room owner or DocSpace admin), pending and guest accounts, and the rooms' sharing
    /// links (never a password or a link's key). Reads only. Exit 0 answered (a partial view
    /// says so), 1 errors: a room that could not be read, a `--room` that names no room.
    ///
    /// Example: docspace-provision access --person ann@example.com --format csv
    Access(AccessArgs),

    /// Check the live portal (managed and unmanaged rooms) against `policy:` rules and list
    /// each violation with its room, rule and fix. Exit 0 clean, 2 violations found, 1 errors.
    /// Reads only.
    ///
    /// Example: docspace-provision audit --policy policy.yaml
    Audit(AuditArgs),

    /// Check that the portal and this tool agree: key, user type, visibility, people search,
    /// quotas, listing; with `--scratch`, the server rules on a temporary room. Each check is a
    /// line marked ✔ ok, ⚠ warning or ✘ failure; exit 1 when a check fails.
    ///
    /// Without `--scratch` nothing is written to the portal.
    ///
    /// Example: docspace-provision doctor --scratch
    Doctor(DoctorArgs),

    /// Run the embedded DocSpace-compatible API on loopback, for trying manifests and tests.
    ///
    /// Example: docspace-provision sandbox --listen 127.0.0.1:8092 --state sandbox.json
    Sandbox(SandboxArgs),

    /// Print the JSON Schema (draft-07) of the manifest format, for editors.
    ///
    /// Example: docspace-provision schema > manifest.schema.json
    Schema,

    /// Print a shell completion script.
    ///
    /// Example: docspace-provision completions bash > ~/.local/share/bash-completion/completions/docspace-provision
    Completions(CompletionsArgs),

    /// Print the man page (roff) to stdout.
    ///
    /// Example: docspace-provision man > docspace-provision.1
    Man,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories of `*.yaml` / `*.yml` files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifest files or directories of `*.yaml` / `*.yml` files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Save the plan to this file for `apply --plan`.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,

    /// Exit 2 when there are changes, 0 when there are none (1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Plan the archiving of orphaned managed rooms (rooms carrying the manifest's
    /// `managed_tag` that it no longer lists), as `apply --prune` would.
    #[arg(long)]
    pub prune: bool,

    /// Warn about memberships whose `expires:` falls within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = crate::plan::expiry::DEFAULT_WINDOW_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::plan::expiry::MAX_WINDOW_DAYS)))]
    pub expiring_within: u32,

    /// Refuse any new guest account: an invitee whose email has no account on the portal is
    /// an error instead of an invitation email (as `defaults: {new_guests: false}`).
    #[arg(long)]
    pub no_new_guests: bool,

    /// Plan only the manifest rooms whose title matches (repeat for several; `*` matches any
    /// text, `?` one character, case-sensitive). Other rooms are left as they are.
    #[arg(long, value_name = "TITLE", conflicts_with = "prune")]
    pub room: Vec<String>,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifest files or directories of `*.yaml` / `*.yml` files.
    #[arg(
        value_name = "FILE",
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub files: Vec<PathBuf>,

    /// Apply a plan saved by `plan --out` instead of planning anew. Rooms that changed since
    /// are skipped as stale.
    #[arg(long, value_name = "PLAN")]
    pub plan: Option<PathBuf>,

    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long)]
    pub auto_approve: bool,

    /// How many rooms to work on at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64), value_name = "N")]
    pub parallelism: u16,

    /// Write the JSON report of every item to this file.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,

    /// Output format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Allow removals beyond the guard (more than 25% of a room's members, or a room manager;
    /// with --prune, archiving more than 25% of the rooms carrying the marker tag).
    #[arg(long)]
    pub allow_removals: bool,

    /// Make link changes that lower protection (a password removed, an expiry extended or
    /// removed, downloads allowed, a use limit raised or removed, a link opened to people
    /// who are not signed in). Without it they are skipped; --allow-removals does not allow them.
    #[arg(long)]
    pub allow_downgrades: bool,

    /// Archive orphaned managed rooms: rooms carrying the manifest's `managed_tag` that it no
    /// longer lists. Never deletes. Needs every file of the set (`manifest_set`), and no other.
    /// (A saved plan prunes when it was made with `plan --prune`.)
    #[arg(long, conflicts_with = "plan")]
    pub prune: bool,

    /// Warn about memberships whose `expires:` falls within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = crate::plan::expiry::DEFAULT_WINDOW_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::plan::expiry::MAX_WINDOW_DAYS)),
          conflicts_with = "plan")]
    pub expiring_within: u32,
    /// Resend the invitations of pending members the manifest invites that are older than
    /// AGE (default 14d; units h, d, w: 36h, 14d, 2w), all in one call.
    #[arg(
        long,
        value_name = "AGE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "14d",
        value_parser = crate::plan::pending::parse_age,
        conflicts_with = "plan"
    )]
    pub resend_pending: Option<chrono::Duration>,

    /// Refuse any new guest account: an invitee whose email has no account on the portal is
    /// an error instead of an invitation email (as `defaults: {new_guests: false}`).
    #[arg(long, conflicts_with = "plan")]
    pub no_new_guests: bool,

    /// Apply only the manifest rooms whose title matches (repeat for several; `*` matches any
    /// text, `?` one character, case-sensitive). Other rooms are left as they are.
    #[arg(long, value_name = "TITLE", conflicts_with_all = ["plan", "prune", "resend_pending"])]
    pub room: Vec<String>,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only rooms with this title, as the portal stores it (repeat for several; `*` matches
    /// any text, `?` one character, as in `plan --room`).
    #[arg(long, value_name = "TITLE")]
    pub room: Vec<String>,

    /// Also write `people:`: every account with its user type (groups are always written,
    /// unless `--room` is given).
    #[arg(long, conflicts_with = "room")]
    pub people: bool,

    /// Write the manifest here instead of stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    pub out: Option<PathBuf>,

    /// Compare the export with this file: print the diff and exit 2 when they differ.
    #[arg(long, value_name = "FILE")]
    pub check: Option<PathBuf>,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessFormat {
    Text,
    Json,
    /// The access-review checklist: one row per room and person, with a column to sign.
    Csv,
    Markdown,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Manifest files or directories: add the `expires:` each sets and whether each room is
    /// managed.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Only this person (email): every room they can enter, and how.
    #[arg(long, value_name = "EMAIL")]
    pub person: Option<String>,

    /// Only rooms whose title on the portal matches TITLE (repeat for several; `*` matches
    /// any text, `?` one character, as in `export --room`); one that matches no room is an
    /// error.
    #[arg(long, value_name = "TITLE")]
    pub room: Vec<String>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = AccessFormat::Text)]
    pub format: AccessFormat,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    /// One row per violation, for a spreadsheet or a ticket system.
    Csv,
    Markdown,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Manifest files or directories: their `policy:` blocks are the rules, and their
    /// `expires:` count for `guests: {require_expires: true}`.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// A file with a `policy:` block (repeat for several), merged with the manifests'.
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Also create temporary rooms (`docspace-provision doctor <random>...`: a collaboration,
    /// a custom and a virtual data room) and confirm on them each server rule the tool relies
    /// on and each feature it offers (links, colour, cover, lifetime, watermark); the rooms are
    /// deleted at the end, also after a failure or Ctrl-C.
    #[arg(long)]
    pub scratch: bool,

    /// With `--scratch`: invite this address to the temporary room, to confirm that an email
    /// invitation creates a pending guest, then send its invitation again (`resend`). The
    /// server sends it two invitation emails, and the guest account stays on the portal.
    #[arg(long, value_name = "EMAIL", requires = "scratch")]
    pub invite_probe: Option<String>,

    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on. Only loopback unless --allow-remote is given.
    #[arg(long, default_value = "127.0.0.1:8092", value_name = "ADDR")]
    pub listen: SocketAddr,

    /// JSON file holding the sandbox state; created with demo users when missing.
    #[arg(long, default_value = "sandbox.json", value_name = "FILE")]
    pub state: PathBuf,

    /// API key clients must send (`sk-` + 64 hex). Omitted: the key stored in the state file,
    /// or a new random one; either way it is kept in the state file for the next start.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Allow listening on a non-loopback address.
    #[arg(long)]
    pub allow_remote: bool,

    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Fault injection and limits for the sandbox (all off by default). `Default` matches the
/// command-line defaults. `sandbox --help` lists these under their own heading.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Fault injection and server variants")]
pub struct FaultArgs {
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,

    /// Fraction (0..1) of requests answered 429 with Retry-After.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub error_rate_429: f64,

    /// Fraction (0..1) of requests answered 500.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub error_rate_500: f64,

    /// Fraction (0..1) of requests answered 503.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub error_rate_503: f64,

    /// Fraction (0..1) of writes that are performed and then answered 504 or dropped.
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub commit_then_fail_rate: f64,

    /// Emails the share call rejects (repeat or comma-separate).
    #[arg(long, value_delimiter = ',', value_name = "EMAIL")]
    pub reject_email: Vec<String>,

    /// Enable a rate limiter shaped like the real one.
    #[arg(long)]
    pub rate_limit: bool,

    /// Requests per minute allowed by the rate limiter.
    #[arg(long, default_value_t = 1500, value_name = "N")]
    pub rate_limit_per_minute: u32,

    /// Concurrent GETs allowed by the rate limiter.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub max_concurrent_reads: u32,

    /// Concurrent writes allowed by the rate limiter.
    #[arg(long, default_value_t = 15, value_name = "N")]
    pub max_concurrent_writes: u32,

    /// Seed for the fault RNG so runs repeat.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,

    /// How long archive, unarchive and delete operations take before they finish, in
    /// milliseconds.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub operation_delay_ms: u64,

    /// Archive and unarchive of this room (id or title; repeat or comma-separate) fail inside
    /// the background operation with the server's permission message; the room stays put.
    #[arg(long, value_delimiter = ',', value_name = "ROOM")]
    pub fail_archive: Vec<String>,

    /// Compare emails case-sensitively, like DocSpace on PostgreSQL (default: MySQL, which
    /// ignores case).
    #[arg(long)]
    pub case_sensitive_emails: bool,

    /// Run with a restricted API key holding only these scopes (repeat or comma-separate,
    /// e.g. `rooms:write,accounts:read`): the server's scope rules are enforced on every
    /// route and `GET /keys/@self` lists them. Default: full access.
    #[arg(long, value_delimiter = ',', value_name = "SCOPE")]
    pub key_scopes: Vec<String>,
}

impl Default for FaultArgs {
    /// clap's own defaults (the attributes above), so they are written down once: the values
    /// of `sandbox` with no fault flags.
    fn default() -> FaultArgs {
        use clap::FromArgMatches;
        let command = FaultArgs::augment_args(clap::Command::new("sandbox"));
        let matches = command.get_matches_from(["sandbox"]);
        FaultArgs::from_arg_matches(&matches)
            .unwrap_or_else(|e| unreachable!("every fault flag has a default or is optional: {e}"))
    }
}

/// The sandbox takes its own plain configuration (docs/architecture.md, "The sandbox"); the
/// command line only converts its flags. Settings without a flag keep the sandbox's defaults.
impl From<&FaultArgs> for crate::sandbox::FaultConfig {
    fn from(args: &FaultArgs) -> crate::sandbox::FaultConfig {
        crate::sandbox::FaultConfig {
            latency_ms: args.latency_ms,
            error_rate_429: args.error_rate_429,
            error_rate_500: args.error_rate_500,
            error_rate_503: args.error_rate_503,
            commit_then_fail_rate: args.commit_then_fail_rate,
            reject_email: args.reject_email.clone(),
            rate_limit: args.rate_limit,
            rate_limit_per_minute: args.rate_limit_per_minute,
            max_concurrent_reads: args.max_concurrent_reads,
            max_concurrent_writes: args.max_concurrent_writes,
            seed: args.seed,
            operation_delay_ms: args.operation_delay_ms,
            fail_archive: args.fail_archive.clone(),
            case_sensitive_emails: args.case_sensitive_emails,
            key_scopes: args.key_scopes.clone(),
            ..crate::sandbox::FaultConfig::default()
        }
    }
}

impl From<FaultArgs> for crate::sandbox::FaultConfig {
    fn from(args: FaultArgs) -> crate::sandbox::FaultConfig {
        crate::sandbox::FaultConfig::from(&args)
    }
}

#[cfg(test)]
mod fault_config_tests {
    use super::*;

    /// The sandbox's defaults and the command line's defaults must agree: `sandbox` with no
    /// flags behaves like a sandbox started in-process with `FaultConfig::default()`.
    #[test]
    fn command_line_defaults_match_the_sandbox_defaults() {
        assert_eq!(
            crate::sandbox::FaultConfig::from(&FaultArgs::default()),
            crate::sandbox::FaultConfig::default()
        );
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
