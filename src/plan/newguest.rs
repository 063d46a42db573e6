//! No surprise emails (issue 20 item 7). Inviting an email that has no account makes the
//! server create a guest account and send it an invitation email (docs/docspace-api.md,
//! "Email invitations"): a typo in the manifest mails a stranger, or makes a twin account of
//! a colleague. So before a new guest is planned:
//!
//! - `defaults: {new_guests: false}` in the manifest, or `plan`/`apply --no-new-guests`,
//!   refuses every new guest account (a plan error naming each such invitee);
//! - an address that is a near miss of an existing account's is a plan error with "did you
//!   mean": the same domain and a local part a small edit distance away (optimal string
//!   alignment: Damerau-Levenshtein where a swap of two neighbouring letters is one edit)
//!   ([`max_distance`]), or the same local part at a domain one edit away (`gmial.com`,
//!   `sandbox.tset`: one edit, not two, so that `acme.de` and `acme.fr` stay two companies).
//!   The invitee key
//!   `new_account: true` says the person is meant to be new, and settles the check for good
//!   (two real people may have close addresses).
//!
//! The candidates are every account the read saw: the people listing when it was read whole
//! (`Observed::accounts`, see `state` for when that is), the members of the matched rooms,
//! the accounts found by email, and the key's own user. The checks are called for every
//! place that invites a person by email, so that a new one (the planned `people:` section)
//! gets them by calling [`check`].

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use crate::manifest::{Desired, DesiredInvitee, Problem};
use crate::state::{MemberSubject, Observed};

/// The portal's account emails, indexed for the near-miss check: built once per plan, so that
/// a check compares only the accounts that could be a near miss (same domain, or same local
/// part), never every pair.
#[derive(Debug, Default)]
pub struct Accounts {
    /// Local parts by domain.
    by_domain: HashMap<String, Vec<Part>>,
    /// Domains by local part.
    by_local: HashMap<String, Vec<Part>>,
    /// Answers already given, by email: the same newcomer is often invited to many rooms.
    seen: RefCell<HashMap<String, Option<String>>>,
}

impl Accounts {
    /// Every account email of `observed` (lower-cased, as the read keeps them).
    pub fn new(observed: &Observed) -> Accounts {
        let mut emails: BTreeSet<&str> = BTreeSet::new();
        emails.extend(observed.accounts.iter().flatten().map(String::as_str));
        emails.extend(observed.users.values().map(|u| u.email.as_str()));
        emails.extend(observed.me.iter().map(|u| u.email.as_str()));
        for m in observed.members.values().flatten() {
            if let MemberSubject::User(u) = &m.subject {
                emails.insert(u.email.as_str());
            }
        }
        let mut out = Accounts::default();
        for email in emails {
            if let Some((local, domain)) = split(email) {
                out.by_domain
                    .entry(domain.to_string())
                    .or_default()
                    .push(Part::new(local));
                out.by_local
                    .entry(local.to_string())
                    .or_default()
                    .push(Part::new(domain));
            }
        }
        out
    }

    /// The existing account closest to `email` when it is a near miss (see the module
    /// documentation); `None` when none is, or when `email` itself has an account.
    pub fn near_miss(&self, email: &str) -> Option<String> {
        if let Some(answer) = self.seen.borrow().get(email) {
            return answer.clone();
        }
        let answer = self.closest(email);
        self.seen
            .borrow_mut()
            .insert(email.to_string(), answer.clone());
        answer
    }

    fn closest(&self, email: &str) -> Option<String> {
        let (local, domain) = split(email)?;
        let (local_part, domain_part) = (Part::new(local), Part::new(domain));
        let mut best: Option<(usize, String)> = None;
        let mut consider = |distance: usize, candidate: String| {
            if best
                .as_ref()
                .is_none_or(|(d, c)| (distance, &candidate) < (*d, c))
            {
                best = Some((distance, candidate));
            }
        };
        for other in self.by_domain.get(domain).into_iter().flatten() {
            if let Some(d) = close(&local_part, other, usize::MAX) {
                consider(d, format!("{}@{domain}", other.text));
            }
        }
        for other in self.by_local.get(local).into_iter().flatten() {
            if let Some(d) = close(&domain_part, other, MAX_DOMAIN_DISTANCE) {
                consider(d, format!("{local}@{}", other.text));
            }
        }
        best.map(|(_, c)| c)
    }
}

