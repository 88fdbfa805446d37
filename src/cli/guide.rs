//! What each command's help says after its options, shared with the man pages: what it prints
//! (and what `--quiet` leaves), and examples whose comments line up. Text only: no parsing.

/// The heading of the options every command takes.
pub const GLOBAL: &str = "Global options";

pub struct Guide {
    /// `(stream, what it carries)`.
    pub output: &'static [(&'static str, &'static str)],
    /// `(command line, comment)`; an empty comment is left out.
    pub examples: &'static [(&'static str, &'static str)],
}

impl Guide {
    pub fn after_help(&self) -> String {
        let mut text = String::new();
        if !self.output.is_empty() {
            text.push_str("Output:\n");
            for line in columns(self.output, "") {
                text.push_str(&format!("  {line}\n"));
            }
            text.push('\n');
        }
        text.push_str("Examples:\n");
        for line in columns(self.examples, "# ") {
            text.push_str(&format!("  {line}\n"));
        }
        text.trim_end().to_string()
    }
}

/// Rows as two columns, the second starting at one place (after `mark`).
pub fn columns(rows: &[(&str, &str)], mark: &str) -> Vec<String> {
    let width = rows
        .iter()
        .filter(|(_, right)| !right.is_empty())
        .map(|(left, _)| left.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(left, right)| match right.is_empty() {
            true => left.to_string(),
            false => format!("{left:width$}  {mark}{right}"),
        })
        .collect()
}

/// The guide of a subcommand, by name; the top-level command's is [`HOIST`].
pub fn of(command: &str) -> Option<&'static Guide> {
    Some(match command {
        "login" => &LOGIN,
        "logout" => &LOGOUT,
        "pull" => &PULL,
        "push" => &PUSH,
        "copy" => &COPY,
        "tag" => &TAG,
        "inspect" => &INSPECT,
        "tags" => &TAGS,
        "completions" => &COMPLETIONS,
        _ => return None,
    })
}

const TRANSFER_STDERR: &str =
    "progress (bars on a terminal, else a line per blob); --quiet hides it";

pub const HOIST: Guide = Guide {
    output: &[],
    examples: &[
        (
            "echo \"$TOKEN\" | hoist login -u ci --password-stdin reg.example.com",
            "",
        ),
        ("hoist pull alpine:3.19 --output ./alpine", ""),
        (
            "hoist push reg.example.com/team/app:1.0 --from ./image.tar",
            "",
        ),
    ],
};

pub const LOGIN: Guide = Guide {
    output: &[
        (
            "stdout",
            "\"Login Succeeded\"; nothing with --quiet (the exit status tells): no digest",
        ),
        ("stderr", "prompts, warnings, errors"),
    ],
    examples: &[
        (
            "echo \"$TOKEN\" | hoist login -u ci --password-stdin reg.example.com",
            "CI: token on stdin",
        ),
        ("hoist login reg.example.com", "prompts for the rest"),
        ("hoist login -u NAME", "Docker Hub"),
    ],
};

pub const LOGOUT: Guide = Guide {
    output: &[
        (
            "stdout",
            "\"Removing login credentials for HOST\" or \"Not logged in to HOST\"; nothing with --quiet",
        ),
        ("stderr", "warnings, errors"),
    ],
    examples: &[
        ("hoist logout reg.example.com", "forget reg.example.com"),
        ("hoist logout", "Docker Hub"),
    ],
};

pub const PULL: Guide = Guide {
    output: &[
        (
            "stdout",
            "the manifest digest, or with --json one JSON object; the same with --quiet",
        ),
        ("stderr", TRANSFER_STDERR),
    ],
    examples: &[
        ("hoist pull alpine:3.19", "into hoist's store"),
        (
            "hoist pull reg.example.com/app:1.0 -o ./app",
            "an OCI layout",
        ),
        (
            "hoist pull reg.example.com/app:1.0 -o app.tar -q > digest.txt",
            "a docker-archive",
        ),
        (
            "hoist pull reg.example.com/app:1.0 --platform linux/arm64",
            "one platform",
        ),
    ],
};

pub const PUSH: Guide = Guide {
    output: &[
        (
            "stdout",
            "the manifest digest, or with --json one JSON object; the same with --quiet",
        ),
        ("stderr", TRANSFER_STDERR),
    ],
    examples: &[
        (
            "hoist push reg.example.com/app:1.0 --from ./app.tar",
            "a docker-archive or OCI archive",
        ),
        (
            "hoist push reg.example.com/app:1.0 --from ./layout:app",
            "image \"app\" of an OCI layout",
        ),
        ("hoist push reg.example.com/app:1.0", "from hoist's store"),
        (
            "hoist pull reg/a:1 && hoist push reg/b:1 --from reg/a:1",
            "a copy through the store",
        ),
    ],
};

pub const COPY: Guide = Guide {
    output: &[
        (
            "stdout",
            "the manifest digest, or with --json one JSON object; the same with --quiet",
        ),
        ("stderr", TRANSFER_STDERR),
    ],
    examples: &[
        (
            "hoist copy stage.example/app:1.4 prod.example/app:1.4 -t stable",
            "promote",
        ),
        (
            "hoist cp reg.example/app:1 reg.example/archive/app:1",
            "mounts",
        ),
        (
            "hoist copy reg/app:1 other/app:1 --platform linux/arm64",
            "one platform",
        ),
        (
            "hoist copy reg/app:1 other/app:1 --referrers",
            "and signatures",
        ),
    ],
};

pub const TAG: Guide = Guide {
    output: &[
        ("stdout", "the manifest digest; the same with --quiet"),
        ("stderr", "a line per tag added; --quiet hides it"),
    ],
    examples: &[
        (
            "hoist tag reg.example.com/app:1.4.2 stable latest",
            "add :stable and :latest",
        ),
        (
            "hoist tag reg.example.com/app@$DIGEST 1.4.2",
            "tag a digest",
        ),
    ],
};

pub const INSPECT: Guide = Guide {
    output: &[
        (
            "stdout",
            "text for a person, or what --format, --raw or --json ask for; the same with --quiet",
        ),
        ("stderr", "notes and errors"),
    ],
    examples: &[
        ("hoist inspect alpine:3.19", "digest, platforms"),
        (
            "hoist inspect reg.example.com/app:1 --format digest",
            "the digest alone",
        ),
        (
            "hoist inspect alpine:3.19 --platform linux/arm64 --json",
            "one platform's image",
        ),
        (
            "hoist inspect ./app.tar --format config",
            "a local archive's config",
        ),
        (
            "hoist inspect reg.example.com/app:1 --raw | jq .",
            "the manifest",
        ),
    ],
};

pub const TAGS: Guide = Guide {
    output: &[
        (
            "stdout",
            "one tag a line, or with --json one JSON object; the same with --quiet",
        ),
        ("stderr", "errors"),
    ],
    examples: &[
        ("hoist tags reg.example.com/team/app", "every tag"),
        ("hoist tags alpine --json | jq -r '.tags[]'", "as JSON"),
    ],
};

pub const COMPLETIONS: Guide = Guide {
    output: &[("stdout", "the script, with or without --quiet")],
    examples: &[
        ("source <(hoist completions bash)", "bash, this shell only"),
        (
            "hoist completions zsh > ~/.zfunc/_hoist",
            "zsh, with ~/.zfunc in fpath",
        ),
        (
            "hoist completions fish > ~/.config/fish/completions/hoist.fish",
            "fish",
        ),
    ],
};
