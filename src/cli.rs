//! Command-line definitions only: clap derive structs whose doc comments are the help text,
//! the man pages and the completions. Nothing here reads the environment or does work.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version,
    about = "Log in to container registries, pull and push images — no Docker daemon needed",
    long_about = "hoist logs in to container registries and pulls and pushes images without a Docker daemon.\n\
                  It reads and writes Docker's config.json exactly as the Docker CLI does, runs docker-credential-* \
                  helpers, and works as a non-root user on a read-only root filesystem.",
    after_help = "Examples:\n  \
        echo \"$TOKEN\" | hoist login -u ci --password-stdin registry.example.com\n  \
        hoist pull alpine:3.19 --output ./alpine\n  \
        hoist push registry.example.com/team/app:1.0 --from ./image.tar"
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
    #[arg(long, global = true, value_name = "DIR")]
    pub config: Option<PathBuf>,

    /// Print only what scripts need (a digest), no progress or status lines
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Log every HTTP request (method, URL, status, time; never credentials) to stderr
    #[arg(long, global = true)]
    pub debug: bool,

    /// Allow plain HTTP and unverified TLS for this registry (repeatable)
    #[arg(long, global = true, value_name = "HOST[:PORT]")]
    pub insecure: Vec<String>,

    /// Extra directory of per-registry certificates, laid out like /etc/docker/certs.d
    #[arg(long, global = true, value_name = "DIR")]
    pub certs_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Login(LoginArgs),
    Logout(LogoutArgs),
    Pull(PullArgs),
    Push(PushArgs),
    Completions(CompletionsArgs),
}

impl Command {
    /// Pull and push catch Ctrl-C to say what they finished; the others keep the default.
    pub fn transfers_images(&self) -> bool {
        matches!(self, Command::Pull(_) | Command::Push(_))
    }
}

/// Log in to a registry and store the credentials the way the Docker CLI does
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    CI:        echo \"$REGISTRY_TOKEN\" | hoist login -u ci-bot --password-stdin registry.example.com\n  \
    Terminal:  hoist login registry.example.com     (prompts for what is missing)\n  \
    Docker Hub: hoist login -u NAME")]
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
#[command(after_help = "Example:\n  hoist logout registry.example.com")]
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

/// Download an image into the local store or an OCI layout / docker-archive
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    hoist pull alpine:3.19\n  \
    hoist pull registry.example.com/app:1.0 --output ./app-layout\n  \
    hoist pull registry.example.com/app:1.0 --output app.tar --quiet > digest.txt")]
pub struct PullArgs {
    /// Image reference: [REGISTRY/]REPOSITORY[:TAG][@DIGEST]
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Write here instead of the store: a directory (OCI layout) or a .tar (docker-archive)
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Format of --output, when its name does not say
    #[arg(long, value_enum, requires = "output")]
    pub format: Option<OutputFormat>,

    /// Platform to pick from a multi-platform image: os/arch[/variant], or "all"
    #[arg(long, value_name = "PLATFORM", value_parser = platform_arg)]
    pub platform: Option<String>,

    /// Blobs to download at once
    #[arg(short, long, value_name = "N", default_value_t = 4, value_parser = at_least_one)]
    pub jobs: usize,

    /// Also write the manifest digest to this file
    #[arg(long, value_name = "FILE")]
    pub digest_file: Option<PathBuf>,

    /// Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest
    #[arg(long)]
    pub json: bool,
}

/// Upload an image from the local store, an OCI layout, or an image tarball
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    hoist push registry.example.com/app:1.0 --from ./image.tar\n  \
    hoist push registry.example.com/app:1.0 --from ./oci-layout:app\n  \
    hoist pull reg/a:1 && hoist push reg/b:1 --from reg/a:1")]
pub struct PushArgs {
    /// Destination: [REGISTRY/]REPOSITORY[:TAG]
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Source: OCI layout dir[:NAME], OCI or docker-archive tar, or a reference in the store
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,

    /// Local store directory (default: $HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist)
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Blobs to upload at once
    #[arg(short, long, value_name = "N", default_value_t = 4, value_parser = at_least_one)]
    pub jobs: usize,

    /// Upload in chunks of this many bytes instead of one request per blob
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_size: Option<u64>,

    /// Also write the manifest digest to this file
    #[arg(long, value_name = "FILE")]
    pub digest_file: Option<PathBuf>,

    /// Print a JSON summary (digest, media type, every blob and how it moved) instead of the digest
    #[arg(long)]
    pub json: bool,
}

/// Print a shell completion script: `source <(hoist completions bash)`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
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

/// `all`, or `os/arch[/variant]` with no empty part (`linux/amd64/` names no variant).
fn platform_arg(arg: &str) -> Result<String, String> {
    let parts: Vec<&str> = arg.split('/').collect();
    if arg == "all" || (matches!(parts.len(), 2 | 3) && parts.iter().all(|p| !p.is_empty())) {
        Ok(arg.to_string())
    } else {
        Err("expected os/arch[/variant] (e.g. linux/arm64/v8) or all".into())
    }
}
