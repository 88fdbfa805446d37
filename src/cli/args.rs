//! Command-line definitions only: clap derive structs whose doc comments are the help text,
//! the man pages and the completions. Nothing here reads the environment or does work.
//!
//! Every command's help has one layout: Usage, Arguments, Options, Global options, then
//! Output (what stdout carries, with and without `--quiet`) and Examples, from [`guide`].
//! No argument has a long help of its own, so `-h` and `--help` print the same thing.

use super::guide;
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version,
    about = "Log in to container registries, pull and push images — no Docker daemon needed",
    after_help = guide::HOIST.after_help()
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory holding config.json (default: $DOCKER_CONFIG, then $HOME/.docker)
    #[arg(long, global = true, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[arg(help_heading = guide::GLOBAL)]
    pub config: Option<PathBuf>,

    /// No progress or status; only the result (see Output)
    #[arg(short, long, global = true, help_heading = guide::GLOBAL)]
    pub quiet: bool,

    /// Log every HTTP request (method, URL, status, time; never credentials) to stderr
    #[arg(long, global = true, help_heading = guide::GLOBAL)]
    pub debug: bool,

    /// Allow plain HTTP and unverified TLS for this registry (repeatable)
    #[arg(long, global = true, value_name = "HOST[:PORT]", value_hint = ValueHint::Hostname)]
    #[arg(help_heading = guide::GLOBAL)]
    pub insecure: Vec<String>,

    /// Extra directory of per-registry certificates, laid out like /etc/docker/certs.d
    #[arg(long, global = true, value_name = "DIR", value_hint = ValueHint::DirPath)]
    #[arg(help_heading = guide::GLOBAL)]
    pub certs_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Login(LoginArgs),
    Logout(LogoutArgs),
    Pull(PullArgs),
    Push(PushArgs),
    #[command(visible_alias = "cp")]
    Copy(CopyArgs),
    Tag(TagArgs),
    Inspect(InspectArgs),
    Tags(TagsArgs),
    Completions(CompletionsArgs),
    /// The registries named in config.json, one a line: what shell completion offers for SERVER
    #[command(name = "__complete-servers", hide = true)]
    CompleteServers,
}

impl Command {
    /// Pull, push and copy catch Ctrl-C to say what they finished; the others keep the default.
    pub fn transfers_images(&self) -> bool {
        matches!(self, Command::Pull(_) | Command::Push(_) | Command::Copy(_))
    }
}

/// Log in to a registry and store the credentials the way the Docker CLI does
#[derive(Debug, Args)]
#[command(after_help = guide::LOGIN.after_help())]
pub struct LoginArgs {
    /// Registry to log in to (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,

    /// Username
    #[arg(short, long)]
    pub username: Option<String>,

    /// Password or token (insecure: visible to other processes; prefer --password-stdin)
    #[arg(short, long)]
    pub password: Option<String>,

    /// Read the password or token from standard input
    #[arg(long)]
    pub password_stdin: bool,
}

/// Remove a registry's stored credentials
#[derive(Debug, Args)]
#[command(after_help = guide::LOGOUT.after_help())]
pub struct LogoutArgs {
    /// Registry to log out of (default: Docker Hub)
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    /// An OCI image layout directory
    Oci,
    /// A tarball for `docker load` and `skopeo copy docker-archive:`
    DockerArchive,
}

/// Download an image into the local store, an OCI layout or a docker-archive
#[derive(Debug, Args)]
#[command(after_help = guide::PULL.after_help())]
pub struct PullArgs {
    /// Image reference: [REGISTRY/]REPOSITORY[:TAG][@DIGEST]
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub store: Option<PathBuf>,

    /// Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)
    #[arg(short, long, value_name = "PATH", value_hint = ValueHint::FilePath)]
    pub output: Option<PathBuf>,

    /// Format of --output when its name does not say: oci (a directory) or docker-archive
    #[arg(long, value_enum, requires = "output", hide_possible_values = true)]
    pub format: Option<OutputFormat>,

    /// Platform to pick from a multi-platform image: os/arch[/variant], or "all"
    #[arg(long, value_name = "PLATFORM", value_parser = platform_arg)]
    pub platform: Option<String>,

    /// Most blobs to download at once [default: auto, up to 32]
    #[arg(short, long, value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub result: ResultArgs,

    /// Pull REGISTRY's images through MIRROR first (repeatable, tried in order; replaces
    /// registries.conf's mirrors for REGISTRY)
    #[arg(long, value_name = "REGISTRY=MIRROR", value_parser = super::mirrors::mirror_arg)]
    pub mirror: Vec<String>,

    /// Foreign (Windows) layers: skip them, keeping their descriptors, or fetch them from their
    /// URLs (HTTPS only, no credentials)
    #[arg(long, value_enum, value_name = "skip|fetch", default_value_t = ForeignLayers::Skip)]
    #[arg(hide_possible_values = true)]
    pub foreign_layers: ForeignLayers,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ForeignLayers {
    /// Keep the descriptor, leave the bytes at their URLs
    Skip,
    /// Download from the descriptor's URLs
    Fetch,
}

/// Upload an image from the local store, an OCI layout or an image tarball
#[derive(Debug, Args)]
#[command(after_help = guide::PUSH.after_help())]
pub struct PushArgs {
    /// Destination: [REGISTRY/]REPOSITORY[:TAG]
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Source: OCI layout dir[:NAME], OCI or docker-archive tar, or a reference in the store
    #[arg(long, value_name = "SOURCE", value_hint = ValueHint::FilePath)]
    pub from: Option<String>,

