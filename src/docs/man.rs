//! Man pages: hoist(1) and one per command, hoist-pull(1) and so on. Each page has the
//! command's own options and the global ones, what it prints and examples (the same words as
//! `--help`), and the sections every page shares: EXIT STATUS, ENVIRONMENT, FILES, SEE ALSO.

use crate::cli::guide::{self, Guide};
use crate::cli::Cli;
use clap::{Command, CommandFactory};
use clap_mangen::roff::{bold, italic, roman, Roff};
use clap_mangen::Man;
use std::path::PathBuf;

const DESCRIPTION: &str = "hoist logs in to container registries, pulls and pushes images, and \
    copies, tags and inspects them in registries, without a Docker daemon. It reads and writes \
    Docker's config.json exactly as the Docker CLI does, runs docker-credential-* helpers, and \
    works as a non-root user on a read-only root filesystem.";

/// `(code, meaning)`, as README's table says.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    ("1", "A registry, authentication or other runtime error."),
    (
        "2",
        "A usage error: bad flags or arguments, a missing --username, no terminal to prompt on.",
    ),
    (
        "129",
        "Hung up (SIGHUP) during pull, push or copy; as for 130.",
    ),
    (
        "130",
        "Interrupted (Ctrl-C, SIGINT) during pull, push or copy. Nothing is half-written where an \
         image lives; running the same command again reuses the finished blobs and resumes the \
         partial ones.",
    ),
    (
        "143",
        "Terminated (SIGTERM) during pull, push or copy; as for 130.",
    ),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "DOCKER_CONFIG",
        "The directory holding config.json, when --config is not given (default: $HOME/.docker).",
    ),
    (
        "DOCKER_AUTH_CONFIG",
        "A whole config.json as JSON, layered over the file (CI jobs with no file at all).",
    ),
    (
        "REGISTRY_AUTH_FILE",
        "podman's and skopeo's auth.json: the last place pull and push look for credentials \
         (default: $XDG_RUNTIME_DIR/containers/auth.json).",
    ),
    ("HOIST_STORE", "The image store, when --store is not given."),
    (
        "XDG_DATA_HOME",
        "The store is $XDG_DATA_HOME/hoist when HOIST_STORE is not set.",
    ),
    (
        "XDG_RUNTIME_DIR",
        "Where podman's auth.json is looked for when REGISTRY_AUTH_FILE is not set.",
    ),
    (
        "HOME",
        "For $HOME/.docker, the legacy ~/.dockercfg and the store ~/.local/share/hoist; \
         needed only when nothing above says otherwise.",
    ),
    (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "Certificate authorities to trust besides the system's: a PEM file, a directory.",
    ),
    (
        "HTTPS_PROXY, HTTP_PROXY, NO_PROXY",
        "The proxy for HTTPS and for plain HTTP registries, and the hosts reached directly.",
    ),
    ("PATH", "Where docker-credential-NAME helpers are found."),
];

const FILES: &[(&str, &str)] = &[
    (
        "$DOCKER_CONFIG/config.json",
        "Credentials, credsStore and credHelpers, as the Docker CLI keeps them (default: \
         ~/.docker/config.json). login and logout rewrite it through a temp file beside it.",
    ),
    (
        "~/.dockercfg",
        "The legacy format, read when there is no config.json.",
    ),
    (
        "$XDG_RUNTIME_DIR/containers/auth.json",
        "podman's credentials, read by pull and push.",
    ),
    (
        "certs.d/HOST[:PORT]/",
        "Under --certs-dir, $DOCKER_CONFIG and /etc/docker: *.crt are certificate \
         authorities for that registry, NAME.cert with NAME.key a client certificate.",
    ),
    (
        "$HOIST_STORE, $XDG_DATA_HOME/hoist, ~/.local/share/hoist",
        "The store, an OCI image layout. Its .hoist/partial/ keeps unfinished downloads for the \
         next run, .hoist/locations.json where each blob came from.",
    ),
];

/// `man/hoist.1` and `man/hoist-COMMAND.1`.
pub fn pages() -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut hoist = Cli::command();
    // Copies the global options into every command, for their pages.
    hoist.build();
    let commands: Vec<&Command> = hoist
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .collect();
    let names: Vec<String> = std::iter::once("hoist".to_string())
        .chain(commands.iter().map(|c| format!("hoist-{}", c.get_name())))
        .collect();
    let mut pages = vec![(
        PathBuf::from("man/hoist.1"),
        page(hoist.clone(), "hoist", &guide::HOIST, &names)?,
    )];
    for command in commands {
        let name = format!("hoist-{}", command.get_name());
        let usage = format!("hoist {}", command.get_name());
        let guide = guide::of(command.get_name()).expect("every command has a guide");
        let command = command.clone().display_name(&name).bin_name(usage);
        let contents = page(command, &name, guide, &names)?;
        pages.push((PathBuf::from("man").join(format!("{name}.1")), contents));
    }
    Ok(pages)
}

fn page(command: Command, name: &str, guide: &Guide, pages: &[String]) -> std::io::Result<Vec<u8>> {
    let source = format!("hoist {}", env!("CARGO_PKG_VERSION"));
    let man = Man::new(command.clone()).title(name).source(source);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    let mut roff = Roff::new();
    roff.control("SH", ["DESCRIPTION"]);
    roff.text([roman(
        command
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default(),
    )]);
    if name == "hoist" {
        roff.control("PP", []);
        roff.text([roman(DESCRIPTION)]);
    }
    out.extend(roff.render().into_bytes());
    man.render_options_section(&mut out)?;
    let mut roff = Roff::new();
    if name == "hoist" {
        commands_section(&mut roff, &command);
    }
    if !guide.output.is_empty() {
        definitions(&mut roff, "OUTPUT", guide.output);
    }
    roff.control("SH", ["EXAMPLES"]);
    roff.control("nf", []);
    for line in guide::columns(guide.examples, "# ") {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
    definitions(&mut roff, "EXIT STATUS", EXIT_STATUS);
    definitions(&mut roff, "ENVIRONMENT", ENVIRONMENT);
    definitions(&mut roff, "FILES", FILES);
    roff.control("SH", ["SEE ALSO"]);
    let see_also: Vec<String> = pages
        .iter()
        .filter(|p| *p != name)
        .map(|p| format!("{p}(1)"))
        .chain(["docker-login(1)".to_string(), "skopeo-copy(1)".to_string()])
        .collect();
    roff.text([roman(see_also.join(", "))]);
    out.extend(roff.render().into_bytes());
    Ok(out)
}

fn commands_section(roff: &mut Roff, hoist: &Command) {
    roff.control("SH", ["COMMANDS"]);
    for command in hoist
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
    {
        roff.control("TP", []);
        roff.text([
            bold(format!("hoist {}", command.get_name())),
            roman(" ("),
            italic(format!("hoist-{}", command.get_name())),
            roman("(1))"),
        ]);
        let about = command
            .get_about()
            .map(|a| a.to_string())
            .unwrap_or_default();
        roff.text([roman(about)]);
    }
}

/// A section of `.TP` entries: the term in bold, its meaning below.
fn definitions(roff: &mut Roff, heading: &str, entries: &[(&str, &str)]) {
    roff.control("SH", [heading]);
    for (term, meaning) in entries {
        roff.control("TP", []);
        roff.text([bold(*term)]);
        roff.text([roman(*meaning)]);
    }
}
