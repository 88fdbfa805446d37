//! The high-level arguments: clap's values plus one snapshot of the environment, checked and
//! classified into a plan per command before any request or any write. Every usage error
//! (exit 2) found after clap's own parsing is raised here; the commands only carry a plan out.
//! Nothing here talks to a registry, prints, or reads the process environment itself.

use super::args::{Cli, Command, LoginArgs, OutputFormat, PullArgs, PushArgs};
use super::mirrors::{self, Mirror};
use super::network::{NetworkSettings, SYSTEM_CERTS_DIR};
use super::promote_plan;
pub use super::promote_plan::{CopyPlan, InspectPlan, InspectTarget, TagPlan, TagsPlan};
use super::writable::{check_digest_file, check_output};
use crate::config::{self, ConfigDir, ConfigDirSource, Environment};
use crate::engine::transfer::AUTO_JOBS;
use crate::image::PlatformChoice;
use crate::reference::{Reference, Registry};
use crate::registry::ClientOptions;
use crate::types::Secret;
use crate::ui::Printer;
use std::path::{Path, PathBuf};

/// A mistake in how hoist was called, found after parsing (e.g. `--password-stdin` without `-u`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What every command shares: how to print, how to reach hosts, and the environment read once.
pub struct Settings {
    pub printer: Printer,
    pub network: NetworkSettings,
    pub env: Environment,
}

impl Settings {
    /// How to reach one registry (see [`NetworkSettings::client_options`]).
    pub fn client_options(&self, registry: &Registry) -> anyhow::Result<ClientOptions> {
        self.network.client_options(registry)
    }
}

pub struct Plan {
    pub settings: Settings,
    pub command: CommandPlan,
}

pub enum CommandPlan {
    Login(LoginPlan),
    Logout(LogoutPlan),
    Pull(PullPlan),
    Push(PushPlan),
    Copy(CopyPlan),
    Tag(TagPlan),
    Inspect(InspectPlan),
    Tags(TagsPlan),
    Completions(clap_complete::Shell),
    /// The config directory, when there is one: completion quietly offers nothing otherwise.
    CompleteServers(Option<ConfigDir>),
}

pub struct LoginPlan {
    pub registry: Registry,
    pub config_dir: ConfigDir,
    pub username: Option<String>,
    pub password: PasswordFrom,
}

/// Where login gets the secret; reading stdin or prompting is the command's work.
pub enum PasswordFrom {
    /// `--password` (insecure, and the command says so).
    Flag(Secret),
    Stdin,
    /// The stored credentials first, then a prompt on a terminal.
    Ask,
}

pub struct LogoutPlan {
    pub registry: Registry,
    pub config_dir: ConfigDir,
}

pub struct PullPlan {
    pub reference: Reference,
    pub platform: PlatformChoice,
    pub destination: Destination,
    pub jobs: usize,
    pub digest_file: Option<PathBuf>,
    pub json: bool,
    /// None: no config directory at all, so only the environment's credentials count.
    pub config_dir: Option<ConfigDir>,
    /// Tried in order before the registry itself (`--mirror`, else registries.conf).
    pub mirrors: Vec<Mirror>,
    /// `--foreign-layers fetch`: download foreign layers from their URLs.
    pub fetch_foreign: bool,
}

/// Where a pull writes the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// hoist's own store (an OCI layout shared by every pull).
    Store(PathBuf),
    /// `--output DIR`: an OCI layout.
    Layout(PathBuf),
    /// `--output FILE.tar` or `--format docker-archive`: one docker-archive tarball.
    Archive(PathBuf),
}

pub struct PushPlan {
    pub destination: Reference,
    pub from: PushFrom,
    pub jobs: usize,
    pub chunk_size: Option<u64>,
    /// `--tag`: tags besides the destination's own, in its repository.
    pub tags: Vec<String>,
    pub digest_file: Option<PathBuf>,
    pub json: bool,
    pub config_dir: Option<ConfigDir>,
}

/// What a push uploads, classified once from `--from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushFrom {
    /// An existing path: an OCI layout (with the image `name`, from `DIR:NAME`) or a tarball.
    Path { path: PathBuf, name: Option<String> },
    /// An image in the store, under `--from REF` or else the destination reference.
    Stored {
        reference: Reference,
        store: PathBuf,
    },
}

