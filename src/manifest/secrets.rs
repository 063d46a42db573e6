//! Keys that hold or may hold a secret, and the manifest text as diagnostics show it: with
//! the values of such keys masked.
//!
//! Diagnostics end up in terminals and CI logs, and a snippet shows the lines around the
//! problem, so a `password:` line next to an unrelated mistake would be printed. Masking is
//! done once, on the text every snippet is cut from ([`super::source::SourceFile`] hands
//! miette the masked text), not per error: no diagnostic can show what it does not have.
//!
//! Masking works on the text, not on the parsed tree, because a file that does not parse
//! has no tree and its syntax error still shows a snippet. It errs on the side of hiding:
//! a secret-looking key (in a block mapping, a flow mapping, a comment, or JSON) has the
//! rest of its line masked, and the lines below it that are indented deeper (a block scalar
//! or a continued value). Every masked byte becomes `*`, so offsets, line numbers and the
//! labels of every diagnostic stay where they were.

use std::collections::HashMap;
use std::ops::Range;

/// What a masked byte becomes.
const MASK: u8 = b'*';

/// Words that name a secret on their own (compared lower-cased, as whole words of a key).
const SECRET_WORDS: &[&str] = &[
    "pw",
    "pwd",
    "psw",
    "pswd",
    "pass",
    "passwd",
    "passcode",
    "passphrase",
    "key",
    "keys",
    "apikey",
    "secret",
    "secrets",
    "token",
    "tokens",
    "auth",
    "bearer",
    "jwt",
    "otp",
    "totp",
    "cred",
    "creds",
    "credential",
    "credentials",
    "kennwort",
    "senha",
    "contrasena",
    "contraseña",
    "пароль",
    "haslo",
    "hasło",
    "wachtwoord",
    "salasana",
    "lösenord",
];

/// Whether a key (known or not) holds or may hold a secret: `password`, `password_env`,
/// `api_token`, `Secret`, and misspellings such as `pasword` or `passowrd_env`.
pub fn looks_secret(key: &str) -> bool {
    let words = words(key);
    let joined: String = words.concat();
    words.iter().any(|w| word_is_secret(w))
        || [
            "passw",
            "secret",
            "token",
            "apikey",
            "credential",
            "passphrase",
        ]
        .iter()
        .any(|s| joined.contains(s))
}

/// Whether a key not in the schema is most likely a misspelt `password_env` (`pasword_env`,
/// `Password_Env`, `passwordEnv`, `password_variable`): suggest the real key, never the value.
pub fn looks_like_password_env(key: &str) -> bool {
    let words = words(key);
    let joined: String = words.concat();
    let names_variable = |w: &String| matches!(w.as_str(), "env" | "envs" | "var" | "variable");
    (words.iter().any(names_variable)
        && words
            .iter()
            .filter(|w| !names_variable(w))
            .any(|w| word_is_secret(w)))
        || strsim::osa_distance(&joined, "passwordenv") <= 2
}

fn word_is_secret(w: &str) -> bool {
    SECRET_WORDS.contains(&w)
        || w.starts_with("pass")
        || w.starts_with("pw")
        || (w.len() >= 6 && strsim::osa_distance(w, "password") <= 2)
        || (w.len() >= 5 && strsim::osa_distance(w, "passwd") <= 1)
        || (w.len() >= 5 && strsim::osa_distance(w, "secret") <= 1)
        || (w.len() >= 4 && strsim::osa_distance(w, "token") <= 1)
}

/// The words of a key, lower-cased: split at anything not a letter or digit, and where a
/// lower-case letter meets an upper-case one (`apiToken`).
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// `text` with the value of every secret-looking key replaced by `*`, byte for byte (so the
/// length, the line breaks and every offset stay the same); `None` when there is nothing to
/// mask, which is the normal case (then nothing is copied).
pub fn mask(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    // While a secret's value may go on over the next lines: the column of its key, and
    // whether the value was empty on the key's line (then a block sequence may follow at
    // the key's own indentation).
    let mut open: Option<(usize, bool)> = None;
    // A manifest repeats a few keys thousands of times: judge each spelling once.
    let mut judged: HashMap<&[u8], bool> = HashMap::new();
    let mut start = 0;
    while start < bytes.len() {
        let (end, next) = line_end(bytes, start);
        let line = &bytes[start..end];
        let indent = line
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t'))
            .count();
        if let Some((column, empty)) = open {
            let rest = &line[indent..];
            if rest.is_empty() {
                start = next;
                continue;
            }
            let sequence_item = rest[0] == b'-' && matches!(rest.get(1), None | Some(b' ' | b'\t'));
            if indent > column || (empty && indent == column && sequence_item) {
                ranges.push(start + indent..end);
                start = next;
                continue;
            }
        }
        let mut found = Vec::new();
        open = mask_line(line, &mut judged, &mut found);
        ranges.extend(found.into_iter().map(|r| r.start + start..r.end + start));
        start = next;
    }
    if ranges.is_empty() {
        return None;
    }
    let mut out = bytes.to_vec();
    for r in ranges {
        out[r].fill(MASK);
    }
    // Only whole runs of bytes that begin and end at ASCII bytes or at line ends became `*`,
    // so the text is still UTF-8.
    String::from_utf8(out).ok()
}

