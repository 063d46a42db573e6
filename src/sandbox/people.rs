//! People and groups lookups (docs/docspace-api.md, "People and groups lookup").

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use std::cmp::Ordering;

use super::Shared;
use super::envelope::{ApiError, ApiResult, Params, Reply, USER_NOT_FOUND, parse_body};
use super::render;
use super::rules::{EmailCollation, UserSort, UserType};
use super::state::{
    ACTIVATION_ACTIVATED, ACTIVATION_PENDING, PortalState, Resend, STATUS_ACTIVE, STATUS_PENDING,
    STATUS_TERMINATED, User,
};

fn user_not_found() -> ApiError {
    ApiError::NotFound(USER_NOT_FOUND.to_string())
}

/// How people lists are ordered: `DbUserService.GetUsers` for a `UserSortType`, with
/// `sortOrder` 0 ascending (the default) or 1 descending.
///
/// The server's orders are not total: the default (`FirstName`) orders by status (active,
/// pending, others) and then by first name (email for pending users), so everyone called "Anna"
/// ties, and a database returns ties in whatever order its plan produces — different pages may
/// see them differently, so offset paging overlaps and skips. The sandbox reproduces that on
/// purpose: ties are ordered by a hash that changes with every request. Only `sortBy=email`
/// (emails are unique) gives a total order.
struct PeopleOrder {
    sort: UserSort,
    asc: bool,
    /// Changes per request; orders ties.
    nonce: u64,
    emails: EmailCollation,
}

impl PeopleOrder {
    fn from_params(params: &Params, nonce: u64, emails: EmailCollation) -> ApiResult<PeopleOrder> {
        let asc = match params.text("sortOrder") {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("ascending") => true,
            Some(v) if v.eq_ignore_ascii_case("descending") => false,
            Some(_) => params.int("sortOrder")?.unwrap_or(0) == 0,
        };
        Ok(PeopleOrder {
            sort: UserSort::parse(params.text("sortBy")),
            asc,
            nonce,
            emails,
        })
    }

    /// Text as the database compares it (the default MySQL collation ignores case).
    fn text(&self, a: &str, b: &str) -> Ordering {
        match self.emails {
            EmailCollation::CaseSensitive => a.cmp(b),
            EmailCollation::CaseInsensitive => a.to_lowercase().cmp(&b.to_lowercase()),
        }
    }

    fn dir(&self, o: Ordering) -> Ordering {
        if self.asc { o } else { o.reverse() }
    }

    /// A per-request shuffle key for ties (splitmix64 of the id and the nonce).
    fn tie(&self, u: &User) -> u64 {
        let (hi, lo) = u.id.as_u64_pair();
        let mut z = hi ^ lo.rotate_left(17) ^ self.nonce.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn compare(&self, s: &PortalState, a: &User, b: &User) -> Ordering {
        let status_rank = |u: &User| match u.status {
            STATUS_ACTIVE => 0,
            STATUS_PENDING => 1,
            _ => 2,
        };
        let by_status = || status_rank(a).cmp(&status_rank(b));
        let name_or_email = |u: &'_ User, last: bool| -> String {
            if u.status == STATUS_PENDING {
                u.email.clone()
            } else if last {
                u.last_name.clone()
            } else {
                u.first_name.clone()
            }
        };
        let primary = match self.sort {
            UserSort::FirstName | UserSort::DisplayName => by_status().then_with(|| {
                self.dir(self.text(&name_or_email(a, false), &name_or_email(b, false)))
            }),
            UserSort::LastName => by_status().then_with(|| {
                self.dir(self.text(&name_or_email(a, true), &name_or_email(b, true)))
            }),
            UserSort::Email => self.dir(self.text(&a.email, &b.email)),
            UserSort::RegistrationDate => self.dir(a.registration_date.cmp(&b.registration_date)),
            UserSort::Type => {
                // Owner, DocSpace admins, room admins, users, guests; then first name
                // ascending whatever the direction.
                let rank = |u: &User| match (u.is_owner, u.user_type) {
                    (true, _) => 0,
                    (_, UserType::DocSpaceAdmin) => 1,
                    (_, UserType::RoomAdmin) => 2,
                    (_, UserType::User) => 3,
                    (_, UserType::Guest) => 4,
                };
                self.dir(rank(a).cmp(&rank(b)))
                    .then_with(|| self.text(&a.first_name, &b.first_name))
            }
            UserSort::Department => {
                let groups = |u: &User| {
                    s.groups
                        .iter()
                        .filter(|g| g.members.contains(&u.id))
                        .count()
                };
                self.dir(groups(a).cmp(&groups(b)))
                    .then_with(|| self.dir(self.text(&a.first_name, &b.first_name)))
            }
            // Nothing the sandbox tracks separates users here (no quotas, no inviters): all tie.
            UserSort::UsedSpace | UserSort::CreatedBy => Ordering::Equal,
        };
        primary.then_with(|| self.tie(a).cmp(&self.tie(b)))
    }
}

