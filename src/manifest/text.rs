//! Character classes for titles and emails that no display shows honestly: control
//! characters, invisible (format) characters, bidirectional controls, and words that mix
//! look-alike scripts (a Cyrillic `а` in `exаmple.com`).
//!
//! Hand-written tables instead of a Unicode crate: the checks need three scripts and one
//! general category, a few dozen ranges in all, and the dependency tree stays lean. The
//! ranges follow Unicode 16 (`DerivedGeneralCategory.txt` for Cf, `Scripts.txt`,
//! `DerivedCoreProperties.txt` for Default_Ignorable_Code_Point).

/// Unicode general category Cf (format characters): invisible, but they change how text
/// around them is shown or joined.
const FORMAT: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Default-ignorable characters outside Cf (fillers, variation selectors) and the braille
/// blank: none of them shows anything on its own.
const BLANK: &[(u32, u32)] = &[
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0000, 0xE0FFF),
];

fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
}

/// A control character (general category Cc): NUL, BEL, ESC, newlines, tab, DEL, C1.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// A format character (Cf): zero-width spaces and joiners, bidirectional controls, BOM.
pub fn is_format(c: char) -> bool {
    in_ranges(c, FORMAT)
}

/// Shows nothing by itself: whitespace, format characters, fillers, variation selectors.
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || is_format(c) || in_ranges(c, BLANK)
}

/// Invisible and not whitespace: what must never hide inside an email address.
pub fn is_invisible(c: char) -> bool {
    !c.is_whitespace() && (is_format(c) || in_ranges(c, BLANK))
}

/// Invisible in a title without a purpose there: zero-width spaces, word joiners, BOM, soft
/// hyphens, fillers. Joiners (U+200C, U+200D) and variation selectors are left alone: scripts
/// such as Persian and emoji sequences need them.
pub fn is_hidden_in_title(c: char) -> bool {
    is_invisible(c) && !matches!(c as u32, 0x200C | 0x200D | 0xFE00..=0xFE0F | 0xE0100..=0xE01EF)
}

/// A bidirectional control: it reorders how the text around it is displayed (U+202E makes
/// `moc.elpmaxe` read as `example.com`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c as u32, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// `U+200B`, the way a character that cannot be shown is named in messages.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// The scripts whose letters are confused with one another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Latin,
    Cyrillic,
    Greek,
}

impl Script {
    pub fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Cyrillic => "Cyrillic",
            Script::Greek => "Greek",
        }
    }
}

fn script(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    match c as u32 {
        0x41..=0x5A
        | 0x61..=0x7A
        | 0xAA
        | 0xBA
        | 0xC0..=0xD6
        | 0xD8..=0xF6
        | 0xF8..=0x2AF
        | 0x1E00..=0x1EFF
        | 0x2C60..=0x2C7F
        | 0xA720..=0xA7FF
        | 0xAB30..=0xAB6F
        | 0xFF21..=0xFF3A
        | 0xFF41..=0xFF5A => Some(Script::Latin),
        0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => {
            Some(Script::Cyrillic)
        }
        0x0370..=0x03FF | 0x1F00..=0x1FFF => Some(Script::Greek),
        _ => None,
    }
}

/// A word that mixes Latin letters with Cyrillic or Greek ones: the usual way to make a
/// look-alike (homograph) of a name or domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedWord<'a> {
    pub word: &'a str,
    /// The letters of the script used least in the word (the likely impostors), with it.
    pub odd: Vec<char>,
    pub odd_script: Script,
    pub main_script: Script,
}

impl MixedWord<'_> {
    /// "`а` (U+0430) is Cyrillic" for messages.
    pub fn describe(&self) -> String {
        let letters: Vec<String> = self
            .odd
            .iter()
            .map(|c| format!("`{c}` ({})", code_point(*c)))
            .collect();
        format!(
            "{} {} {}, the rest is {}",
            letters.join(", "),
            if self.odd.len() == 1 { "is" } else { "are" },
            self.odd_script.name(),
            self.main_script.name()
        )
    }
}

/// The first word of `text` (split at anything that is not a letter, digit or mark) that
/// mixes Latin with Cyrillic or Greek letters.
pub fn mixed_script_word(text: &str) -> Option<MixedWord<'_>> {
    text.split(|c: char| !(c.is_alphanumeric() || is_mark(c)))
        .find_map(mixed_in_word)
}

fn mixed_in_word(word: &str) -> Option<MixedWord<'_>> {
    let (mut latin, mut other) = (Vec::new(), Vec::new());
    let mut other_script = None;
    for c in word.chars() {
        match script(c) {
            Some(Script::Latin) => latin.push(c),
            Some(s) => {
                other_script.get_or_insert(s);
                if Some(s) == other_script {
                    other.push(c);
                }
            }
            None => {}
        }
    }
    let other_script = other_script?;
    if latin.is_empty() {
        return None;
    }
    let (odd, odd_script, main_script) = if other.len() <= latin.len() {
        (other, other_script, Script::Latin)
    } else {
        (latin, Script::Latin, other_script)
    };
    let mut odd_unique = Vec::new();
    for c in odd {
        if !odd_unique.contains(&c) {
            odd_unique.push(c);
        }
    }
    Some(MixedWord {
        word,
        odd: odd_unique,
        odd_script,
        main_script,
    })
}

/// Combining marks (accents written as separate characters) belong to the word they sit in.
fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_control('\0') && is_control('\u{1b}') && is_control('\n'));
        assert!(!is_control('a'));
        assert!(is_format('\u{200B}') && is_format('\u{202E}') && is_format('\u{2066}'));
        assert!(is_format('\u{FEFF}') && !is_format(' '));
        assert!(is_blank(' ') && is_blank('\u{3164}') && is_blank('\u{200D}'));
        assert!(!is_blank('a') && !is_blank('東'));
        assert!(is_invisible('\u{200B}') && !is_invisible(' ') && !is_invisible('x'));
        assert!(is_bidi_control('\u{202E}') && is_bidi_control('\u{2069}'));
        assert!(is_hidden_in_title('\u{200B}') && is_hidden_in_title('\u{00AD}'));
        assert!(!is_hidden_in_title('\u{200D}') && !is_hidden_in_title('\u{FE0F}'));
        assert!(!is_bidi_control('\u{200B}'));
        assert_eq!(code_point('\u{200B}'), "U+200B");
    }

    #[test]
    fn mixed_scripts_are_found_per_word() {
        let m = mixed_script_word("ex\u{0430}mple.com").unwrap();
        assert_eq!(m.word, "ex\u{0430}mple");
        assert_eq!(m.odd, vec!['\u{0430}']);
        assert_eq!(m.odd_script, Script::Cyrillic);
        assert_eq!(m.main_script, Script::Latin);
        // One script per word is fine, whatever the scripts of the other words.
        assert_eq!(mixed_script_word("Отдел IT"), None);
        assert_eq!(mixed_script_word("Windows-сервер"), None);
        assert_eq!(mixed_script_word("Café 東京 Ελλάδα"), None);
        assert_eq!(mixed_script_word("plain ascii"), None);
        // Mostly Cyrillic with a Latin impostor: the Latin letter is the odd one.
        let m = mixed_script_word("Прoект").unwrap();
        assert_eq!(m.odd, vec!['o']);
        assert_eq!(m.odd_script, Script::Latin);
        // Greek omicron in a Latin word.
        assert!(mixed_script_word("g\u{03BF}\u{03BF}gle").is_some());
    }
}
