//! While bars are drawn, the terminal does not echo `^C`. indicatif keeps the cursor at the
//! right edge of its last line, so an echoed `^C` wraps onto a line the bars do not know of,
//! and wiping them after Ctrl-C then misses their top line: a stale half bar stays above the
//! summary. Only the echo of control characters (`ECHOCTL`) is turned off, only while bars are
//! live and hoist is in the terminal's foreground, and it is turned back on when they go (a
//! shell also restores its terminal after a job killed outright).

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether hoist turned `ECHOCTL` off, so it is turned on again only then.
static TURNED_OFF: AtomicBool = AtomicBool::new(false);

const FD: libc::c_int = libc::STDERR_FILENO;

/// Stops `^C` from being echoed on stderr's terminal.
pub fn hide_control_chars() {
    // SAFETY: plain calls on a file descriptor hoist holds for its whole life, with a termios
    // value filled by tcgetattr before it is read.
    unsafe {
        // From the background, tcsetattr would stop hoist with SIGTTOU.
        if libc::isatty(FD) != 1 || libc::tcgetpgrp(FD) != libc::getpgrp() {
            return;
        }
        let mut term: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(FD, &mut term) != 0 || term.c_lflag & libc::ECHOCTL == 0 {
            return;
        }
        term.c_lflag &= !libc::ECHOCTL;
        if libc::tcsetattr(FD, libc::TCSANOW, &term) == 0 {
            TURNED_OFF.store(true, Ordering::SeqCst);
        }
    }
}

/// Echoes `^C` again, if [`hide_control_chars`] stopped it; nothing else is touched.
pub fn restore_control_chars() {
    if !TURNED_OFF.swap(false, Ordering::SeqCst) {
        return;
    }
    // SAFETY: as above.
    unsafe {
        let mut term: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(FD, &mut term) == 0 {
            term.c_lflag |= libc::ECHOCTL;
            libc::tcsetattr(FD, libc::TCSANOW, &term);
        }
    }
}