    /// Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub store: Option<PathBuf>,

    /// Most blobs to upload at once [default: auto, up to 32]
    #[arg(short, long, value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,

    /// Upload in chunks of this many bytes instead of one request per blob
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: Option<u64>,

    /// Also tag the image TAG in the same repository (repeatable): one upload, one PUT per tag
    #[arg(short, long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    #[command(flatten)]
    pub result: ResultArgs,
}

/// How a transfer reports the image it moved: the same flags for pull, push and copy.
#[derive(Debug, Args)]
pub struct ResultArgs {
    /// Also write the manifest digest to this file
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub digest_file: Option<PathBuf>,

    /// Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest
    #[arg(long)]
    pub json: bool,
}

/// Copy an image from one registry repository to another, blob by blob, never through the disk
#[derive(Debug, Args)]
#[command(after_help = guide::COPY.after_help())]
pub struct CopyArgs {
    /// Source: [REGISTRY/]REPOSITORY[:TAG][@DIGEST]
    #[arg(value_name = "SRC")]
    pub source: String,

    /// Destination: [REGISTRY/]REPOSITORY[:TAG]
    #[arg(value_name = "DST")]
    pub destination: String,

    /// Also tag the copy TAG in the destination repository (repeatable)
    #[arg(short, long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,

    /// Copy only this platform's image of an index (its digest differs from the index's)
    #[arg(long, value_name = "PLATFORM", value_parser = one_platform_arg)]
    pub platform: Option<String>,

    /// Also copy what refers to the image: signatures, SBOMs, attestations
    #[arg(long)]
    pub referrers: bool,

    /// Most blobs to copy at once [default: auto, up to 32]
    #[arg(short, long, value_name = "N", value_parser = at_least_one)]
    pub jobs: Option<usize>,

    /// Upload in chunks of this many bytes instead of one request per blob
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: Option<u64>,

    #[command(flatten)]
    pub result: ResultArgs,
}

/// Add tags to an image already in a registry, without moving any blob
#[derive(Debug, Args)]
#[command(after_help = guide::TAG.after_help())]
pub struct TagArgs {
    /// The image: [REGISTRY/]REPOSITORY[:TAG][@DIGEST]
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Tags to add in the same repository
    #[arg(value_name = "NEWTAG", required = true)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum InspectFormat {
    /// For a person: digest, media type, platforms or config and layers
    Text,
    /// The manifest digest alone
    Digest,
    /// The manifest (or index) bytes exactly as stored
    Raw,
    /// The image config blob exactly as stored
    Config,
    /// One JSON object
    Json,
}

/// Show an image (digest, platforms, config, layers), or its manifest or config as stored
#[derive(Debug, Args)]
#[command(after_help = guide::INSPECT.after_help())]
pub struct InspectArgs {
    /// A registry reference, or a local image: OCI layout DIR[:NAME], OCI or docker-archive tar
    #[arg(value_name = "REF")]
    pub reference: String,

    /// text, digest, raw (the manifest's bytes), config (the config's bytes) or json
    #[arg(long, value_enum, hide_possible_values = true, conflicts_with_all = ["raw", "json"])]
    pub format: Option<InspectFormat>,

    /// The manifest (or index) bytes exactly as stored: --format raw
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,

    /// One JSON object instead of text: --format json
    #[arg(long)]
    pub json: bool,

    /// Show this platform's image of an index: os/arch[/variant]
    #[arg(long, value_name = "PLATFORM", value_parser = one_platform_arg)]
    pub platform: Option<String>,
}

/// List a repository's tags, one a line
#[derive(Debug, Args)]
#[command(after_help = guide::TAGS.after_help())]
pub struct TagsArgs {
    /// Repository: [REGISTRY/]REPOSITORY
    #[arg(value_name = "REPO")]
    pub repository: String,

    /// Print a JSON object ({"name": ..., "tags": [...]}) instead of lines
    #[arg(long)]
    pub json: bool,

    /// Tags to ask for per page (the registry's own default otherwise)
    #[arg(long, value_name = "N", value_parser = at_least_one, hide = true)]
    pub page_size: Option<usize>,
}

/// Print a shell completion script
#[derive(Debug, Args)]
#[command(after_help = guide::COMPLETIONS.after_help())]
pub struct CompletionsArgs {
    /// Shell to complete for: bash, zsh, fish, elvish or powershell
    #[arg(value_enum, hide_possible_values = true)]
    pub shell: clap_complete::Shell,
}

/// `--jobs 0` would start nothing and wait forever.
fn at_least_one(arg: &str) -> Result<usize, String> {
    match arg.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `os/arch[/variant]`: one platform, never `all`.
fn one_platform_arg(arg: &str) -> Result<String, String> {
    match platform_arg(arg) {
        Ok(p) if p != "all" => Ok(p),
        _ => Err("expected os/arch[/variant] (e.g. linux/arm64/v8)".into()),
    }
}

/// `all`, or `os/arch[/variant]` with no empty part (`linux/amd64/` names no variant).
fn platform_arg(arg: &str) -> Result<String, String> {
    let parts: Vec<&str> = arg.split('/').collect();
    if arg == "all" || (matches!(parts.len(), 2 | 3) && parts.iter().all(|p| !p.is_empty())) {
        Ok(arg.to_string())
    } else {
        Err("expected os/arch[/variant] (e.g. linux/arm64/v8) or all".into())
    }
}
