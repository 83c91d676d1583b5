//! The command line's grammar: every command and flag of `civreg-hub` (clap derive). The
//! `--help` texts come from the doc comments here. Each command group is run by its own file
//! of `cli/`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "civreg-hub",
    version,
    about = "civreg central hub: PKI and the mutually authenticated sync server"
)]
pub struct Cli {
    /// The hub's data directory (PKI under pki/, database under db/); also CIVREG_HUB_DATA_DIR
    /// or `data_dir` in the config file; default ./civreg-hub-data.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// The key file that seals the hub database (also CIVREG_HUB_KEY_FILE or `key_file` in the
    /// config file; default DATA_DIR/hub.key): keep it off the data disk. `pki init` makes one
    /// when none exists, `keygen` makes one anywhere.
    #[arg(long, global = true)]
    pub key_file: Option<PathBuf>,
    /// Keep the hub's store in PostgreSQL: postgres://USER:PASSWORD@HOST:PORT/DATABASE, with
    /// sslmode=disable|prefer|require|verify-ca|verify-full and sslrootcert=CA.pem (also
    /// CIVREG_HUB_STORE or `store` in the config file; default: sled under DATA_DIR/db).
    #[arg(long, global = true)]
    pub store: Option<String>,
    /// A TOML config file (also CIVREG_HUB_CONFIG). Layers: defaults < file < CIVREG_HUB_* < flags.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// Print the configuration in force, as TOML, and exit.
    #[arg(long, global = true)]
    pub dump_config: bool,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log as JSON lines (levels from RUST_LOG, default info).
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Make a new key file to seal the hub database with (0600; refuses to overwrite one).
    Keygen {
        /// Where to write it (default: the key file in force, see --key-file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The agency's certificates: CA, hub, nodes and operators.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Serve sync to enrolled nodes over mutual TLS.
    Serve {
        /// Address to listen on (also CIVREG_HUB_GRPC_LISTEN or `grpc_listen`; default 127.0.0.1:7443).
        #[arg(long)]
        grpc_listen: Option<String>,
        /// The operator dashboard and /metrics, plain HTTP (also CIVREG_HUB_HTTP_LISTEN or
        /// `http_listen`; default 127.0.0.1:8080). Keep it on loopback.
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Operator accounts for the dashboard (work whether or not the hub runs).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Per node: last acknowledged sequence, last seen, ops waiting, clock offset. While `serve`
    /// runs, asks it (live figures).
    Status,
    /// Ops the hub refuses for good, each blocking its office's queue, and the ops operators
    /// set aside. While `serve` runs, asks it (a stopped hub knows only the ops set aside).
    Refused,
    /// Set aside the op an office's queue is blocked on (its hash as the hub saw it refused, or
    /// as the office reported it when too large to send): the hub takes its place in the chain
    /// by that hash, applies it to no record and sends it to no office, and takes the office's
    /// next ops. The office's own log keeps the op; the office's node drops it from the record at its
    /// next sync. `civreg-hub refused` lists what can be set aside.
    SetAside {
        /// The office's municipality, any of its names.
        municipality: String,
        /// The node id (`civreg-hub status` lists them).
        node: String,
        /// The op's sequence number in the node's chain.
        seq: u64,
        /// Why (required); kept with the decision.
        #[arg(long)]
        reason: String,
        /// Who decides (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
        /// The op's hash (64 hex digits), as the office's `civreg-node status` prints it; needed
        /// only when the hub has not seen the op refused since it started.
        #[arg(long)]
        hash: Option<String>,
        /// Put back an op set aside by mistake (a wrong hash), while the hub has taken nothing
        /// of the office after it: the hub expects that op again.
        #[arg(long)]
        undo: bool,
    },
    /// Show a record as the hub holds it (while `serve` runs, asks it). Written to the access log.
    Show {
        regno: String,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Who searched for or opened which records: searches and views at the hub, from nodes and
    /// operators. Personal numbers in queries appear only as `pn:` and a blind-token prefix.
    AccessLog {
        /// Entries that returned or opened this record.
        #[arg(long)]
        record: Option<String>,
        /// Entries by an identity or clerk (substring, e.g. "prishtine/1" or "vjosa").
        #[arg(long)]
        by: Option<String>,
        /// Entries since this date (YYYY-MM-DD) or RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Entries that returned or opened any record this person appears in (a person
        /// identifier): "who looked at this person?".
        #[arg(long)]
        person: Option<String>,
    },
    /// Load historic register pages centrally: each row becomes a record of the municipality
    /// (its offices receive it through pull), and each record's people are linked to the
    /// register: a match, a possible match for the duplicates queue, or new. Same columns and
    /// validation as `civreg-node import`; a rerun imports nothing twice. Exit status, as
    /// `civreg-node import`: 0 when every row was imported or skipped, 1 when some rows were
    /// rejected (the others are imported; the report lists why) or the import failed.
    Import {
        file: PathBuf,
        #[arg(long)]
        municipality: String,
        /// The operator loading the file (also CIVREG_OPERATOR); recorded in every op.
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
        /// Write the per-row report (JSON Lines) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// The duplicates review queue: probable duplicates for an operator to link or dismiss.
    Duplicates {
        #[command(subcommand)]
        command: DuplicatesCommand,
    },
    /// A person identifier: every record the person appears in. Written to the access log.
    Person {
        id: String,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Clerks' requests to un-void a record (pending ones; with --all, answered ones too).
    UnvoidRequests {
        #[arg(long)]
        all: bool,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Answer a clerk's request to un-void a record: grant (the record is restored by an op of
    /// the hub's log, reaching the office by pull) or refuse (the office sees the reason).
    UnvoidRequest {
        #[command(subcommand)]
        command: UnvoidRequestCommand,
    },
    /// Conflicts between concurrent edits, for an operator to decide.
    Conflicts {
        #[command(subcommand)]
        command: ConflictsCommand,
    },
    /// The digest of a municipality's records: equal to `civreg-node digest` on each of its
    /// nodes once they have synced.
    Digest {
        #[arg(long)]
        municipality: String,
    },
    /// Identity matching: duplicates in the register, and linking an external file to it.
    Match {
        #[command(subcommand)]
        command: MatchCommand,
    },
    /// Write a seeded synthetic register (births, marriages, deaths of the 38 municipalities,
    /// with corrupted duplicates) as the importer's CSV, and the ground truth as JSON Lines.
    Synth {
        #[arg(long, default_value_t = 10_000)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for records.csv and truth.jsonl.
        #[arg(long)]
        out: PathBuf,
    },
    /// The hub list offices sync with (issue 19 part 3): shown without a subcommand; `set
    /// URL...` stores it for every hub over the store, `clear` goes back to `hub_urls` of each
    /// hub's config. Enrolled offices take a change at their next heartbeat, without a new
    /// bundle.
    HubUrls {
        #[command(subcommand)]
        command: Option<HubUrlsCommand>,
    },
    /// Municipalities' rollout stages (planned, pilot, live, suspended).
    Rollout {
        #[command(subcommand)]
        command: RolloutCommand,
    },
    /// Citizens' certificates: issue one at the hub (`certificate REGNO --out FILE.pdf
    /// --collector NAME --id-document KIND --operator NAME`), the hub's signer, cancel one
    /// issued in error, list. Verification is the public page `/verify` on the dashboard.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Certificate {
        #[command(subcommand)]
        command: Option<CertificateCommand>,
        #[command(flatten)]
        issue: IssueArgs,
    },
    /// National search: names in any script, typos, years, dates, places, personal numbers.
    Search {
        /// Free text, e.g. "Arben Gashi 1968 Prizren".
        text: String,
        /// Date of birth: YYYY, YYYY-MM-DD or FROM..TO.
        #[arg(long)]
        born: Option<String>,
        /// Registering municipality or place of birth, any of its names.
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long, value_parser = ["birth", "marriage", "death"])]
        kind: Option<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Who is searching (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// A consistent, encrypted backup of the hub (store and files, not the key file) under DIR,
    /// made by the running hub through its control socket, or from the stopped store.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a data directory without a database (with the hub's key file),
    /// then check every chain against its head and print every municipality's digest.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Re-seal the whole hub database under a new at-rest key written at --new-key-file, with
    /// the hub stopped; resumable (--resume). At the end the new key is in the key file and the
    /// old one in KEY.old-DATE: backups made before need it.
    RotateKey {
        #[command(flatten)]
        how: RotateArgs,
    },
    /// Make a new search key (the key of the blind tokens of personal numbers) at
    /// --new-key-file, rebuild the search index and the import keys under it, with the hub
    /// stopped; resumable (--resume). At the end it is DATA_DIR/search.key.
    RotateSearchKey {
        #[command(flatten)]
        how: RotateArgs,
    },
    /// Copy a stopped hub's embedded store (DATA_DIR/db) into PostgreSQL, values sealed as they
    /// are (the hub keeps its key file); resumable: after an interruption run it again. Success
    /// only once every entry, every chain head and every municipality's digest are equal on
    /// both sides; then `serve --store URL`.
    Migrate {
        /// The data directory of the hub to copy (default: the data directory in force).
        #[arg(long)]
        from: Option<PathBuf>,
        /// The PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=...
        /// (empty, or holding this copy's unfinished run).
        #[arg(long)]
        to: String,
        #[command(flatten)]
        how: CopyArgs,
    },
    /// Write the stopped hub's store (the configured one) as JSON Lines to FILE (format in
    /// `civreg_hub::migrate::jsonl`): every entry as stored, with a checksum, heads and digests.
    ExportJsonl {
        #[arg(long)]
        out: PathBuf,
    },
    /// Read a JSON Lines export into the configured store, which must be empty (resumable:
    /// after an interruption run it again); checked against the export's heads and digests.
    ImportJsonl {
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        how: CopyArgs,
    },
}

/// The options of `migrate` and `import-jsonl`.
/// Which page of an operators' audit trail (`rollout log`, `operator log`).
#[derive(clap::Args)]
pub struct TrailPage {
    /// Entries since this date (YYYY-MM-DD) or RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// The entries after this cursor (the `next` a listing printed).
    #[arg(long)]
    pub after: Option<String>,
    /// At most this many entries (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
}

#[derive(clap::Args)]
pub struct CopyArgs {
    /// Entries per atomic write (default 2000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: Option<u64>,
    /// Drop what an unfinished earlier copy wrote into the target, and copy from the start.
    #[arg(long)]
    pub restart: bool,
}

/// The options of `rotate-key` and `rotate-search-key`.
#[derive(clap::Args)]
pub struct RotateArgs {
    /// Where to write the new key (a path that does not exist yet; mode 0600).
    #[arg(long, required_unless_present = "resume", conflicts_with = "resume")]
    pub new_key_file: Option<PathBuf>,
    /// Go on with the unfinished rotation (after an interruption).
    #[arg(long)]
    pub resume: bool,
    /// Values per atomic write (default 500).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: Option<u64>,
}

#[derive(Subcommand)]
pub enum PkiCommand {
    /// Create the issuing CA, the hub's server certificate and an empty revocation list, under
    /// the root CA of --root-dir (created there if empty). The root key never enters DATA_DIR.
    Init {
        /// DNS names or IP addresses nodes use to reach the hub (default: localhost, 127.0.0.1).
        #[arg(long = "hub-name")]
        hub_names: Vec<String>,
        /// The root CA's directory, to keep offline (default: DATA_DIR-root-ca beside DATA_DIR).
        #[arg(long)]
        root_dir: Option<PathBuf>,
    },
    /// The offline root CA and the key ceremony (operator manual, "Key ceremony").
    Root {
        #[command(subcommand)]
        command: RootCommand,
    },
    /// Install an issuing CA certificate renewed by `pki root sign-issuer`.
    InstallIssuer { cert: PathBuf },
    /// Issue a node certificate and write its enrollment bundle.
    Issue {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        node_id: String,
        /// Directory to write the bundle to (cert.pem, key.pem, ca.pem, bundle.json).
        #[arg(long)]
        out: PathBuf,
        /// A hub address written into the bundle (repeatable: one per hub process, in the
        /// order the node tries them; default `hub_urls` of the config, else
        /// https://localhost:7443).
        #[arg(long = "hub-url")]
        hub_urls: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Also issue the office's clerk app certificate for this host name or IP address
        /// (repeatable), into the same bundle (app.pem, app.key); see `issue-app`.
        #[arg(long = "app-name")]
        app_names: Vec<String>,
    },
    /// Issue the server certificate of an office's clerk app (HTTPS on the office network) for
    /// the host names and IP addresses the office's PCs use; writes app.pem, app.key and ca.pem
    /// into --out. Install it with `civreg-node app-cert install DIR`.
    IssueApp {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        node_id: String,
        /// A host name or IP address the office's PCs reach the app by (repeatable), e.g.
        /// --name clerks.istog.rks --name 10.20.0.5.
        #[arg(long = "name", required = true)]
        names: Vec<String>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = crate::pki::app::APP_VALIDITY_DAYS)]
        days: u32,
    },
    /// Issue an operator certificate and write its bundle.
    IssueOperator {
        name: String,
        #[arg(long)]
        out: PathBuf,
        /// A hub address written into the bundle (repeatable, as for `issue`).
        #[arg(long = "hub-url")]
        hub_urls: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Issue a document-signing certificate (for citizens' certificates) to an enrolled node
    /// (`istog/1`) or to the hub's central services (`hub`); writes signer.pem and signer.key
    /// into --out. Install it on the node with `civreg-node signer install DIR`.
    IssueSigner {
        /// `MUNICIPALITY/NODE_ID` (e.g. `istog/1`), or `hub`.
        node: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 730)]
        days: u32,
    },
    /// Write the trust list (CA, every document signer, revocations; signed by the issuing CA)
    /// that verifiers use offline. Publish it again after every issue-signer and revoke.
    TrustList {
        #[arg(long)]
        out: PathBuf,
    },
    /// Revoke certificates by serial or identity (e.g. prishtine/2, signer/prishtine/2); the running hub refuses them at once.
    Revoke { selector: String },
    /// Every certificate issued, with identity, serial, expiry and status.
    List,
    /// Require nodes to renew their certificates now (told with their next heartbeat).
    RequireRenewal(crate::pki::lifecycle::RequireRenewalArgs),
    /// Issue a new server certificate for the hub; the running hub presents it to new connections.
    RenewHub(crate::pki::lifecycle::RenewHubArgs),
    /// Replace the agency's root CA with an overlap period (operator manual, "CA rollover").
    Rollover {
        #[command(subcommand)]
        command: crate::pki::rollover::RolloverCommand,
    },
}

#[derive(Subcommand)]
pub enum RootCommand {
    /// On the offline machine: create the root CA (root.pem, root.key) in --dir.
    Init {
        #[arg(long)]
        dir: PathBuf,
    },
    /// On the offline machine: renew the hub's issuing CA certificate (the hub's
    /// pki/issuing.pem, carried over) with the root of --dir; writes --out.
    SignIssuer {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// On a hub of the first layout: move the CA key pki/ca.key into --dir (offline medium).
    TakeOffline {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Add an operator; the password comes from CIVREG_OPERATOR_PASSWORD or a prompt.
    Add {
        name: String,
        /// Give an existing operator a new password.
        #[arg(long)]
        replace: bool,
    },
    /// Remove an operator: it can no longer sign in, and its dashboard sessions end, at every
    /// hub over the store.
    Remove { name: String },
    /// The operator actions log (sign-ins, decisions, certificates), shared by every hub over the store: a page of entries, oldest
    /// first (JSON objects; with --json, `entries` and `next`, the cursor of the next page).
    Log(TrailPage),
}

#[derive(Subcommand)]
pub enum UnvoidRequestCommand {
    /// Restore the request's record.
    Grant {
        id: String,
        #[arg(long)]
        reason: String,
        /// The operator deciding (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// Keep the record void; the office sees the reason.
    Refuse {
        id: String,
        #[arg(long)]
        reason: String,
        /// The operator deciding (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
}

#[derive(Subcommand)]
pub enum ConflictsCommand {
    /// Open conflicts (with --all, resolved ones too).
    List {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// Both values of a conflict: who made each, when, and on which node.
    Show { id: String },
    /// Decide a conflict: keep side A or B, or give another value. The decision is an op of the
    /// hub's log, in the operator's name, and reaches the record's offices through pull.
    Resolve {
        id: String,
        /// A or B, as `conflicts show` labels them.
        #[arg(long, conflicts_with = "value")]
        keep: Option<String>,
        /// Another value (JSON, or plain text for a name).
        #[arg(long)]
        value: Option<String>,
        #[arg(long)]
        reason: String,
        /// The operator deciding (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
}

#[derive(Subcommand)]
pub enum DuplicatesCommand {
    /// Open cases, strongest first (with --all, decided ones too).
    List {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// People the central import took without a given name (illegible in the register page),
    /// waiting for review until an office enters the name.
    Illegible {
        #[arg(long)]
        municipality: Option<String>,
    },
    /// Both records of a case, side by side, with their person identifiers.
    Show {
        id: String,
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// The two are one person: link them (ops in the hub's log, reaching the offices by pull).
    Link {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// The two are different people: close the case.
    Dismiss {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// Undo a link: the second record's person gets an identifier of their own again.
    Unlink {
        id: String,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// The open cases by person: clusters of records joined by open cases, strongest first.
    Clusters {
        #[arg(long)]
        municipality: Option<String>,
    },
    /// Every record of a cluster side by side, with the pairwise weights.
    Cluster {
        id: String,
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// One decision on a whole cluster: --one-person, or --group REGNO/ROLE=N for every record
    /// (each group becomes one person; the cases between groups are dismissed).
    DecideCluster {
        id: String,
        /// Every record of the cluster is one person.
        #[arg(long, conflicts_with = "group")]
        one_person: bool,
        /// A record and its group number, e.g. PRISHTINE-2026-B-000042/child=2 (repeat).
        #[arg(long)]
        group: Vec<String>,
        /// The cluster's version as `duplicates cluster` showed it: refused if it changed since.
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        reason: String,
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
}

#[derive(Subcommand)]
pub enum MatchCommand {
    /// Probable duplicates inside the register (the same person in two records), scored by the
    /// Fellegi-Sunter matcher; writes JSON Lines (--json) or CSV.
    Dedupe {
        #[arg(long)]
        municipality: Option<String>,
        /// Match weight (log2) from which a pair is reported (default: the model's "possible").
        /// Pairs below the model's "possible" are reported but not filed for review, unless
        /// their cluster makes them a match.
        #[arg(long, allow_hyphen_values = true)]
        threshold: Option<f64>,
        /// Report the pairs without filing any into the review queue.
        #[arg(long)]
        report_only: bool,
        /// Train the matching model on the register again (and save it) before scoring.
        #[arg(long)]
        retrain: bool,
        /// Write the pairs to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Links a CSV file of person rows to the register: for each row the best candidate, its
    /// score, and whether it is a match, a possible match for review, or new. Columns: id,
    /// given_name, surname, birth_surname, father_given_name, mother_given_name,
    /// mother_maiden_surname, sex, date_of_birth, place_of_birth, personal_number (any subset
    /// with a name); rows that can not be read are reported and the rest still linked.
    ///
    /// The prior (the share of rows expected in the register) is estimated from the two sources
    /// by deterministic rules (same personal number; same given name, surname and date of birth),
    /// or given with --expect-matches; the Match and Possible thresholds follow from it (both are
    /// printed), or are given in bits with --threshold and --possible. The output joins back to
    /// the file: its id, the candidate's record, role and person identifier, weight, class, and
    /// the fields that agree and disagree.
    Link {
        file: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Share of the file's rows expected to be in the register (0.5: half of them).
        #[arg(long, value_name = "SHARE")]
        expect_matches: Option<f64>,
        /// Match weight (bits) from which a row is a match (default: from the prior).
        #[arg(long, value_name = "BITS", allow_hyphen_values = true)]
        threshold: Option<f64>,
        /// Match weight (bits) from which a row is a possible match (default: from the prior).
        #[arg(long, value_name = "BITS", allow_hyphen_values = true)]
        possible: Option<f64>,
        /// Train a model for this job on the register and the file together instead of using
        /// the saved model (the job's model is not saved).
        #[arg(long)]
        retrain: bool,
    },
    /// Trains the matching model on the whole register and saves it as the one in use by
    /// `match dedupe`, `match link` and `import` (they reuse the saved model; the first of them
    /// to run without one trains and saves it). Run it after large imports.
    Train {
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// The saved matching models, newest first, and which is in use.
    Models,
}

#[derive(Subcommand)]
pub enum HubUrlsCommand {
    /// The list stored, and what each hub sends without one (`hub_urls` of its config).
    Show,
    /// Store the list, in the order offices try the hubs (each https://HOST:PORT, every HOST a
    /// name of the hub's certificate); every hub over the store sends it from its next
    /// heartbeat.
    Set {
        #[arg(required = true, value_name = "URL")]
        urls: Vec<String>,
        /// The operator making the change (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// Remove the stored list: each hub sends `hub_urls` of its config again (nothing when it
    /// has none, and offices keep the list they have).
    Clear {
        /// The operator making the change (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
}

#[derive(Subcommand)]
pub enum RolloutCommand {
    /// Every municipality's stage and the record kinds it may register.
    List,
    /// Change a municipality's stage; every hub over the store applies it within seconds.
    Set {
        code: String,
        #[arg(value_enum)]
        stage: crate::rollout::Stage,
        /// The record kinds it may register, e.g. birth,marriage (default: unchanged).
        #[arg(long, value_delimiter = ',', value_parser = ["birth", "marriage", "death"])]
        kinds: Option<Vec<String>>,
        /// The operator making the change (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// The rollout log (every stage change, who made it and why), shared by every hub over the store: a page of entries, oldest
    /// first (JSON objects; with --json, `entries` and `next`, the cursor of the next page).
    Log(TrailPage),
}

#[derive(Subcommand)]
pub enum CertificateCommand {
    /// Issue the hub's document signer (civreg://signer/hub) with the agency CA and install it
    /// sealed in the hub's database (or install one from `pki issue-signer hub --out DIR`).
    /// Publish a new trust list afterwards.
    Signer {
        /// Install the signer.pem and signer.key of this directory instead of issuing one.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Validity of a new signer, in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Who installs it (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
    /// Cancel a certificate issued in error: every later verification at the hub refuses it.
    Cancel {
        /// The serial printed on it (C-MUNICIPALITY-YEAR-NNNNNN).
        serial: String,
        #[arg(long)]
        reason: String,
        /// The operator cancelling (also CIVREG_OPERATOR).
        #[arg(long, env = "CIVREG_OPERATOR")]
        operator: String,
    },
    /// Every cancelled certificate.
    Cancelled,
    /// The certificates the offices issued and reported (with their heartbeat): serial, record
    /// and version, office, clerk, when, collector and document kind. Written to the access log.
    Issued {
        /// Only the certificates of this record.
        #[arg(long)]
        regno: Option<String>,
        /// Who is looking (also CIVREG_OPERATOR); recorded in the access log.
        #[arg(long, env = "CIVREG_OPERATOR", default_value = "")]
        operator: String,
    },
}

/// Issue a certificate from the record as the hub holds it, signed with the hub's signer.
#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// The record's registration number.
    pub regno: Option<String>,
    /// The language the PDF reads first: sq, sr or en (Albanian and Serbian are always there).
    #[arg(long, value_parser = ["sq", "sr", "en"], default_value = "sq")]
    pub lang: String,
    /// Where to write the PDF (refuses an existing file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The name the collector gave.
    #[arg(long)]
    pub collector: Option<String>,
    /// The kind of identity document the collector showed (its number is never kept):
    /// id-card, passport, driving-licence, residence-permit or other.
    #[arg(long)]
    pub id_document: Option<String>,
    /// Who issues (also CIVREG_OPERATOR): recorded as the issuer in the certificate register.
    #[arg(long, env = "CIVREG_OPERATOR")]
    pub operator: Option<String>,
}
