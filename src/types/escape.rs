//! Text from the wire (a registry's error messages, header values, a helper's output, bytes
//! quoted from a file) made safe for a terminal: control characters are shown escaped, so a
//! server can neither clear the screen nor forge a line such as `Login Succeeded`.

use std::borrow::Cow;
use std::fmt::Write;

/// Escapes C0 controls (ESC and newline among them), DEL and C1 controls (U+0080–U+009F,
/// CSI among them) as `\n`, `\r`, `\t`, `\x1b` or `\u{9b}`; a backslash that starts such a
/// sequence stays as it is. Every other character, any script or emoji, is kept.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_other_text_kept() {
        assert!(matches!(
            escape_control("blob unknown: ünïcödé ✓"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_control("\x1b[2J\nLogin Succeeded\r\t\x07\x7f\u{9b}31m"),
            "\\x1b[2J\\nLogin Succeeded\\r\\t\\x07\\x7f\\u{9b}31m"
        );
        assert_eq!(escape_control("a\0b"), "a\\x00b");
    }
}