fn sorted_users<'a>(
    s: &'a PortalState,
    order: &PeopleOrder,
    keep: impl Fn(&User) -> bool,
) -> Vec<&'a User> {
    let mut users: Vec<&User> = s.users.iter().filter(|u| keep(u)).collect();
    users.sort_by(|a, b| order.compare(s, a, b));
    users
}

/// `GET /people/@self`: the key's user.
pub async fn me(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        let user = s.user(s.key_user).ok_or_else(user_not_found)?;
        Ok(Reply::new(render::user_full(s, user)))
    })
    .await
}

/// `GET /keys/@self`: the calling key (`ApiKeysController.GetApiKey`, `ApiKeyResponseDto`).
/// The key's permissions are the sandbox's `key_scopes` (none listed means `*`); it never
/// expires. `createBy` is the short profile (the SDK's `EmployeeDto`).
/// The key itself is not echoed: only a mask with its last four characters.
pub async fn key_self(State(app): State<Shared>) -> ApiResult {
    let postfix: String = app
        .api_key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    app.read(|s| {
        let user = s.user(s.key_user).ok_or_else(user_not_found)?;
        Ok(Reply::new(serde_json::json!({
            "id": "5a4db0c5-0000-4000-8000-00000000a11e",
            "name": "sandbox",
            "key": format!("sk-***{postfix}"),
            "keyPostfix": postfix,
            "permissions": app.key_scopes,
            "createOn": render::date(user.registration_date),
            // `EmployeeDto`, the short profile (`ApiKeyMapper.MapManual` fills it through
            // `EmployeeDtoHelper.GetAsync`), not the full one.
            "createBy": render::user_short(user),
            "isActive": true
        })))
    })
    .await
}

/// `GET /settings/version/build` (`VersionController`, `BuildVersion`): anonymous callers
/// may read it. The sandbox says what it is.
pub async fn build_version() -> ApiResult {
    Ok(Reply::new(serde_json::json!({
        "docSpace": concat!("sandbox ", env!("CARGO_PKG_VERSION")),
        "documentServer": null
    })))
}

/// `UserManager.CanUserViewAnotherUserAsync`, checked by `GetProfileByEmail` and
/// `GetProfileByUserId` after the lookup: a profile the key's user may not see is a 403.
fn visible(s: &PortalState, user: &User) -> ApiResult<()> {
    let me = s.user(s.key_user).ok_or_else(user_not_found)?;
    let related = s.related(me.id, user.id);
    if super::people_rules::can_view(me.actor(), me.id == user.id, user.user_type, related) {
        Ok(())
    } else {
        Err(ApiError::Security)
    }
}

/// `GET /people/{id}`: 404 unknown, 403 not visible to the caller.
pub async fn by_id(State(app): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let id = Uuid::parse_str(&id).map_err(|_| user_not_found())?;
    app.read(|s| {
        let user = s.user(id).ok_or_else(user_not_found)?;
        visible(s, user)?;
        Ok(Reply::new(render::user_full(s, user)))
    })
    .await
}

