//! Inviting people with a type and changing types (docs/docspace-api.md, "People and user
//! types"), written from `products/ASC.People/Server/Api/UserController.cs` (`InviteUsers`,
//! `UpdateUserType`) and `web/ASC.Web.Core/Users/UserManagerWrapper.cs`
//! (`AddInvitedUserAsync`, `UpdateUserTypeAsync`); the rules themselves are in
//! [`super::people_rules`].

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::Shared;
use super::envelope::{ApiError, ApiResult, Reply, dotnet_len, parse_body};
use super::groups::caller;
use super::people_rules::{self, Actor, Target};
use super::render;
use super::rules::{EmailCollation, UserType};
use super::state::{ACTIVATION_PENDING, InvitationWindow, PortalState, STATUS_TERMINATED};

/// `GET /settings/invitationsettings` (`SettingsController.GetTenantUserInvitationSettings`,
/// `TenantUserInvitationSettingsDto`): open to anyone signed in (the action is anonymous).
pub async fn invitation_settings(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        let v = &s.invitation_settings;
        Ok(Reply::new(json!({
            "allowInvitingMembers": v.allow_inviting_members,
            "allowInvitingGuests": v.allow_inviting_guests,
        })))
    })
    .await
}

/// A type as bound from a request: `None` is `EmployeeType.All` (0, or a body without
/// `type`), which no user has.
type Wanted = Option<UserType>;

/// Binds an `EmployeeType` from JSON (number or name); 0 and a missing value are `All`.
fn bind_type(value: Option<&Value>, field: &str) -> ApiResult<Wanted> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => String::new(),
    };
    if text.trim() == "0" || text.trim().eq_ignore_ascii_case("all") {
        return Ok(None);
    }
    people_rules::parse_type(&text).map(Some).ok_or_else(|| {
        ApiError::validation(
            field,
            "The JSON value could not be converted to ASC.Core.Users.EmployeeType.",
        )
    })
}

/// `TenantQuotaException` from `CountPaidUserChecker.CheckAppend` when one more paid seat
/// does not fit (`Resource.TariffsFeature_manager_exception`).
fn check_append_paid(s: &PortalState) -> ApiResult<()> {
    match s.paid_seats {
        Some(max) if s.paid_seats_used() + 1 > max => Err(ApiError::PaymentRequired(format!(
            "The number of admins should not exceed {max}"
        ))),
        _ => Ok(()),
    }
}

/// Applies `UpdateUserTypeAsync` to one user: `Ok(true)` when the type changed, `Ok(false)`
/// when the server's rules leave it (see [`people_rules::type_change_happens`]); a paid seat
/// that does not fit is a 402.
fn change_type(
    s: &mut PortalState,
    actor: (Uuid, Actor),
    user: Uuid,
    wanted: Wanted,
) -> ApiResult<bool> {
    let Some(wanted) = wanted else {
        return Ok(false);
    };
    let Some(u) = s.user(user) else {
        return Ok(false);
    };
    let target = Target {
        current: u.user_type,
        is_owner: u.is_owner,
        is_self: u.id == actor.0,
    };
    if !people_rules::type_change_happens(actor.1, target, wanted) {
        return Ok(false);
    }
    if people_rules::is_paid(wanted) && !people_rules::is_paid(target.current) {
        check_append_paid(s)?;
    }
    if let Some(u) = s.users.iter_mut().find(|u| u.id == user) {
        u.user_type = wanted;
    }
    Ok(true)
}

#[derive(Debug, Default, Deserialize)]
struct TypeRequest {
    userids: Option<Vec<Uuid>>,
}

/// `PUT /people/type/{type}` (`UserController.UpdateUserType`). In order: the caller may
/// manage users of that type (`Action_AddRemoveUser`: DocSpace admins; room admins for
/// `User` and `Guest`) else 403; `Guest` while inviting guests is forbidden is a 403; then
/// user by user, in the order sent: one the caller cannot see, a terminated one, or one whose
/// change the server's rules refuse (the same type, a downgrade, the owner, oneself) is a 403
/// **after the users before it were changed** (they keep the change). The answer lists the
/// changed users' full profiles; `count` is 1 (the action streams).
pub async fn change(
    State(app): State<Shared>,
    Path(type_text): Path<String>,
    body: Bytes,
) -> ApiResult {
    let wanted = match people_rules::parse_type(&type_text) {
        Some(t) => Some(t),
        None if type_text.trim() == "0" || type_text.eq_ignore_ascii_case("all") => None,
        None => {
            return Err(ApiError::validation(
                "type",
                format!("The value '{type_text}' is not valid."),
            ));
        }
    };
    let req: TypeRequest = parse_body(&body)?;
    app.write(|s| {
        let actor = caller(s)?;
        let allowed = match wanted {
            Some(t) => people_rules::may_add_remove_user(actor.1, t),
            None => actor.1.user_type == UserType::DocSpaceAdmin,
        };
        if !allowed {
            return Err(ApiError::Security);
        }
        if wanted == Some(UserType::Guest) && !s.invitation_settings.allow_inviting_guests {
            return Err(ApiError::Security);
        }
        let ids = req.userids.ok_or_else(|| {
            ApiError::Argument("Value cannot be null. (Parameter 'source')".to_string())
        })?;
        let mut changed = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(user) = s.user(id) else {
                // Guess: an unknown id is refused like one the caller cannot see.
                return Err(ApiError::Security);
            };
            let related = s.related(actor.0, id);
            if !people_rules::can_view(actor.1, id == actor.0, user.user_type, related)
                || user.status == STATUS_TERMINATED
            {
                return Err(ApiError::Security);
            }
            if !change_type(s, actor, id, wanted)? {
                return Err(ApiError::Security);
            }
            changed.push(id);
        }
        let answer: Vec<Value> = changed
            .iter()
            .filter_map(|id| s.user(*id))
            .map(|u| render::user_full(s, u))
            .collect();
        Ok(Reply::new(Value::Array(answer)).count(1))
    })
    .await
}

