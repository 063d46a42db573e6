//! Small text helpers on the ground floor, used by every layer that shows outside text: the
//! HTTP client's error messages, the renderers and the printer (so that `docspace/` never
//! reaches up into `render/` or the printer).

use std::borrow::Cow;

/// `text` with characters that would act on a terminal or a Markdown page instead of being
/// shown (controls such as ESC, BEL and newlines; bidirectional overrides that reorder what
/// follows) written as `\u{..}` escapes. Titles and names come from the manifest and the
/// portal, so either can hold them.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Whether `cause` only repeats what `shown` already says, ignoring case and an `(os error N)`
/// suffix: "connection refused" after "cannot connect: connection refused" adds nothing.
pub fn repeats(shown: &str, cause: &str) -> bool {
    let cause = strip_os_error(cause.trim()).trim().to_lowercase();
    if cause.is_empty() {
        return true;
    }
    let shown = shown.to_lowercase();
    shown.contains(&cause) || strip_os_error(&shown).trim().ends_with(&cause)
}

/// `text` without a trailing `(os error N)`, which std adds to I/O errors.
fn strip_os_error(text: &str) -> &str {
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => &text[..i],
        _ => text,
    }
}

/// `n` with the noun in the right number: `count(1, "room", "rooms")` is "1 room".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
