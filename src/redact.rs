//! Keeps the API key out of everything this tool prints or stores.
//!
//! The client never formats the key itself, but text that comes back from the portal can
//! contain it: a proxy or a misconfigured server may echo the request's `Authorization` header
//! in an error body, and that message then travels into diagnostics, plans and reports. So the
//! key is registered once, when the settings are resolved, and every writer passes its text
//! through [`scrub`] last: the printer (stdout, stderr, logs) and the client's error messages.
//! Files the tool writes (plans, reports, exports) must call [`scrub`] on their text too.
//!
//! Matching ignores ASCII case (a server may upper-case a header it echoes) and replaces
//! `Bearer <key>` as a whole, so the output reads `Authorization: [REDACTED]`.

use std::borrow::Cow;
use std::sync::RwLock;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not registered: replacing every occurrence of a two-letter
/// string would wreck the output without protecting anything (real keys are `sk-` + 64 hex).
const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers a secret to remove from all output from now on. Idempotent.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s.eq_ignore_ascii_case(secret)) {
        secrets.push(secret.to_string());
        // Longer secrets first, so one that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret (and a `Bearer ` before it) replaced by
/// [`REDACTED`]. Borrows when there is nothing to replace, which is the normal case.
pub fn scrub(text: &str) -> Cow<'_, str> {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    scrub_with(text, &secrets)
}

fn scrub_with<'a>(text: &'a str, secrets: &[String]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets {
        if let Some(replaced) = replace_ignoring_ascii_case(&out, secret) {
            out = Cow::Owned(replaced);
        }
    }
    out
}

/// Replaces `needle` (ASCII case ignored), together with a directly preceding `Bearer `, or
/// returns `None` when it does not occur. ASCII lower-casing keeps byte offsets, so offsets
/// found in the lowered copy are valid in the original.
fn replace_ignoring_ascii_case(text: &str, needle: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let first = lower.find(&needle)?;
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = Some(first);
    while let Some(start) = at {
        let mut cut = start;
        let before = &lower[copied..start];
        if before.ends_with("bearer ") {
            cut = start - "bearer ".len();
        }
        out.push_str(&text[copied..cut]);
        out.push_str(REDACTED);
        copied = start + needle.len();
        at = lower[copied..].find(&needle).map(|i| i + copied);
    }
    out.push_str(&text[copied..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn replaces_the_key_and_bearer_prefix_in_any_ascii_case() {
        let secrets = vec![KEY.to_string()];
        let text = format!(
            "denied: Authorization: Bearer {KEY}; again {} end",
            KEY.to_ascii_uppercase()
        );
        assert_eq!(
            scrub_with(&text, &secrets),
            "denied: Authorization: [REDACTED]; again [REDACTED] end"
        );
        assert!(matches!(
            scrub_with("nothing here", &secrets),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn keeps_non_ascii_text_around_the_key_intact() {
        let secrets = vec![KEY.to_string()];
        let text = format!("Zugriff verweigert für «{KEY}» — ok");
        assert_eq!(
            scrub_with(&text, &secrets),
            "Zugriff verweigert für «[REDACTED]» — ok"
        );
    }

    #[test]
    fn short_secrets_are_not_registered() {
        register("abc");
        assert_eq!(scrub("abc abc"), "abc abc");
    }
}