#[derive(Debug, Deserialize)]
struct InviteEntry {
    email: Option<String>,
    #[serde(rename = "type")]
    kind: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct InviteRequest {
    invitations: Option<Vec<InviteEntry>>,
    culture: Option<String>,
}

/// One invitation after model binding.
struct Invite {
    email: String,
    wanted: Wanted,
}

/// Model validation of `InviteUsersRequestDto`: `invitations` is required; each `email` is
/// an `[EmailAddress]` of at most 255 characters; `type` binds to `EmployeeType`.
fn bind_invites(req: InviteRequest) -> ApiResult<Vec<Invite>> {
    let entries = req
        .invitations
        .ok_or_else(|| ApiError::validation("Invitations", "The Invitations field is required."))?;
    let mut out = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let email = e.email.unwrap_or_default();
        if !email.is_empty()
            && (dotnet_len(&email) > 255 || !people_rules::looks_like_email(&email))
        {
            return Err(ApiError::validation(
                &format!("Invitations[{i}].Email"),
                "The Email field is not a valid e-mail address.",
            ));
        }
        let wanted = bind_type(e.kind.as_ref(), &format!("invitations[{i}].type"))?;
        out.push(Invite { email, wanted });
    }
    Ok(out)
}

/// The `EmailInvitationApi` rate-limit policy (`BaseStartup`): when the portal sets
/// `MaxEmailInvitationsPerDay` (state `invitations_per_day`), a fixed one-day window per portal
/// in which every invitation with an email takes one permit. The permits are taken one by one
/// (`LooppedRedisFixedWindowRateLimiter`) and the last decides, so a request that does not fit
/// is answered 429 and still uses up its permits. A body that is not JSON or names no email is
/// not limited. `None` admits the call.
fn admit_invitations(s: &mut PortalState, body: &[u8]) -> Option<Response> {
    let limit = s.invitations_per_day?;
    let count = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            let list = v
                .as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("invitations"))?
                .1
                .as_array()?
                .clone();
            Some(
                list.iter()
                    .filter(|i| {
                        i.as_object()
                            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("email")))
                            .and_then(|(_, e)| e.as_str())
                            .is_some_and(|e| !e.is_empty())
                    })
                    .count() as u32,
            )
        })
        .unwrap_or(0);
    if count == 0 {
        return None;
    }
    let now = Utc::now();
    let day = Duration::days(1);
    let window = match s.invitation_window.take() {
        Some(w) if w.start + day > now => w,
        _ => InvitationWindow {
            start: now,
            used: 0,
        },
    };
    let used = window.used.saturating_add(count);
    let reset = window.start + day;
    s.invitation_window = Some(InvitationWindow { used, ..window });
    if used <= limit {
        return None;
    }
    let secs = (reset - now).num_seconds().max(1);
    let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    headers.insert("X-RateLimit-Limit", HeaderValue::from(limit));
    headers.insert("X-RateLimit-Remaining", HeaderValue::from(0));
    headers.insert("X-RateLimit-Reset", HeaderValue::from(reset.timestamp()));
    Some(response)
}

/// `POST /people/invite` (`UserController.InviteUsers`); see [`invite_all`] for the rules.
/// Under the `EmailInvitationApi` limit ([`admit_invitations`]), which runs before anything
/// else.
pub async fn invite(State(app): State<Shared>, body: Bytes) -> Response {
    let emails = app.emails;
    let result = app
        .write(|s| {
            if let Some(limited) = admit_invitations(s, &body) {
                return Ok(Err(limited));
            }
            let req: InviteRequest = parse_body(&body)?;
            let culture = req.culture.clone();
            let invites = bind_invites(req)?;
            invite_all(s, &invites, culture.as_deref(), emails).map(Ok)
        })
        .await;
    match result {
        Ok(Ok(reply)) => reply.into_response(),
        Ok(Err(limited)) => limited,
        Err(e) => e.into_response(),
    }
}