/// `GET /people/email?email=`: `UserManager.GetUserByEmailAsync`, a database comparison: it
/// ignores case on MySQL installs (the default) and not on PostgreSQL ones
/// (`--case-sensitive-emails`). Empty → 400; a profile the caller may not see → 403
/// (a room admin and a guest they have no relation with, a user or guest and anyone else).
pub async fn by_email(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let email = params
        .text("email")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::Argument("Value cannot be null. (Parameter 'email')".into()))?
        .to_string();
    let emails = app.emails;
    app.read(|s| {
        let user = s.user_by_email(&email, emails).ok_or_else(user_not_found)?;
        visible(s, user)?;
        Ok(Reply::new(render::user_full(s, user)))
    })
    .await
}

/// `GetByFilterAsync`, behind `GET /people` and `GET /people/filter`: users and guests may
/// not search (403); a room admin's search leaves out guests it has no relation with
/// (`IncludeStrangers` is false for anyone but a DocSpace admin, `DbUserService`). Returns
/// which accounts the caller's search shows.
fn searchable(s: &PortalState) -> ApiResult<impl Fn(&User) -> bool + '_> {
    let me = s.user(s.key_user).ok_or_else(user_not_found)?;
    let me_id = me.id;
    let strangers = match me.user_type {
        UserType::User | UserType::Guest => return Err(ApiError::Security),
        UserType::DocSpaceAdmin => true,
        UserType::RoomAdmin => false,
    };
    Ok(move |u: &User| strangers || u.user_type != UserType::Guest || s.related(me_id, u.id))
}

/// `GET /people`: active users only (pending invitees are not listed), searched as
/// [`searchable`] allows.
pub async fn active(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let order = PeopleOrder::from_params(&params, app.next_nonce(), app.emails)?;
    app.read(|s| {
        let shown = searchable(s)?;
        let users: Vec<Value> = sorted_users(s, &order, |u| u.status == STATUS_ACTIVE && shown(u))
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|u| render::user_full(s, u))
            .collect();
        Ok(Reply::new(Value::Array(users)))
    })
    .await
}