/// The end of the line starting at `start` (before its line break) and where the next line
/// starts. Line breaks are `\n`, `\r\n` and a lone `\r`, as in YAML.
fn line_end(bytes: &[u8], start: usize) -> (usize, usize) {
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => return (i, i + 1),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => return (i, i + 2),
            b'\r' => return (i, i + 1),
            _ => i += 1,
        }
    }
    (i, i)
}

/// Finds the values of the secret-looking keys of one line (ranges into `line`). Returns the
/// column of the last such key and whether its value was empty, when the value may continue
/// on the lines below.
fn mask_line<'t>(
    line: &'t [u8],
    judged: &mut HashMap<&'t [u8], bool>,
    found: &mut Vec<Range<usize>>,
) -> Option<(usize, bool)> {
    let n = line.len();
    let mut depth = 0usize;
    let mut at_token = true;
    let mut i = 0;
    while i < n {
        match line[i] {
            b'"' | b'\'' if at_token => {
                match closing_quote(line, i) {
                    Some(close) => i = close,
                    // An unclosed quote is read as an ordinary character: keep scanning.
                    None => at_token = false,
                }
                i += 1;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                at_token = true;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                at_token = false;
            }
            b',' | b' ' | b'\t' => at_token = true,
            b':' if is_key_colon(line, i, depth) => {
                let (key, key_start) = key_before(line, i);
                at_token = true;
                let secret = *judged
                    .entry(key)
                    .or_insert_with(|| looks_secret(&String::from_utf8_lossy(key)));
                if secret {
                    match value_end(line, i + 1, depth, found) {
                        Some(resume) => {
                            i = resume;
                            continue;
                        }
                        None => {
                            let empty = line[i + 1..].iter().all(|b| matches!(b, b' ' | b'\t'));
                            return Some((key_start, empty));
                        }
                    }
                }
            }
            _ => at_token = false,
        }
        i += 1;
    }
    None
}

/// Whether the `:` at `i` ends a key: followed by a space, a tab or the line's end (YAML's
/// rule), directly after a quoted key (JSON), or before a flow indicator inside `{}`.
fn is_key_colon(line: &[u8], i: usize, depth: usize) -> bool {
    match line.get(i + 1) {
        None | Some(b' ' | b'\t') => true,
        Some(b',' | b'}' | b']') if depth > 0 => true,
        _ => i > 0 && matches!(line[i - 1], b'"' | b'\''),
    }
}