/// The body of `InviteUsers`: inviting members forbidden → 403; a user or guest caller → 403;
/// room-admin and DocSpace-admin invitations beyond the paid seats → 402 before anything;
/// then one by one, in order (earlier ones stay done): a bad address → 400 `Incorrect email`;
/// a guest, a room admin by anyone but a DocSpace admin, a DocSpace admin by anyone but the
/// owner → 403; an existing account: terminated → 400 `User disabled: EMAIL`, of a lower
/// type → upgraded when the type rules allow (else left as it is, no error), and never
/// downgraded; a new address → a pending account of that type created by the caller. The
/// answer is every pending account the caller can see (short profiles), not only these.
fn invite_all(
    s: &mut PortalState,
    invites: &[Invite],
    culture: Option<&str>,
    emails: EmailCollation,
) -> ApiResult {
    if !s.invitation_settings.allow_inviting_members {
        return Err(ApiError::Security);
    }
    let actor = caller(s)?;
    if matches!(actor.1.user_type, UserType::User | UserType::Guest) {
        return Err(ApiError::Security);
    }
    let paid = invites
        .iter()
        .filter(|i| i.wanted.is_some_and(people_rules::is_paid))
        .count() as u32;
    if let Some(max) = s.paid_seats
        && paid > 0
        && max < s.paid_seats_used() + paid
    {
        let left = max.saturating_sub(s.paid_seats_used());
        return Err(ApiError::PaymentRequired(format!(
            "The number of admins exceeds the limit: {paid}/{left}."
        )));
    }
    for invite in invites {
        invite_one(s, actor, invite, culture, emails)?;
    }
    let pending: Vec<Value> = s
        .users
        .iter()
        .filter(|u| u.activation_status == ACTIVATION_PENDING)
        .filter(|u| {
            people_rules::can_view(
                actor.1,
                u.id == actor.0,
                u.user_type,
                s.related(actor.0, u.id),
            )
        })
        .map(render::user_short)
        .collect();
    Ok(Reply::new(Value::Array(pending)))
}

fn invite_one(
    s: &mut PortalState,
    actor: (Uuid, Actor),
    invite: &Invite,
    culture: Option<&str>,
    emails: EmailCollation,
) -> ApiResult<()> {
    if !people_rules::looks_like_email(&invite.email) {
        return Err(ApiError::Argument("Incorrect email".to_string()));
    }
    if invite
        .wanted
        .is_some_and(|t| !people_rules::may_invite_as(actor.1, t))
    {
        return Err(ApiError::Security);
    }
    if let Some(user) = s.user_by_email(&invite.email, emails) {
        if user.status == STATUS_TERMINATED {
            return Err(ApiError::Argument(format!(
                "User disabled: {}",
                invite.email
            )));
        }
        let id = user.id;
        let higher = invite
            .wanted
            .is_some_and(|t| people_rules::type_rank(user.user_type) < people_rules::type_rank(t));
        if higher && !change_type(s, actor, id, invite.wanted)? {
            return Ok(());
        }
        s.add_relation(actor.0, id);
        return Ok(());
    }
    // `All` makes an account in no type group, i.e. a room admin; `SaveUserInfo` demands
    // `Action_AddRemoveUser` for the type and checks the seat for anything but users and
    // guests.
    let user_type = invite.wanted.unwrap_or(UserType::RoomAdmin);
    let demand = match invite.wanted {
        Some(t) => people_rules::may_add_remove_user(actor.1, t),
        None => actor.1.user_type == UserType::DocSpaceAdmin,
    };
    if !demand {
        return Err(ApiError::Security);
    }
    if people_rules::is_paid(user_type) {
        check_append_paid(s)?;
    }
    s.add_invited_user(
        &invite.email,
        user_type,
        culture.unwrap_or("en-US"),
        actor.0,
    );
    Ok(())
}

/// `GET /portal/payment/quota` (`PaymentController.GetQuotaPaymentInformation`,
/// `QuotaHelper.GetCurrentQuotaAsync`): the tariff as a `QuotaDto`. Of its features only the
/// paid seats are emulated: `manager` (`CountPaidUserFeature`), `value` the seats (-1 when
/// unlimited), `used.value` the seats taken (room admins and DocSpace admins), hidden from a
/// caller of type user. Guests are refused. The price and the other features are left out.
pub async fn quota(State(app): State<Shared>) -> ApiResult {
    app.read(|s| {
        let (_, actor) = caller(s)?;
        if actor.user_type == UserType::Guest {
            return Err(ApiError::Security);
        }
        let used = (actor.user_type != UserType::User).then(|| s.paid_seats_used());
        let manager = json!({
            "id": "manager",
            "title": "",
            "value": s.paid_seats.map_or(-1, i64::from),
            "type": "count",
            "used": { "value": used, "title": "Admins added:" },
            "priceTitle": "Number of admins",
        });
        Ok(Reply::new(render::strip_nulls(json!({
            "id": -1,
            // Made up: a real portal names its tariff (`Tariffs_{name}`, e.g. "Business").
            "title": "Sandbox",
            "nonProfit": false,
            "free": s.paid_seats.is_none(),
            "trial": false,
            "price": {},
            "features": [manager],
        }))))
    })
    .await
}
