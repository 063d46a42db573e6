//! Room title patterns (`--room`): the one matcher of every command that takes `--room`
//! (`plan`, `apply`, `export`).
//!
//! A pattern is compared with a title as written, case-sensitively (titles are, on the
//! portal and in the manifest). `*` matches any run of characters (also none) and `?` exactly
//! one; every other character matches itself. There is no escape: a `*` or `?` of a title
//! matches itself too, so every title, given as a pattern, matches itself.

/// One `--room` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitlePattern {
    chars: Vec<char>,
}

impl TitlePattern {
    pub fn new(pattern: &str) -> TitlePattern {
        TitlePattern {
            chars: pattern.chars().collect(),
        }
    }

    /// Whether the pattern has a `*` or `?` (otherwise it matches one title exactly).
    pub fn is_glob(&self) -> bool {
        self.chars.iter().any(|c| matches!(c, '*' | '?'))
    }

    /// Whether `title` matches the whole pattern.
    pub fn matches(&self, title: &str) -> bool {
        let title: Vec<char> = title.chars().collect();
        let pattern = &self.chars;
        // The classic linear-time wildcard match: on a mismatch, go back to the last `*` and
        // let it swallow one more character (no recursion, so no blow-up on `*a*a*a*`).
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < title.len() {
            match pattern.get(p) {
                Some('*') => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(&c) if c == '?' || c == title[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        pattern[p..].iter().all(|c| *c == '*')
    }
}

/// Whether `title` matches any of `patterns` (all titles when there are none).
pub fn any_matches(patterns: &[TitlePattern], title: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| p.matches(title))
}

/// The patterns (as written) that match none of `titles`: a `--room` that names no room.
pub fn unmatched<'a>(
    patterns: &[String],
    titles: impl Iterator<Item = &'a str> + Clone,
) -> Vec<String> {
    patterns
        .iter()
        .filter(|t| {
            let p = TitlePattern::new(t);
            !titles.clone().any(|title| p.matches(title))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::TitlePattern;

    fn m(pattern: &str, title: &str) -> bool {
        TitlePattern::new(pattern).matches(title)
    }

    #[test]
    fn exact_titles_match_themselves_only() {
        assert!(m("Team A", "Team A"));
        assert!(!m("Team A", "team a"), "case-sensitive, like titles");
        assert!(!m("Team A", "Team A2"));
        assert!(!m("Team", "Team A"));
        assert!(m("", ""));
        assert!(!m("", "x"));
    }

    #[test]
    fn star_and_question_mark() {
        assert!(m("Proj*", "Proj"));
        assert!(m("Proj*", "Project X"));
        assert!(!m("Proj*", "A Project"));
        assert!(m("*ject*", "A Project X"));
        assert!(m("Team ?", "Team B"));
        assert!(!m("Team ?", "Team BC"));
        assert!(!m("Team ?", "Team "));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*", ""));
        assert!(m("Проект ?", "Проект Б"), "one character, not one byte");
        assert!(!m(&"*a".repeat(20), &"a".repeat(19)));
    }

    #[test]
    fn a_title_with_glob_characters_matches_itself() {
        for title in ["What? *Now*", "a*b", "??"] {
            assert!(m(title, title));
        }
        assert!(!TitlePattern::new("Team A").is_glob());
        assert!(TitlePattern::new("Team ?").is_glob());
    }
}