/// The key written before the `:` at `colon` (quotes removed) and the column it starts at.
fn key_before(line: &[u8], colon: usize) -> (&[u8], usize) {
    let mut end = colon;
    while end > 0 && matches!(line[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end > 0 && matches!(line[end - 1], b'"' | b'\'') {
        let quote = line[end - 1];
        if let Some(open) = line[..end - 1].iter().rposition(|b| *b == quote) {
            return (&line[open + 1..end - 1], open);
        }
    }
    let mut start = end;
    while start > 0 && !matches!(line[start - 1], b' ' | b'\t' | b'{' | b'[' | b',') {
        start -= 1;
    }
    (&line[start..end], start)
}

/// Records the value that starts after the `:` at `from - 1`. Returns where to scan on when
/// the value ends on this line (a quoted string, or a plain one inside `{}`), `None` when it
/// runs to the line's end and may go on below.
fn value_end(
    line: &[u8],
    from: usize,
    depth: usize,
    found: &mut Vec<Range<usize>>,
) -> Option<usize> {
    let n = line.len();
    let mut v = from;
    while v < n && matches!(line[v], b' ' | b'\t') {
        v += 1;
    }
    if v == n {
        return None;
    }
    if matches!(line[v], b'"' | b'\'') {
        if let Some(close) = closing_quote(line, v) {
            found.push(v + 1..close);
            return Some(close + 1);
        }
    } else if depth > 0
        && let Some(stop) = line[v..]
            .iter()
            .position(|b| matches!(b, b',' | b'}' | b']'))
    {
        found.push(v..v + stop);
        return Some(v + stop);
    }
    found.push(v..n);
    None
}

/// The closing quote of the quoted string opening at `open`, on the same line: `\"` escapes
/// inside double quotes, `''` inside single quotes.
fn closing_quote(line: &[u8], open: usize) -> Option<usize> {
    let quote = line[open];
    let mut i = open + 1;
    while i < line.len() {
        match line[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && line.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_recognised_whatever_their_spelling() {
        for key in [
            "password",
            "Password",
            "PASSWORD",
            "pasword",
            "passowrd",
            "passwd",
            "pwd",
            "password_env",
            "pasword_env",
            "api_token",
            "apiToken",
            "accessToken",
            "secret",
            "client_secret",
            "api-key",
            "apikey",
            "passphrase",
            "tokn",
            "credentials",
        ] {
            assert!(looks_secret(key), "{key}");
        }
        for key in [
            "title",
            "kind",
            "access",
            "expires",
            "internal",
            "deny_download",
            "max_uses",
            "managed_tag",
            "members",
            "email",
            "group",
            "color",
            "cover",
            "watermark",
            "text",
            "version",
            "culture",
            "message",
            "notify",
            "type",
            "tags",
            "quota",
            "state",
        ] {
            assert!(!looks_secret(key), "{key}");
        }
    }

    #[test]
    fn no_key_of_the_schema_looks_secret_but_password_ones() {
        use crate::manifest::validate::*;
        for list in [
            TOP_KEYS,
            DEFAULTS_KEYS,
            ROOM_KEYS,
            INVITEE_KEYS,
            LINK_KEYS,
            LIFETIME_KEYS,
            WATERMARK_KEYS,
        ] {
            for key in list {
                // `password_env` (and any key about a password) is masked; nothing else.
                assert_eq!(looks_secret(key), key.contains("password"), "{key}");
            }
        }
    }

    #[test]
    fn misspelt_password_env_is_recognised() {
        for key in [
            "pasword_env",
            "Password_Env",
            "passwordEnv",
            "password_var",
            "passwd_env",
        ] {
            assert!(looks_like_password_env(key), "{key}");
        }
        for key in ["password", "api_token", "title", "env"] {
            assert!(!looks_like_password_env(key), "{key}");
        }
    }

    fn masked(text: &str) -> String {
        let out = mask(text).unwrap_or_else(|| text.to_string());
        assert_eq!(out.len(), text.len());
        assert_eq!(out.lines().count(), text.lines().count());
        out
    }

    #[test]
    fn values_of_secret_keys_are_masked_in_place() {
        let text = "rooms:\n  - title: A\n    links:\n      - title: L\n        password: hunter2-secret\n        bogus: 1\n        password_env: S3cr3tValue!\n        pasword: xyz\n";
        let out = masked(text);
        assert!(!out.contains("hunter2") && !out.contains("S3cr3t") && !out.contains("xyz"));
        assert!(out.contains("        password: **************\n        bogus: 1\n"));
        assert!(out.contains("title: L\n"));
    }

    #[test]
    fn nothing_to_mask_borrows_nothing() {
        assert_eq!(mask("version: 1\nrooms: []\n"), None);
        assert_eq!(mask("title: \"Sales: Q3\"\n"), None);
    }

    #[test]
    fn flow_mappings_json_and_comments_are_masked() {
        let out = masked("- {title: a, password: hunter2, kind: external}\n");
        assert_eq!(out, "- {title: a, password: *******, kind: external}\n");
        let out = masked(r#"{"links":[{"title":"x","password":"hun\"ter2","kind":"external"}]}"#);
        assert!(
            !out.contains("hun") && out.contains(r#""kind":"external""#),
            "{out}"
        );
        let out = masked("    # password: hunter2\n");
        assert!(!out.contains("hunter2"));
        let out = masked("    password: 'it''s secret' # note\n    kind: x\n");
        assert!(!out.contains("secret") && out.contains("kind: x"), "{out}");
    }

    #[test]
    fn values_continued_below_are_masked() {
        let out = masked("a:\n  password: |\n    hunter2\n\n    more\n  kind: x\n");
        assert!(!out.contains("hunter2") && !out.contains("more"));
        assert!(out.contains("  kind: x\n"));
        let out = masked("password:\n  hunter2\nnext: 1\n");
        assert_eq!(out, "password:\n  *******\nnext: 1\n");
        let out = masked("token:\n- abc\n- def\nnext: 1\n");
        assert_eq!(out, "token:\n*****\n*****\nnext: 1\n");
        let out = masked("password: \"multi\n  line\"\nkind: x\r\n");
        assert!(!out.contains("multi") && !out.contains("line") && out.contains("kind: x"));
    }

    #[test]
    fn multibyte_values_stay_valid_text() {
        let out = masked("password: пароль\ntitle: Отдел\n");
        assert!(out.starts_with("password: ************\n"));
        assert!(out.ends_with("title: Отдел\n"));
    }
}
