//! hoist on a real terminal: tmux runs it in a pane, the test reads the screen back with
//! `capture-pane`. The bars, the overall line and what Ctrl-C leaves behind are what a person
//! sees, so they are checked on the screen itself, not in a pipe.
//!
//! No sleeps as synchronisation: the screen is polled until a pattern appears, with a deadline.
//! Needs tmux (`apt-get install -y tmux`).

use crate::runs::hold_blob_after;
use crate::support::images::ImageSpec;
use crate::support::scenario::Scenario;
use crate::support::tools::stdout;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const WIDTH: usize = 120;

/// One tmux server (its own socket) running one hoist command in its only pane.
struct Screen {
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Screen {
    /// Runs `cmd` (with exactly its environment) in a fresh pane. The shell around it survives
    /// Ctrl-C and prints `[exit N]` when hoist ends, then the terminal's `echoctl` setting, and
    /// keeps the pane open for reading.
    fn run(cmd: &Command) -> Screen {
        let dir = tempfile::TempDir::new().unwrap();
        let socket = dir.path().join("tmux.sock");
        let mut words = vec!["env".to_string(), "-i".into(), "TERM=screen".into()];
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                words.push(format!("{}={}", k.to_str().unwrap(), v.to_str().unwrap()));
            }
        }
        words.push(cmd.get_program().to_str().unwrap().into());
        words.extend(cmd.get_args().map(|a| a.to_str().unwrap().to_string()));
        let line: Vec<String> = words.iter().map(|w| quote(w)).collect();
        let script = format!(
            "trap : INT; {}; echo \"[exit $?]\"; stty -a | grep -o -- '-*echoctl'; exec sleep 600",
            line.join(" ")
        );
        let screen = Screen { socket, _dir: dir };
        let status = screen
            .tmux()
            .args(["new-session", "-d", "-x", &WIDTH.to_string(), "-y", "40"])
            .args(["sh", "-c", &script])
            .status()
            .expect("tmux runs (apt-get install -y tmux)");
        assert!(status.success(), "tmux new-session failed");
        screen
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .stdin(Stdio::null());
        c
    }

    /// The whole pane, scrollback included, wrapped lines joined, trailing blanks dropped.
    fn capture(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-J", "-S", "-"])
            .output()
            .unwrap();
        assert!(out.status.success(), "capture-pane failed");
        stdout(&out)
            .lines()
            .map(|l| l.trim_end().to_string() + "\n")
            .collect()
    }

    /// Polls the screen until `found` holds; panics with the screen after a minute.
    fn wait_for(&self, what: &str, found: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.capture();
            if found(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {what} on the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for hoist to end; returns its exit code and the final screen (recorded for the
    /// suite's secrets check like every other hoist output).
    fn wait_for_exit(&self) -> (i32, String) {
        let screen = self.wait_for("hoist ending", |s| s.contains("echoctl"));
        crate::support::secrets_log::record_output(&Output {
            status: std::process::ExitStatus::from_raw(0),
            stdout: screen.clone().into_bytes(),
            stderr: vec![],
        });
        let code = screen
            .split("[exit ")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(-1);
        (code, screen)
    }

    fn press_ctrl_c(&self) {
        let status = self.tmux().args(["send-keys", "C-c"]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self
            .tmux()
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}

fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The overall line's fields, `(done, total, rate)`: `2/4 blobs  1.0 MiB / 3.0 MiB  …/s`.
fn overall_line(screen: &str) -> Option<(String, String, String)> {
    screen.lines().rev().find_map(|line| {
        let (_, rest) = line.split_once(" blobs  ")?;
        let mut fields = rest.split("  ");
        let (done, total) = fields.next()?.split_once(" / ")?;
        let rate = fields.next().filter(|r| r.ends_with("/s"))?;
        Some((done.into(), total.into(), rate.into()))
    })
}

/// Lines an unfinished bar leaves behind: a bar body or the overall line.
fn bar_remnants(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.contains("[=") || l.contains("[>") || l.contains(" blobs  "))
        .collect()
}

#[test]
fn overall_line_shows_bytes_rate_and_ctrl_c_clears_the_bars() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed(
        "app/tty:1",
        ImageSpec::new(500).layers(&[4096, 64 * 1024, 1 << 20]),
    );
    let last = image.manifests[0].layers[2].blob.digest.clone();
    hold_blob_after(proxy, &last, 256 * 1024);
    let env = &sc.env;
    let store = &sc.store;
    let mut cmd = env.hoist();
    cmd.args(["pull", &sc.reference("app/tty:1")]).args([
        "--jobs",
        "1",
        "--store",
        store.to_str().unwrap(),
    ]);
    let screen = Screen::run(&cmd);

    let manifest = &image.manifests[0];
    let sizes: Vec<u64> = std::iter::once(manifest.config.size)
        .chain(manifest.layers.iter().map(|l| l.blob.size))
        .collect();
    let kib = |n: u64| format!("{:.1} KiB", n as f64 / 1024.0);
    // Three blobs done and the fourth held after 256 KiB: exactly that much is done.
    let done = kib(sizes[..3].iter().sum::<u64>() + 256 * 1024);
    let total = format!("{:.1} MiB", sizes.iter().sum::<u64>() as f64 / 1048576.0);
    let shown = screen.wait_for("the overall line with bytes and a rate", |s| {
        overall_line(s).is_some_and(|(d, t, _)| d == done && t == total)
    });
    let line = shown
        .lines()
        .rev()
        .find(|l| l.contains(" blobs  "))
        .unwrap();
    assert!(line.contains(" 3/4 blobs  "), "{shown}");
    let (_, _, rate) = overall_line(&shown).unwrap();
    assert!(rate.chars().next().unwrap().is_ascii_digit(), "{shown}");
    // The time left comes with any rate but a stalled one.
    assert_eq!(line.contains("  ETA "), rate != "0 B/s", "{shown}");

    screen.press_ctrl_c();
    let (code, end) = screen.wait_for_exit();
    assert_eq!(code, 130, "{end}");
    let (above, _) = end
        .split_once("interrupted:")
        .unwrap_or_else(|| panic!("no summary:\n{end}"));
    assert_eq!(bar_remnants(above), Vec::<&str>::new(), "{end}");
    // The terminal echoes control characters again once hoist is gone.
    assert!(end.lines().any(|l| l == "echoctl"), "{end}");
}

/// A resumed pull's rate counts only what moves in this run: with 4 MiB kept from the first
/// run and 64 KiB moved since, no rate may reach MiB/s (one once showed 126 MiB/s on an
/// 8 MiB/s link). The finished line then reads `Pulled SIZE (resumed at OFFSET)`.
#[test]
fn resumed_pull_rates_only_the_bytes_it_moves() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed("app/tty-resume:1", ImageSpec::new(501).layers(&[6 << 20]));
    let layer = image.manifests[0].layers[0].blob.digest.clone();
    let env = &sc.env;
    let store = &sc.store;
    let reference = sc.reference("app/tty-resume:1");
    let mut cmd = env.hoist();
    cmd.args(["pull", &reference, "--store", store.to_str().unwrap()]);

    hold_blob_after(proxy, &layer, 4 << 20);
    let first = Screen::run(&cmd);
    // Held once the bytes before the hold are on their way to disk, not merely sent.
    first.wait_for("4 MiB of the layer arrived", |s| s.contains("] 4.0 MiB / "));
    first.press_ctrl_c();
    assert_eq!(first.wait_for_exit().0, 130);

    hold_blob_after(proxy, &layer, 64 * 1024);
    let second = Screen::run(&cmd);
    // The bars may be drawn before the resume is known: wait for the kept bytes to count as
    // done (if they never do, the wait fails), then look at the rate.
    let shown = second.wait_for("the kept bytes done, and rates on both lines", |s| {
        overall_line(s).is_some_and(|(done, _, _)| done.ends_with(" MiB"))
            && s.lines().any(|l| l.contains("] ") && l.contains("/s"))
    });
    let (_, _, rate) = overall_line(&shown).unwrap();
    assert!(
        rate.ends_with(" B/s") || rate.ends_with(" KiB/s"),
        "{shown}"
    );
    assert!(!shown.contains("MiB/s"), "{shown}");
    second.press_ctrl_c();
    assert_eq!(second.wait_for_exit().0, 130);

    // Once more without a fault, in a pipe: one plain line per blob.
    let out = crate::support::tools::run_ok(&mut cmd, None);
    let err = String::from_utf8_lossy(&out.stderr);
    let short = &layer.trim_start_matches("sha256:")[..12];
    let line = err
        .lines()
        .find(|l| l.starts_with(short))
        .unwrap_or_else(|| panic!("no line for the layer: {err}"));
    let size = format!(
        "{:.1} MiB",
        image.manifests[0].layers[0].blob.size as f64 / 1048576.0
    );
    // Where it resumed is wherever the interrupted runs' writes had got to.
    let resumed = line
        .strip_prefix(&format!("{short}: Pulled {size} (resumed at "))
        .and_then(|rest| rest.strip_suffix(" MiB)"))
        .unwrap_or_else(|| panic!("{line}"));
    assert!(resumed.parse::<f64>().is_ok(), "{line}");
}

/// Lines printed while bars are live (here `--debug`'s request log; a status or a warning
/// goes the same way) land above the bars, whole, and the bars stay below them intact.
#[test]
fn lines_printed_during_a_transfer_go_above_the_bars() {
    let sc = Scenario::open();
    let proxy = &sc.proxy;
    let image = sc.seed(
        "app/tty-debug:1",
        ImageSpec::new(502).layers(&[4096, 512 * 1024]),
    );
    let last = image.manifests[0].layers[1].blob.digest.clone();
    hold_blob_after(proxy, &last, 64 * 1024);
    let env = &sc.env;
    let store = &sc.store;
    let mut cmd = env.hoist();
    cmd.args(["--debug", "pull", &sc.reference("app/tty-debug:1")])
        .args(["--jobs", "1", "--store", store.to_str().unwrap()]);
    let screen = Screen::run(&cmd);
    let held_get = format!("/blobs/{last} -> 200");
    let shown = screen.wait_for("the held blob's request logged, under live bars", |s| {
        s.contains(&held_get) && overall_line(s).is_some()
    });
    let lines: Vec<&str> = shown.lines().filter(|l| !l.trim().is_empty()).collect();
    let logged: Vec<&&str> = lines.iter().filter(|l| l.contains("debug: ")).collect();
    assert!(logged.iter().all(|l| l.starts_with("debug: ")), "{shown}");
    assert_eq!(
        logged.iter().filter(|l| l.contains(&held_get)).count(),
        1,
        "{shown}"
    );
    // The bars are the last lines: the blob's bar, then the overall line.
    let n = lines.len();
    assert!(lines[n - 2].contains("] "), "{shown}");
    assert!(lines[n - 1].contains(" blobs  "), "{shown}");
    screen.press_ctrl_c();
    assert_eq!(screen.wait_for_exit().0, 130);
}