/// `local@domain`, split at the last `@`.
fn split(email: &str) -> Option<(&str, &str)> {
    email
        .rsplit_once('@')
        .filter(|(l, d)| !l.is_empty() && !d.is_empty())
}

/// The largest edit distance between two parts of an address that still counts as a near
/// miss: 2 for parts of 6 characters or more, 1 from 3, none below (`ab@` and `cd@` are two
/// people, not a typo).
pub fn max_distance(shorter: usize) -> usize {
    match shorter {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// The largest edit distance between two domains that counts as a near miss (with the same
/// local part).
pub const MAX_DOMAIN_DISTANCE: usize = 1;

/// One part of an address (local part or domain) with what the quick checks need.
#[derive(Debug)]
struct Part {
    text: String,
    chars: usize,
    /// How many of each kind of character (see [`bucket`]).
    counts: [u16; BUCKETS],
}

const BUCKETS: usize = 40;

/// The histogram slot of a character: letters, digits, `.`, `-`, `_`, anything else.
fn bucket(c: char) -> usize {
    match c {
        'a'..='z' => c as usize - 'a' as usize,
        '0'..='9' => 26 + (c as usize - '0' as usize),
        '.' => 36,
        '-' => 37,
        '_' => 38,
        _ => 39,
    }
}

impl Part {
    fn new(text: &str) -> Part {
        let mut counts = [0u16; BUCKETS];
        let mut chars = 0;
        for c in text.chars() {
            chars += 1;
            let slot = &mut counts[bucket(c)];
            *slot = slot.saturating_add(1);
        }
        Part {
            text: text.to_string(),
            chars,
            counts,
        }
    }

    /// Whether the edit distance to `other` may be at most `max`, from the histograms alone:
    /// one edit changes at most one count on each side, and a swap none, so more than `max`
    /// characters too many (or too few) rule it out.
    fn may_be_within(&self, other: &Part, max: usize) -> bool {
        let (mut more, mut fewer) = (0usize, 0usize);
        for (a, b) in self.counts.iter().zip(&other.counts) {
            if a > b {
                more += usize::from(a - b);
            } else {
                fewer += usize::from(b - a);
            }
            if more > max || fewer > max {
                return false;
            }
        }
        true
    }
}

/// The edit distance of two different parts when it is a near miss (at most
/// [`max_distance`] and at most `cap`). The exact distance is computed only for pairs that
/// the cheap bounds (length, character counts) do not already rule out: a portal of 50,000
/// accounts at one domain is mostly ruled out that way.
fn close(a: &Part, b: &Part, cap: usize) -> Option<usize> {
    if a.text == b.text {
        return None;
    }
    let max = max_distance(a.chars.min(b.chars)).min(cap);
    if max == 0 || a.chars.abs_diff(b.chars) > max || !a.may_be_within(b, max) {
        return None;
    }
    let d = strsim::osa_distance(&a.text, &b.text);
    (d <= max).then_some(d)
}

/// The desired state with `--no-new-guests` applied: as written when the option is off or
/// the manifest already refuses new guests, else a copy that refuses them (the option and the
/// manifest setting are one rule, checked in one place: [`check`]).
pub fn with_option(desired: &Desired, no_new_guests: bool) -> std::borrow::Cow<'_, Desired> {
    if no_new_guests && !desired.defaults.refuse_new_guests {
        let mut copy = desired.clone();
        copy.defaults.refuse_new_guests = true;
        std::borrow::Cow::Owned(copy)
    } else {
        std::borrow::Cow::Borrowed(desired)
    }
}

/// The problem, located at the invitee, that forbids planning a new guest account for
/// `email` (an invitee with no account on the portal), if any: new guests refused by the
/// manifest or the command line, or a near miss of an existing account without
/// `new_account: true`.
pub fn check(
    desired: &Desired,
    accounts: &Accounts,
    inv: &DesiredInvitee,
    email: &str,
) -> Option<Problem> {
    let at = |p: Problem| {
        p.at(
            &desired.files[inv.origin.file],
            inv.origin.span,
            "no account with this address",
        )
    };
    if desired.defaults.refuse_new_guests {
        return Some(at(Problem::error(
            "portal::new_guest_refused",
            format!("`{email}` has no account on the portal, and new guest accounts are refused here (`new_guests: false` or --no-new-guests)"),
        ))
        .with_help(
            "inviting it would create a guest account and email an invitation: create the account in DocSpace first (it is then invited by id), or fix the address",
        ));
    }
    if inv.new_account {
        return None;
    }
    let suggestion = accounts.near_miss(email)?;
    Some(
        at(Problem::error(
            "portal::new_guest_near_miss",
            format!("`{email}` has no account on the portal, but `{suggestion}` has one: this would create a new guest account and email an invitation"),
        ))
        .with_help(format!(
            "did you mean `{suggestion}`? Fix the address; if this is another person, add `new_account: true` to this invitee"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserType;
    use crate::state::ObservedUser;

    fn accounts(emails: &[&str]) -> Accounts {
        let observed = Observed {
            accounts: Some(emails.iter().map(|e| e.to_string()).collect()),
            ..Observed::default()
        };
        Accounts::new(&observed)
    }

    #[test]
    fn near_misses_are_close_at_the_same_domain_or_the_same_local_part() {
        let a = accounts(&[
            "uma.user@sandbox.test",
            "gus.guest@sandbox.test",
            "al@corp.test",
            "john.smith@gmail.com",
        ]);
        assert_eq!(
            a.near_miss("uma.usr@sandbox.test").as_deref(),
            Some("uma.user@sandbox.test")
        );
        // A transposition is one edit.
        assert_eq!(
            a.near_miss("uma.uesr@sandbox.test").as_deref(),
            Some("uma.user@sandbox.test")
        );
        assert_eq!(
            a.near_miss("john.smith@gmial.com").as_deref(),
            Some("john.smith@gmail.com")
        );
        // Far, or another domain, or short: different people.
        assert_eq!(a.near_miss("ursula@sandbox.test"), None);
        assert_eq!(a.near_miss("uma.usr@other.test"), None);
        assert_eq!(a.near_miss("ed@corp.test"), None);
        // Two edits in the domain are another domain (`acme.de`, `acme.fr`).
        let b = accounts(&["ana.lee@acme.de"]);
        assert_eq!(b.near_miss("ana.lee@acme.fr"), None);
        assert_eq!(
            b.near_miss("ana.lee@acme.d").as_deref(),
            Some("ana.lee@acme.de")
        );
        // The address itself is no near miss of itself.
        assert_eq!(a.near_miss("uma.user@sandbox.test"), None);
    }

    /// Not a speed claim: prints how long the check takes against a large one-domain portal
    /// (`cargo test --lib newguest -- --ignored --nocapture`).
    #[test]
    #[ignore]
    #[allow(clippy::print_stdout)] // A measurement to read, run by hand.
    fn measure_a_large_portal() {
        let emails: Vec<String> = (0..50_000)
            .map(|n| format!("person.{n:05}@corp.test"))
            .collect();
        let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
        let a = accounts(&refs);
        let started = std::time::Instant::now();
        let mut found = 0;
        for n in 0..100 {
            found += usize::from(
                a.near_miss(&format!("new.comer.{n:03}@corp.test"))
                    .is_some(),
            );
        }
        println!(
            "100 new guests x 50,000 accounts: {:?} ({found} near misses)",
            started.elapsed()
        );
    }

    #[test]
    fn members_and_the_key_user_are_candidates_too() {
        let me = ObservedUser {
            id: "me".into(),
            email: "admin@sandbox.test".into(),
            user_type: UserType::DocSpaceAdmin,
            pending: false,
            terminated: false,
            type_known: true,
            created: None,
            owner: false,
            invited_by: None,
        };
        let a = Accounts::new(&Observed {
            me: Some(me),
            ..Observed::default()
        });
        assert_eq!(
            a.near_miss("admn@sandbox.test").as_deref(),
            Some("admin@sandbox.test")
        );
    }
}