impl Plan {
    /// The only place arguments meet the environment. `env` is read once by the caller.
    pub fn resolve(cli: Cli, env: Environment) -> anyhow::Result<Plan> {
        let global = &cli.global;
        // No HOME for the config is the same environment mistake as no HOME for the store:
        // the same exit code (2) for both.
        let config_dir = config::resolve_config_dir(global.config.as_deref(), &env)
            .map_err(|e| usage(e.to_string()));
        let mut certs_dirs: Vec<PathBuf> = global.certs_dir.iter().cloned().collect();
        // `$HOME/.docker/certs.d` was never searched: only a directory named on purpose.
        if let Ok(dir) = config_dir.as_ref() {
            if dir.source != ConfigDirSource::Home {
                certs_dirs.push(dir.path.join("certs.d"));
            }
        }
        certs_dirs.push(PathBuf::from(SYSTEM_CERTS_DIR));
        let printer = Printer::new(global.quiet, global.debug);
        let command = match cli.command {
            Command::Login(args) => CommandPlan::Login(login(args, config_dir?)?),
            Command::Logout(args) => CommandPlan::Logout(LogoutPlan {
                registry: server(args.server.as_deref())?,
                config_dir: config_dir?,
            }),
            Command::Pull(args) => CommandPlan::Pull(pull(args, config_dir.ok(), &env)?),
            Command::Push(args) => CommandPlan::Push(push(args, config_dir.ok(), &env)?),
            Command::Copy(args) => CommandPlan::Copy(promote_plan::copy(args, config_dir.ok())?),
            Command::Tag(args) => CommandPlan::Tag(promote_plan::tag(args, config_dir.ok())?),
            Command::Inspect(args) => {
                CommandPlan::Inspect(promote_plan::inspect(args, config_dir.ok())?)
            }
            Command::Tags(args) => CommandPlan::Tags(promote_plan::tags(args, config_dir.ok())?),
            Command::Completions(args) => CommandPlan::Completions(args.shell),
            Command::CompleteServers => CommandPlan::CompleteServers(config_dir.ok()),
        };
        // A mirror registries.conf marks insecure is allowed plain HTTP like `--insecure`.
        let mut insecure = global.insecure.clone();
        if let CommandPlan::Pull(plan) = &command {
            let mirrors = plan.mirrors.iter().filter(|m| m.insecure);
            insecure.extend(mirrors.map(|m| m.reference.registry().to_string()));
        }
        let network = NetworkSettings::new(
            &insecure,
            certs_dirs,
            env.timeout_scale.as_deref(),
            global.quiet,
            global.debug,
        );
        Ok(Plan {
            settings: Settings {
                printer,
                network,
                env,
            },
            command,
        })
    }
}

pub(super) fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

fn server(arg: Option<&str>) -> anyhow::Result<Registry> {
    Registry::parse_server_arg(arg).map_err(|e| usage(e.to_string()))
}

fn reference(arg: &str) -> anyhow::Result<Reference> {
    Reference::parse(arg).map_err(|e| usage(e.to_string()))
}

fn login(args: LoginArgs, config_dir: ConfigDir) -> anyhow::Result<LoginPlan> {
    if args.password.is_some() && args.password_stdin {
        return Err(usage(
            "--password and --password-stdin are mutually exclusive",
        ));
    }
    if args.password_stdin && args.username.is_none() {
        return Err(usage("Must provide --username with --password-stdin"));
    }
    let password = match (args.password, args.password_stdin) {
        (Some(p), _) => PasswordFrom::Flag(Secret::new(p)),
        (None, true) => PasswordFrom::Stdin,
        (None, false) => PasswordFrom::Ask,
    };
    Ok(LoginPlan {
        registry: server(args.server.as_deref())?,
        config_dir,
        username: args.username,
        password,
    })
}

/// The store directory, or a usage error saying what to pass instead.
fn store_dir(flag: Option<&Path>, env: &Environment) -> anyhow::Result<PathBuf> {
    config::store_dir(flag, env).ok_or_else(|| {
        usage("no place for hoist's image store: HOME is not set; pass --store DIR (or --output PATH for pull), or set HOIST_STORE")
    })
}

