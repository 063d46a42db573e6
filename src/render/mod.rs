//! Renderers: plans, reports and doctor's answer as text, JSON and Markdown. Renderers only
//! format; they never decide anything.

pub mod access;
pub mod audit;
pub mod doctor;
pub mod links;
pub mod plan;
pub mod report;

pub use crate::text::visible;

/// `text` in `style` when `color`, else as it is.
fn paint(color: bool, style: anstyle::Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// A unified diff (`export --check`) coloured as plans are: added lines green, removed lines
/// red, hunk headers cyan. Unchanged without `color`.
pub fn unified_diff(diff: &str, color: bool) -> String {
    use anstyle::{AnsiColor, Style};
    if !color {
        return diff.to_string();
    }
    let paint = |style: Style, line: &str| format!("{style}{line}{style:#}");
    let mut out = String::with_capacity(diff.len());
    for line in diff.split_inclusive('\n') {
        let (text, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        let style = if text.starts_with("+++") || text.starts_with("---") {
            Some(Style::new().bold())
        } else if text.starts_with('+') {
            Some(AnsiColor::Green.on_default())
        } else if text.starts_with('-') {
            Some(AnsiColor::Red.on_default())
        } else if text.starts_with("@@") {
            Some(AnsiColor::Cyan.on_default())
        } else {
            None
        };
        match style {
            Some(style) => out.push_str(&paint(style, text)),
            None => out.push_str(text),
        }
        out.push_str(end);
    }
    out
}

/// A storage size in the largest unit that states it exactly with at most three decimals:
/// binary units (`10 GiB`, `1.5 GiB`) first, then decimal ones as the manifest accepts them
/// (`500 MB`, `1.5 KB`), `N bytes` below a kibibyte; otherwise an approximation in binary units (`≈ 9.31 GiB`). Negative means
/// unlimited (the server's `-1`).
pub fn size_human(bytes: i64) -> String {
    const BINARY: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    const DECIMAL: [(&str, u64); 4] = [
        ("TB", 1_000_000_000_000),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("KB", 1_000),
    ];
    let Ok(b) = u64::try_from(bytes) else {
        return "unlimited".into();
    };
    // The largest unit of each kind that states the size with up to three decimals; of the
    // two, the one with fewer decimals (`500 MB`, not `488281.25 KiB`), binary on a tie.
    let binary = BINARY
        .iter()
        .find(|(_, size)| b >= *size && b.checked_mul(1000).is_some_and(|m| m % size == 0))
        .map(|(name, size)| with_decimals(b, *size, name));
    let decimal = DECIMAL
        .iter()
        .find(|(_, size)| b >= *size)
        .filter(|(_, size)| b.checked_mul(1000).is_some_and(|m| m % size == 0))
        .map(|(name, size)| with_decimals(b, *size, name));
    let decimals = |s: &String| {
        s.split(' ')
            .next()
            .and_then(|n| n.split_once('.'))
            .map_or(0, |(_, f)| f.len())
    };
    match (binary, decimal) {
        (Some(bin), Some(dec)) => {
            return if decimals(&dec) < decimals(&bin) {
                dec
            } else {
                bin
            };
        }
        (Some(one), None) | (None, Some(one)) => return one,
        (None, None) => {}
    }
    if b < 1 << 10 {
        return format!("{b} bytes");
    }
    let (name, size) = BINARY
        .iter()
        .find(|(_, size)| b >= *size)
        .copied()
        .unwrap_or(("KiB", 1 << 10));
    format!("≈ {:.2} {name}", b as f64 / size as f64)
}

/// `b / size` with the (at most three) decimals it needs, known to be exact.
fn with_decimals(b: u64, size: u64, name: &str) -> String {
    let whole = b / size;
    let frac = (b % size) * 1000 / size;
    if frac == 0 {
        format!("{whole} {name}")
    } else {
        let frac = format!("{frac:03}");
        format!("{whole}.{} {name}", frac.trim_end_matches('0'))
    }
}

/// Reads back the human quota strings the planner writes (`unlimited`, `10 GiB`,
/// `1500 bytes`), so renderers can restate them with [`size_human`]. `None` for anything else.
pub fn parse_size_human(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("unlimited") {
        return Some(-1);
    }
    let (number, unit) = text.split_once(' ')?;
    let n: u64 = number.parse().ok()?;
    let factor: u64 = match unit {
        "bytes" | "byte" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    i64::try_from(n.checked_mul(factor)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn sizes_read_in_the_unit_that_states_them() {
        assert_eq!(size_human(-1), "unlimited");
        assert_eq!(size_human(10 << 30), "10 GiB");
        assert_eq!(size_human(500_000_000), "500 MB");
        assert_eq!(size_human(1500), "1.5 KB");
        assert_eq!(size_human(42), "42 bytes");
        assert_eq!(size_human(1536 << 20), "1.5 GiB");
        assert_eq!(size_human(1 << 20), "1 MiB");
        assert_eq!(size_human(10_000_000_001), "≈ 9.31 GiB");
        assert_eq!(size_human(0), "0 bytes");
        assert_eq!(parse_size_human("10 GiB"), Some(10 << 30));
        assert_eq!(parse_size_human("500000000 bytes"), Some(500_000_000));
        assert_eq!(parse_size_human("unlimited"), Some(-1));
        assert_eq!(parse_size_human("[a]"), None);
    }

    #[test]
    fn a_diff_is_coloured_only_when_asked() {
        let diff = "--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same\n";
        assert_eq!(unified_diff(diff, false), diff);
        let coloured = unified_diff(diff, true);
        assert!(
            coloured.contains("\u{1b}[32m+new\u{1b}[0m\n"),
            "{coloured:?}"
        );
        assert!(
            coloured.contains("\u{1b}[31m-old\u{1b}[0m\n"),
            "{coloured:?}"
        );
        assert!(coloured.ends_with(" same\n"), "{coloured:?}");
    }

    #[test]
    fn hidden_characters_are_escaped() {
        assert_eq!(visible("a\nb\u{1b}[31m"), "a\\u{a}b\\u{1b}[31m");
        assert_eq!(visible("x\u{202e}y"), "x\\u{202e}y");
        assert!(matches!(visible("Team Ä"), Cow::Borrowed(_)));
    }
}