/// `GET /people/filter`: whitespace-separated terms must all match first name, last name or
/// email (case-insensitive substring); `area` 0 all, 1 people, 2 guests. Envelope `count` is
/// the page length and `total` the number of matches (docs/docspace-api.md, "Response envelopes").
pub async fn filter(State(app): State<Shared>, uri: Uri) -> ApiResult {
    let params = Params::from_query(uri.query());
    let (start, count) = params.paging()?;
    let terms: Vec<String> = params
        .text("filterValue")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    let area = params.int("area")?.unwrap_or(0);
    let status = params.int("employeeStatus")?;
    let activation = params.int("activationStatus")?;
    let order = PeopleOrder::from_params(&params, app.next_nonce(), app.emails)?;
    app.read(|s| {
        let shown = searchable(s)?;
        let matches = sorted_users(s, &order, |u| {
            if !shown(u) {
                return false;
            }
            let fields = [
                u.first_name.to_lowercase(),
                u.last_name.to_lowercase(),
                u.email.to_lowercase(),
            ];
            let text_ok = terms.iter().all(|t| fields.iter().any(|f| f.contains(t)));
            let area_ok = match area {
                1 => u.user_type != UserType::Guest,
                2 => u.user_type == UserType::Guest,
                _ => true,
            };
            // Without a status filter, terminated users are left out (a guess).
            let status_ok = match status {
                Some(7) => true,
                Some(st) => u.status == st,
                None => u.status != STATUS_TERMINATED,
            };
            let activation_ok = activation.is_none_or(|a| u.activation_status == a);
            text_ok && area_ok && status_ok && activation_ok
        });
        let total = matches.len() as i64;
        let page: Vec<Value> = matches
            .into_iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|u| render::user_full(s, u))
            .collect();
        let n = page.len() as i64;
        Ok(Reply::new(Value::Array(page)).count(n).total(total))
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
struct ResendRequest {
    userids: Option<Vec<Uuid>>,
    resendall: Option<bool>,
}

/// `HasAccessInviteAsync` of `UserController.ResendUserInvites`: whether `caller` may resend
/// the invitation of the pending account `user`. A guest caller never may; a caller who is
/// not a DocSpace admin may not for a guest someone else created unless the guest is among
/// the caller's user relations (`related`); then by the account's type: a DocSpace admin only
/// by the owner, a room admin only by a DocSpace admin, a user by anyone but a user, a guest
/// by anyone.
fn may_reinvite(caller: &User, user: &User, related: bool) -> bool {
    if caller.user_type == UserType::Guest {
        return false;
    }
    let caller_admin = caller.user_type == UserType::DocSpaceAdmin;
    if !caller_admin
        && user.user_type == UserType::Guest
        && user.invited_by.is_some_and(|by| by != caller.id)
        && !related
    {
        return false;
    }
    match user.user_type {
        UserType::DocSpaceAdmin => caller.is_owner,
        UserType::RoomAdmin => caller_admin,
        UserType::User => caller.user_type != UserType::User,
        UserType::Guest => true,
    }
}

/// `PUT /people/invite` (`UserController.ResendUserInvites`, `UpdateMembersRequestDto`):
/// sends the invitation email again to each listed account that is not active and not
/// terminated, or with `resendAll` to every pending account. Each email sent is recorded in
/// the state's `resends` (count and last time) so tests can tell exactly who got one. The
/// answer lists every listed account that exists, sent to or not. Under the `SensitiveApi`
/// rate-limit policy (see [`super::faults::Faults::admit_sensitive`]).
pub async fn resend_invites(State(app): State<Shared>, body: Bytes) -> Response {
    if let Some(limited) = app.faults.admit_sensitive(std::time::Instant::now()) {
        return limited;
    }
    let result: ApiResult = async {
        let req: ResendRequest = parse_body(&body)?;
        app.write(|s| {
            let caller = s.user(s.key_user).ok_or_else(user_not_found)?;
            let caller_is_admin = caller.is_owner
                || matches!(
                    caller.user_type,
                    UserType::DocSpaceAdmin | UserType::RoomAdmin
                );
            let caller_id = caller.id;
            let listed: Vec<Uuid> = if req.resendall.unwrap_or(false) {
                if !caller_is_admin {
                    return Err(ApiError::Security);
                }
                s.users
                    .iter()
                    .filter(|u| u.activation_status == ACTIVATION_PENDING)
                    .map(|u| u.id)
                    .collect()
            } else {
                // A missing list reaches LINQ as null (`Any` or `ToAsyncEnumerable`), whose
                // `ArgumentNullException` the server's `ResponseWrapper` answers 400.
                let ids = req.userids.clone().ok_or_else(|| {
                    ApiError::Argument("Value cannot be null. (Parameter 'source')".to_string())
                })?;
                if !caller_is_admin && ids.iter().any(|id| *id != caller_id) {
                    return Err(ApiError::Security);
                }
                ids
            };
            let now = Utc::now();
            let mut answer = Vec::new();
            let caller = caller.clone();
            for id in listed {
                let Some(user) = s.user(id) else { continue };
                // `UserInfo.IsActive` is the Activated flag of the activation status; active
                // and terminated accounts are skipped, and a pending one only gets the email
                // when the caller may re-invite it (`HasAccessInviteAsync`).
                let active = user.activation_status & ACTIVATION_ACTIVATED != 0;
                let related = s.relations.get(&caller.id).is_some_and(|t| t.contains(&id));
                let allowed = caller.id == user.id || may_reinvite(&caller, user, related);
                if !active && user.status != STATUS_TERMINATED && allowed {
                    let entry = s.resends.entry(id).or_insert(Resend {
                        count: 0,
                        last: now,
                    });
                    entry.count += 1;
                    entry.last = now;
                }
                if let Some(user) = s.user(id) {
                    answer.push(render::user_full(s, user));
                }
            }
            // The action streams (`IAsyncEnumerable<EmployeeFullDto>`), which is neither a
            // `List<object>` nor an `IEnumerable<object>`, so `SuccessApiResponse.Count` says 1
            // whatever the list holds (`common/ASC.Api.Core/Middleware/CommonApiResponse.cs`).
            Ok(Reply::new(Value::Array(answer)).count(1))
        })
        .await
    }
    .await;
    match result {
        Ok(reply) => reply.into_response(),
        Err(e) => e.into_response(),
    }
}
