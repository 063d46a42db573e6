//! `groups:` (top level): each group's `name`, `id`, `manager`, `people`, `people_from` (a
//! CSV file beside the manifest with an `email` column) and `members`; and the checks across
//! groups and `people:` made once every file is read ([`check_portal`]): duplicate group
//! names, a person declared a guest who is a group's member or manager (the server skips
//! guests: docs/docspace-api.md, "Groups and people").

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::manifest::desired::{Desired, DesiredGroup, GroupPerson, MembersMode, Origin};
use crate::manifest::diagnostic::{Problem, Problems};
use crate::manifest::source::SourceFile;
use crate::manifest::yaml::{Node, Span, Value};
use crate::model::{GROUP_NAME_MAX_CHARS, PEOPLE_FROM_MAX_BYTES, PEOPLE_FROM_MAX_ROWS, UserType};

use super::merge::twice;
use super::{Cx, GROUP_KEYS};

impl Cx<'_> {
    /// `groups:`: a list of groups.
    pub(super) fn groups(&mut self, node: &Node) -> Vec<DesiredGroup> {
        let Value::Seq(items) = &node.value else {
            self.wrong_type("groups", "a list of groups", node);
            return Vec::new();
        };
        items.iter().filter_map(|item| self.group(item)).collect()
    }

    fn group(&mut self, node: &Node) -> Option<DesiredGroup> {
        let entries = self.mapping(node, "a group", GROUP_KEYS)?;
        let mut ok = true;
        let mut name = None;
        let mut name_seen = false;
        let mut group = DesiredGroup {
            name: String::new(),
            id: None,
            manager: None,
            people: Vec::new(),
            members: MembersMode::Additive,
            origin: self.origin(node.span),
        };
        for (key, _, value) in entries {
            match key {
                "name" => {
                    name_seen = true;
                    name = self.portal_group_name(value);
                }
                "id" => group.id = self.group_id(value),
                "manager" => group.manager = self.group_person("manager", value),
                "people" => ok &= self.group_people(value, &mut group.people),
                "people_from" => ok &= self.people_from(value, &mut group.people),
                "members" => match self.choice(value, "members", &["additive", "exact"]) {
                    Some(0) => group.members = MembersMode::Additive,
                    Some(_) => group.members = MembersMode::Exact,
                    None => ok = false,
                },
                _ => unreachable!("mapping() only returns known keys"),
            }
        }
        let Some((name, span)) = name else {
            if !name_seen {
                self.error(
                    "manifest::no_group_name",
                    "the group has no `name`",
                    Span {
                        offset: node.span.offset,
                        len: 0,
                    },
                    "this group",
                    Some("every group needs a `name:`; groups are matched by it unless `id` pins one".into()),
                );
            }
            return None;
        };
        group.name = name;
        group.origin = self.origin(span);
        // Each email once: a person listed twice (in `people` and the CSV) is one member.
        let mut seen = std::collections::HashSet::new();
        group.people.retain(|p| seen.insert(p.email.clone()));
        ok.then_some(group)
    }

    /// A group's name: trimmed, 1 to [`GROUP_NAME_MAX_CHARS`] characters (the server's
    /// `StringLength(128, MinimumLength = 1)`).
    fn portal_group_name(&mut self, node: &Node) -> Option<(String, Span)> {
        let text = self.str_ref("name", node)?;
        let name = text.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > GROUP_NAME_MAX_CHARS {
            self.error(
                "manifest::group_name",
                format!(
                    "a group name must be 1 to {GROUP_NAME_MAX_CHARS} characters, found {chars}"
                ),
                node.span,
                "bad group name",
                Some(
                    "DocSpace refuses empty group names and names longer than 128 characters"
                        .into(),
                ),
            );
            return None;
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            self.error(
                "manifest::group_name",
                format!(
                    "the group name contains a control character ({})",
                    c.escape_unicode()
                ),
                node.span,
                "bad group name",
                None,
            );
            return None;
        }
        Some((name.to_string(), node.span))
    }

    /// A pinned group id: the server's uuid.
    fn group_id(&mut self, node: &Node) -> Option<String> {
        let text = self.str_ref("id", node)?;
        match uuid::Uuid::parse_str(text.trim()) {
            Ok(id) => Some(id.to_string()),
            Err(_) => {
                self.error(
                    "manifest::group_id",
                    format!("`{}` is not a group id", text.escape_debug()),
                    node.span,
                    "not a uuid",
                    Some("a group id is a uuid such as 0d5d1b2e-7f0a-4a1b-9c2d-3e4f5a6b7c8d (see `export`)".into()),
                );
                None
            }
        }
    }

    fn group_person(&mut self, what: &str, node: &Node) -> Option<GroupPerson> {
        let text = self.str_ref(what, node)?;
        let email = self.invitee_email(text.trim(), node.span)?;
        Some(GroupPerson {
            email,
            origin: self.origin(node.span),
        })
    }

    /// `people:` of a group: a list of emails. Returns whether every entry was read.
    fn group_people(&mut self, node: &Node, out: &mut Vec<GroupPerson>) -> bool {
        let Value::Seq(items) = &node.value else {
            self.wrong_type("people", "a list of emails", node);
            return false;
        };
        let mut ok = true;
        for item in items {
            match self.group_person("people", item) {
                Some(p) => out.push(p),
                None => ok = false,
            }
        }
        ok
    }

    /// `people_from:`: a CSV file in the manifest's directory (or below it), at most
    /// [`PEOPLE_FROM_MAX_BYTES`] and [`PEOPLE_FROM_MAX_ROWS`] rows, with an `email` column;
    /// other columns are ignored. A bad row is reported in the CSV file, with its row.
    fn people_from(&mut self, node: &Node, out: &mut Vec<GroupPerson>) -> bool {
        let Some(written) = self.str_ref("people_from", node) else {
            return false;
        };
        let path = match self.csv_path(written) {
            Ok(p) => p,
            Err(why) => {
                self.error(
                    "manifest::people_from",
                    format!("cannot read `people_from: {}`: {why}", written.escape_debug()),
                    node.span,
                    "people_from",
                    Some("give a CSV file in the manifest's directory or below it, relative to the manifest".into()),
                );
                return false;
            }
        };
        let csv = match read_bounded(&path) {
            Ok(text) => SourceFile::new(path.display().to_string(), text),
            Err(why) => {
                self.error(
                    "manifest::people_from",
                    format!(
                        "cannot read `people_from: {}`: {why}",
                        written.escape_debug()
                    ),
                    node.span,
                    "people_from",
                    None,
                );
                return false;
            }
        };
        let origin = self.origin(node.span);
        let (people, problems) = read_people_csv(&csv, origin);
        let ok = problems.is_empty();
        for p in problems {
            self.problems.push(p);
        }
        out.extend(people);
        ok
    }

    /// The CSV path of `people_from`, resolved against the manifest's directory and kept
    /// inside it (no absolute path, no `..`, no symbolic link out of it).
    fn csv_path(&self, written: &str) -> Result<PathBuf, String> {
        let relative = Path::new(written.trim());
        if relative.as_os_str().is_empty() {
            return Err("the path is empty".into());
        }
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(
                "the path must stay inside the manifest's directory (no absolute path, no `..`)"
                    .into(),
            );
        }
        let base = Path::new(&self.file.name).parent().unwrap_or(Path::new(""));
        let base = if base.as_os_str().is_empty() {
            Path::new(".")
        } else {
            base
        };
        let path = base.join(relative);
        let real_base = base.canonicalize().map_err(|e| e.to_string())?;
        let real = path.canonicalize().map_err(|e| e.to_string())?;
        if !real.starts_with(&real_base) {
            return Err(
                "the file is outside the manifest's directory (through a symbolic link)".into(),
            );
        }
        Ok(path)
    }
}

