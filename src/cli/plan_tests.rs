//! Unit tests of the plan: what each command's arguments and environment resolve to.
use super::*;
use clap::Parser;

fn env_with_home() -> Environment {
    Environment {
        home: Some("/home/u".into()),
        ..Environment::default()
    }
}

fn plan(args: &[&str], env: Environment) -> anyhow::Result<CommandPlan> {
    let cli = Cli::try_parse_from(std::iter::once("hoist").chain(args.iter().copied()))?;
    Ok(Plan::resolve(cli, env)?.command)
}

fn is_usage(result: anyhow::Result<CommandPlan>) -> bool {
    result.is_err_and(|e| e.chain().any(|c| c.is::<UsageError>()))
}

#[test]
fn pull_destination_follows_output_and_format() {
    let Ok(CommandPlan::Pull(p)) = plan(&["pull", "alpine"], env_with_home()) else {
        panic!("no pull plan")
    };
    assert_eq!(
        p.destination,
        Destination::Store("/home/u/.local/share/hoist".into())
    );
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let tar = out("a.tar");
    let Ok(CommandPlan::Pull(p)) = plan(&["pull", "alpine", "-o", &tar], env_with_home()) else {
        panic!("no pull plan")
    };
    assert_eq!(p.destination, Destination::Archive(tar.clone().into()));
    let layout = out("layout.tar");
    let args = ["pull", "alpine", "-o", &layout, "--format", "oci"];
    let Ok(CommandPlan::Pull(p)) = plan(&args, env_with_home()) else {
        panic!("no pull plan")
    };
    assert_eq!(p.destination, Destination::Layout(layout.into()));
}

/// Every usage error is found before any work: a bad reference, no store, an archive of all
/// platforms, an --output or --digest-file that cannot be written.
#[test]
fn pull_usage_errors_come_from_the_plan() {
    assert!(is_usage(plan(&["pull", "a//b:tag"], env_with_home())));
    assert!(is_usage(plan(&["pull", "alpine"], Environment::default())));
    let args = ["pull", "alpine", "-o", "x.tar", "--platform", "all"];
    assert!(is_usage(plan(&args, env_with_home())));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let under_file = file.join("out").to_str().unwrap().to_string();
    let args = ["pull", "alpine", "-o", &under_file];
    assert!(is_usage(plan(&args, env_with_home())));
    let args = ["pull", "alpine", "--digest-file", &under_file];
    assert!(is_usage(plan(&args, env_with_home())));
}

/// `--from` is sorted once: an existing path, a layout directory with `:NAME`, else a
/// reference in the store, which alone needs a store directory.
#[test]
fn push_from_is_classified_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let Ok(CommandPlan::Push(p)) =
        plan(&["push", "reg/a:1", "--from", path], Environment::default())
    else {
        panic!("no push plan")
    };
    let expected = PushFrom::Path {
        path: path.into(),
        name: None,
    };
    assert_eq!(p.from, expected);
    let named = format!("{path}:app");
    let Ok(CommandPlan::Push(p)) = plan(
        &["push", "reg/a:1", "--from", &named],
        Environment::default(),
    ) else {
        panic!("no push plan")
    };
    let expected = PushFrom::Path {
        path: path.into(),
        name: Some("app".into()),
    };
    assert_eq!(p.from, expected);
    let Ok(CommandPlan::Push(p)) = plan(&["push", "reg/b:1", "--from", "reg/a:1"], env_with_home())
    else {
        panic!("no push plan")
    };
    let PushFrom::Stored { reference, store } = p.from else {
        panic!("not from the store")
    };
    assert_eq!(reference.original(), "reg/a:1");
    assert_eq!(store, PathBuf::from("/home/u/.local/share/hoist"));
    assert!(is_usage(plan(
        &["push", "reg/a:1", "--from", "Not A Ref"],
        env_with_home()
    )));
    assert!(is_usage(plan(&["push", "reg/a:1"], Environment::default())));
}

/// A missing `--from` that can only be a path says so, rather than sending the user to the store.
#[test]
fn a_missing_path_shaped_from_is_a_missing_file() {
    for from in [
        "./missing",
        "../no-such-dir-for-hoist/x",
        "/nope/x",
        "~/img",
        "missing.tar",
        "a.tar.gz",
        "b.tgz",
    ] {
        let err = plan(&["push", "reg/a:1", "--from", from], env_with_home())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!("{from}: no such file or directory")
        );
    }
    let err = plan(&["push", "reg/a:1", "--from", "Not A Ref"], env_with_home())
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .starts_with("Not A Ref: no such file or directory, nor an image reference"),
        "{err}"
    );
}

#[test]
fn login_flags_are_checked_in_the_plan() {
    let args = ["login", "-u", "u", "-p", "pw", "--password-stdin"];
    assert!(is_usage(plan(&args, env_with_home())));
    assert!(is_usage(plan(
        &["login", "--password-stdin"],
        env_with_home()
    )));
    let Ok(CommandPlan::Login(p)) =
        plan(&["login", "-u", "u", "--password-stdin"], env_with_home())
    else {
        panic!("no login plan")
    };
    assert!(matches!(p.password, PasswordFrom::Stdin));
    assert_eq!(p.config_dir.path, PathBuf::from("/home/u/.docker"));
    // No config directory: login and logout cannot work, completion quietly offers nothing.
    assert!(plan(&["logout"], Environment::default()).is_err());
    assert!(matches!(
        plan(&["__complete-servers"], Environment::default()),
        Ok(CommandPlan::CompleteServers(None))
    ));
}