fn pull(
    args: PullArgs,
    config_dir: Option<ConfigDir>,
    env: &Environment,
) -> anyhow::Result<PullPlan> {
    let reference = reference(&args.reference)?;
    // clap's value parser has checked the form already; this only builds the value.
    let platform =
        PlatformChoice::parse(args.platform.as_deref()).map_err(|e| usage(e.to_string()))?;
    let destination = match &args.output {
        None => Destination::Store(store_dir(args.store.as_deref(), env)?),
        Some(output) => {
            let tar = output.extension().is_some_and(|e| e == "tar");
            match args.format.unwrap_or(match tar {
                true => OutputFormat::DockerArchive,
                false => OutputFormat::Oci,
            }) {
                OutputFormat::Oci => Destination::Layout(output.clone()),
                OutputFormat::DockerArchive => Destination::Archive(output.clone()),
            }
        }
    };
    if matches!(destination, Destination::Archive(_)) && platform == PlatformChoice::All {
        return Err(usage(
            "a docker-archive holds one image: choose one with --platform os/arch, or write an OCI layout (--output DIR) to keep all platforms",
        ));
    }
    if let Some(output) = &args.output {
        check_output(output)?;
    }
    if let Some(file) = &args.result.digest_file {
        check_digest_file(file)?;
    }
    let mirrors = mirrors::resolve(&args.mirror, &reference, env).map_err(usage)?;
    Ok(PullPlan {
        mirrors,
        fetch_foreign: args.foreign_layers == super::args::ForeignLayers::Fetch,
        reference,
        platform,
        destination,
        jobs: args.jobs.unwrap_or(AUTO_JOBS),
        digest_file: args.result.digest_file,
        json: args.result.json,
        config_dir,
    })
}

fn push(
    args: PushArgs,
    config_dir: Option<ConfigDir>,
    env: &Environment,
) -> anyhow::Result<PushPlan> {
    let destination = reference(&args.reference)?;
    let tags = promote_plan::extra_tags(&destination, &args.tags)?;
    if let Some(file) = &args.result.digest_file {
        check_digest_file(file)?;
    }
    let from = push_from(args.from.as_deref(), &destination, || {
        store_dir(args.store.as_deref(), env)
    })?;
    Ok(PushPlan {
        destination,
        from,
        jobs: args.jobs.unwrap_or(AUTO_JOBS),
        chunk_size: args.chunk_size,
        tags,
        digest_file: args.result.digest_file,
        json: args.result.json,
        config_dir,
    })
}

/// `--from` names a path (`PATH` or `DIR:NAME`) when one exists; a missing path-shaped one
/// is an error; otherwise it is a reference in the store. No `--from`: the store's image under the destination reference. The store
/// directory is needed, and so checked, only for the store.
fn push_from(
    from: Option<&str>,
    destination: &Reference,
    store: impl FnOnce() -> anyhow::Result<PathBuf>,
) -> anyhow::Result<PushFrom> {
    if let Some(from) = from {
        if Path::new(from).exists() {
            return Ok(PushFrom::Path {
                path: from.into(),
                name: None,
            });
        }
        if let Some((path, name)) = from.rsplit_once(':') {
            if Path::new(path).is_dir() {
                return Ok(PushFrom::Path {
                    path: path.into(),
                    name: Some(name.to_string()),
                });
            }
        }
    }
    let reference = match from {
        // A user who typed a path wants to hear about the path, not about the store.
        Some(from) if path_shaped(from) => {
            return Err(usage(format!("{from}: no such file or directory")))
        }
        Some(from) => Reference::parse(from).map_err(|e| {
            usage(format!(
                "{from}: no such file or directory, nor an image reference: {e}"
            ))
        })?,
        None => destination.clone(),
    };
    Ok(PushFrom::Stored {
        reference,
        store: store()?,
    })
}

/// A `--from` that can only mean a file: it starts like a path or ends like a tarball.
pub(super) fn path_shaped(from: &str) -> bool {
    const STARTS: [&str; 4] = ["./", "../", "/", "~"];
    const ENDS: [&str; 3] = [".tar", ".tar.gz", ".tgz"];
    matches!(from, "." | "..")
        || STARTS.iter().any(|s| from.starts_with(s))
        || ENDS.iter().any(|e| from.ends_with(e))
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