/// Reads a `people_from` file, refusing one larger than [`PEOPLE_FROM_MAX_BYTES`] before
/// and while reading it.
fn read_bounded(path: &Path) -> Result<String, String> {
    // Checked before opening too: opening a FIFO for reading blocks until a writer comes.
    if !std::fs::metadata(path)
        .map_err(|e| e.to_string())?
        .is_file()
    {
        return Err("not a regular file".into());
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > PEOPLE_FROM_MAX_BYTES {
        return Err(format!(
            "the file is larger than {} KiB",
            PEOPLE_FROM_MAX_BYTES / 1024
        ));
    }
    let mut bytes = Vec::new();
    file.take(PEOPLE_FROM_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > PEOPLE_FROM_MAX_BYTES {
        return Err(format!(
            "the file is larger than {} KiB",
            PEOPLE_FROM_MAX_BYTES / 1024
        ));
    }
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

/// One CSV cell with its byte span in the file.
struct Cell {
    text: String,
    span: Span,
}

/// Splits CSV text into rows of cells (RFC 4180: `,` separators, `"` quoting with `""`
/// inside quotes, CRLF or LF line ends). Blank lines are skipped. Also returns, when a quote
/// is never closed, its byte offset and the index of the row it opens in.
fn csv_rows(text: &str) -> (Vec<Vec<Cell>>, Option<(usize, usize)>) {
    let mut rows = Vec::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut cell = String::new();
    let mut start = 0;
    let mut quoted = false;
    let mut opened = (0, 0);
    let mut chars = text.char_indices().peekable();
    let push_cell = |row: &mut Vec<Cell>, cell: &mut String, start: usize, end: usize| {
        row.push(Cell {
            text: std::mem::take(cell),
            span: Span {
                offset: start,
                len: end - start,
            },
        });
    };
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if quoted && chars.peek().is_some_and(|(_, n)| *n == '"') => {
                cell.push('"');
                chars.next();
            }
            '"' => {
                quoted = !quoted;
                opened = (i, rows.len());
            }
            ',' if !quoted => {
                push_cell(&mut row, &mut cell, start, i);
                start = i + 1;
            }
            '\n' | '\r' if !quoted => {
                push_cell(&mut row, &mut cell, start, i);
                if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                    chars.next();
                }
                let blank = row.len() == 1 && row[0].text.trim().is_empty();
                if !blank {
                    rows.push(std::mem::take(&mut row));
                }
                row.clear();
                start = chars.peek().map_or(text.len(), |(j, _)| *j);
            }
            _ => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        push_cell(&mut row, &mut cell, start, text.len());
        if !(row.len() == 1 && row[0].text.trim().is_empty()) {
            rows.push(row);
        }
    }
    (rows, quoted.then_some(opened))
}

/// The people of a `people_from` CSV file: its `email` column (found by header, any case),
/// every row checked as an email; problems are located in the CSV file at the row.
fn read_people_csv(csv: &SourceFile, origin: Origin) -> (Vec<GroupPerson>, Vec<Problem>) {
    let (rows, unclosed) = csv_rows(&csv.text);
    let mut problems = Vec::new();
    if let Some((offset, n)) = unclosed {
        // The quote swallowed the rest of the file: no row after it can be trusted.
        let (line, _) = csv.line_col(offset);
        problems.push(
            Problem::error(
                "manifest::people_from_row",
                format!("row {n} (line {line}) of the people_from file opens a quote that is never closed"),
            )
            .at(csv, Span { offset, len: 1 }, format!("row {n}: unclosed quote"))
            .with_help("close the quoted value with `\"` (write a quote inside it as `\"\"`)"),
        );
        return (Vec::new(), problems);
    }
    let Some(header) = rows.first() else {
        problems.push(
            Problem::error("manifest::people_from", "the people_from file is empty")
                .at(csv, Span { offset: 0, len: 0 }, "no header")
                .with_help("the first line names the columns; one of them is `email`"),
        );
        return (Vec::new(), problems);
    };
    let is_email = |c: &Cell| {
        c.text
            .trim()
            .trim_start_matches('\u{feff}')
            .eq_ignore_ascii_case("email")
    };
    if let Some(second) = header.iter().filter(|c| is_email(c)).nth(1) {
        problems.push(
            Problem::error(
                "manifest::people_from",
                "the people_from file has two `email` columns",
            )
            .at(csv, second.span, "second `email` column")
            .with_help("keep one column named `email` (case ignored); the tool would not know which one to read"),
        );
        return (Vec::new(), problems);
    }
    let Some(column) = header.iter().position(is_email) else {
        problems.push(
            Problem::error("manifest::people_from", "the people_from file has no `email` column")
                .at(csv, header[0].span, "header")
                .with_help("the first line names the columns; one of them is `email` (other columns are ignored)"),
        );
        return (Vec::new(), problems);
    };
    if rows.len() - 1 > PEOPLE_FROM_MAX_ROWS {
        problems.push(
            Problem::error(
                "manifest::people_from",
                format!("the people_from file has more than {PEOPLE_FROM_MAX_ROWS} rows"),
            )
            .at(csv, header[0].span, "header"),
        );
        return (Vec::new(), problems);
    }
    let mut people = Vec::new();
    for (n, row) in rows.iter().enumerate().skip(1) {
        let Some(cell) = row.get(column) else {
            problems.push(
                Problem::error(
                    "manifest::people_from_row",
                    format!("row {n} of the people_from file has no `email` value"),
                )
                .at(csv, row[0].span, format!("row {n}")),
            );
            continue;
        };
        let email = crate::model::normalise_email(cell.text.trim());
        let (line, _) = csv.line_col(cell.span.offset);
        match super::check_email(&email) {
            Ok(()) => people.push(GroupPerson { email, origin }),
            Err(why) => problems.push(
                Problem::error(
                    "manifest::people_from_row",
                    format!(
                        "row {n} (line {line}) of the people_from file: `{}` is not a valid email address: {why}",
                        cell.text.escape_debug()
                    ),
                )
                .at(csv, cell.span, format!("row {n}: invalid email"))
                .with_help("write the address as name@domain.tld, or remove the row"),
            ),
        }
    }
    (people, problems)
}

/// The checks across `groups:` and `people:` of every file: a group name written twice (the
/// server allows duplicates, so the manifest must not make them), an email in `people:`
/// twice, and a person declared a guest who is named in a group.
pub(super) fn check_portal(desired: &Desired, problems: &mut Problems) {
    let mut names: HashMap<String, (Origin, Option<&str>)> = HashMap::new();
    for g in &desired.groups {
        let key = g.name.to_lowercase();
        // Two groups may share a name when both pin different ids: the server allows
        // duplicates, and `export` writes such portals that way.
        let both_pinned = |first: Option<&str>| matches!((first, g.id.as_deref()), (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b));
        match names.get(&key).filter(|(_, id)| !both_pinned(*id)) {
            Some((first, _)) => problems.push(twice(
                desired,
                "manifest::duplicate_group",
                format!("group `{}` is defined twice", g.name),
                *first,
                g.origin,
                "group names are compared case-insensitively; rename one group or merge the two",
            )),
            None => {
                names.entry(key).or_insert((g.origin, g.id.as_deref()));
            }
        }
    }
    let mut emails: HashMap<&str, Origin> = HashMap::new();
    for p in &desired.people {
        match emails.get(p.email.as_str()) {
            Some(first) => problems.push(twice(
                desired,
                "manifest::duplicate_person",
                format!("`{}` is listed twice in `people:`", p.email),
                *first,
                p.origin,
                "list each person once, with one type",
            )),
            None => {
                emails.insert(&p.email, p.origin);
            }
        }
    }
    for g in &desired.groups {
        for member in g.emails() {
            let Some(person) = desired.person(&member.email) else {
                continue;
            };
            if person.user_type.may_be_group_member() {
                continue;
            }
            let file = &desired.files[member.origin.file];
            problems.push(
                Problem::error(
                    "manifest::guest_in_group",
                    format!(
                        "`{}` is declared a guest in `people:` and cannot be in group `{}`",
                        member.email, g.name
                    ),
                )
                .at(file, member.origin.span, "a guest")
                .with_help(format!(
                    "DocSpace leaves guests out of groups; give `{}` the type `user` (or higher), or take them out of the group",
                    member.email
                )),
            );
        }
    }
}

/// The type spellings of `people:`, for messages.
pub(super) fn type_names() -> Vec<&'static str> {
    UserType::ALL.iter().map(|t| t.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_email_columns_are_refused_at_the_second() {
        let csv = SourceFile::new("p.csv", "email,Email\na@x.test,b@x.test\n");
        let origin = Origin {
            file: 0,
            span: Span { offset: 0, len: 0 },
        };
        let (people, problems) = read_people_csv(&csv, origin);
        assert!(people.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("two `email` columns"),
            "{:?}",
            problems[0]
        );
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("people.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(read_bounded(&fifo)));
        let read = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("reading a FIFO must not wait for a writer");
        assert_eq!(read, Err("not a regular file".to_string()));
    }

    #[test]
    fn csv_rows_keep_quoted_commas_and_spans() {
        let text = "name,email\r\n\"Lee, Ann\",ann@x.test\n\nBob,\"bob@x.test\"\n";
        let (rows, unclosed) = csv_rows(text);
        assert_eq!(unclosed, None);
        assert_eq!(rows.len(), 3, "the blank line is skipped");
        assert_eq!(rows[1][0].text, "Lee, Ann");
        assert_eq!(rows[1][1].text, "ann@x.test");
        let span = rows[1][1].span;
        assert_eq!(&text[span.offset..span.offset + span.len], "ann@x.test");
        assert_eq!(rows[2][1].text, "bob@x.test");
    }

    #[test]
    fn an_unclosed_quote_on_the_last_line_is_a_located_error() {
        let csv = SourceFile::new("p.csv", "name,email\nAnn,a@x.test\nBob,\"b@x.test\n");
        let (people, problems) = read_people_csv(&csv, Origin::default());
        assert!(people.is_empty(), "{people:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        let message = &problems[0].message;
        assert!(message.contains("row 2 (line 3)"), "{message}");
        assert!(message.contains("never closed"), "{message}");
    }

    #[test]
    fn a_csv_email_column_is_found_by_header_in_any_case() {
        let csv = SourceFile::new("t.csv", "Name,EMAIL\nA,A@X.test\n");
        let (people, problems) = read_people_csv(&csv, Origin::default());
        assert!(problems.is_empty());
        assert_eq!(people[0].email, "a@x.test");
        let none = SourceFile::new("t.csv", "name,mail\nA,a@x.test\n");
        assert_eq!(read_people_csv(&none, Origin::default()).1.len(), 1);
    }
}
