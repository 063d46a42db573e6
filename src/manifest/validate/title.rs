//! Room titles: what the server refuses, what reads differently than it is written, and
//! what the server stores in place of some characters.

use crate::manifest::text;
use crate::manifest::yaml::Node;
use crate::model::{self};

use super::Cx;
use super::values::describe_control;

impl Cx<'_> {
    /// Checks a title; returns it as written (trimmed) and as the server will store it.
    pub(super) fn title(&mut self, node: &Node) -> Option<(String, String)> {
        let raw = self.str_ref("title", node)?;
        let trimmed = raw.trim();
        if !self.title_usable(trimmed, node) {
            return None;
        }
        self.title_look_warnings(trimmed, node);
        let stored = model::sanitize_title(trimmed);
        if stored != trimmed {
            self.title_changed_warning(trimmed, &stored, node);
        }
        Some((trimmed.to_string(), stored))
    }

    /// Refuses a trimmed title the server cannot take or nobody could read: empty, with a
    /// control character, blank to the eye, or too long; true when it is usable.
    fn title_usable(&mut self, trimmed: &str, node: &Node) -> bool {
        if trimmed.is_empty() {
            self.error(
                "manifest::empty_title",
                "the room title is empty",
                node.span,
                "empty title",
                Some("give the room a name".into()),
            );
            return false;
        }
        // Control characters (NUL, ESC, BEL, newlines, tab) come from YAML escapes or block
        // scalars; the server would store them as they are (a tab as `_`), and a NUL or ESC
        // in a title breaks the web UI, terminals and plans.
        if let Some(c) = trimmed.chars().find(|c| text::is_control(*c)) {
            self.error(
                "manifest::title_control",
                format!(
                    "the room title contains a control character ({})",
                    describe_control(c)
                ),
                node.span,
                "control character",
                Some("remove it; in a double-quoted YAML string, escapes such as \\0, \\e, \\a, \\t and \\n produce one, and a `|` block keeps its line breaks".into()),
            );
            return false;
        }
        if trimmed.chars().all(text::is_blank) {
            let shown: Vec<String> = dedup(trimmed.chars().filter(|c| !c.is_whitespace()))
                .into_iter()
                .map(text::code_point)
                .collect();
            self.error(
                "manifest::blank_title",
                format!(
                    "the room title is blank to the eye: it holds only invisible characters ({})",
                    shown.join(", ")
                ),
                node.span,
                "invisible title",
                Some("give the room a name that can be read; a room nobody can see the name of cannot be told apart".into()),
            );
            return false;
        }
        let chars = model::server_len(trimmed);
        if chars > model::TITLE_MAX_CHARS {
            self.error(
                "manifest::long_title",
                format!(
                    "the room title is {chars} characters long as DocSpace counts them (UTF-16 units); the limit is {}",
                    model::TITLE_MAX_CHARS
                ),
                node.span,
                "title too long",
                Some("shorten the title (the server counts UTF-16 units: an emoji counts as two)".into()),
            );
            return false;
        }
        true
    }

    /// Warns about a title that does not read as it is written: bidirectional controls,
    /// invisible characters, or look-alike letters of mixed scripts.
    fn title_look_warnings(&mut self, trimmed: &str, node: &Node) {
        if let Some(c) = trimmed.chars().find(|c| text::is_bidi_control(*c)) {
            self.warning(
                "manifest::title_bidi",
                format!(
                    "the room title contains a bidirectional control ({}), which changes how it is displayed",
                    text::code_point(c)
                ),
                node.span,
                "reorders the text around it",
                Some("remove it unless you mean it: the title will not read in DocSpace the way it is written here".into()),
            );
        } else if let Some(c) = trimmed.chars().find(|c| text::is_hidden_in_title(*c)) {
            // "Sa\u{200B}les" looks like "Sales" but is another room to the server.
            self.warning(
                "manifest::title_invisible",
                format!(
                    "the room title contains an invisible character ({})",
                    text::code_point(c)
                ),
                node.span,
                "invisible character",
                Some("remove it: the title looks like one without it, but is a different room to DocSpace".into()),
            );
        }
        if let Some(mixed) = text::mixed_script_word(trimmed) {
            self.warning(
                "manifest::confusable_title",
                format!(
                    "the room title mixes scripts in the word `{}`: {}",
                    mixed.word,
                    mixed.describe()
                ),
                node.span,
                "look-alike letters",
                Some("letters of different scripts that look alike make two titles look the same; write each word in one script".into()),
            );
        }
    }

    /// Warns that the server will store the title with some characters replaced, and says which.
    fn title_changed_warning(&mut self, trimmed: &str, stored: &str, node: &Node) {
        let mut what = Vec::new();
        if trimmed
            .chars()
            .any(|c| model::TITLE_REPLACED_CHARS.contains(&c))
        {
            what.push("the characters \\t * + : \" < > ? | \\ / become `_`");
        }
        if trimmed.chars().any(|c| c.len_utf16() == 2) {
            what.push("emoji and other characters outside the Basic Multilingual Plane become `__` (one `_` per UTF-16 unit)");
        }
        self.warning(
            "manifest::title_changed",
            format!("DocSpace will store this title as `{stored}`"),
            node.span,
            "contains characters the server replaces with `_`",
            Some(format!(
                "{}; the room is matched by the stored title, so this works, but DocSpace will show `{stored}`: choose a title without them to see it as written",
                what.join("; ")
            )),
        );
    }
}

/// The characters of `chars` in first-seen order, once each.
fn dedup(chars: impl Iterator<Item = char>) -> Vec<char> {
    let mut out = Vec::new();
    for c in chars {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}
