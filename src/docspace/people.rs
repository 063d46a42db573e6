//! People endpoints of [`Client`]: the key's user and the key's own record, people by email
//! and page, groups, resending invitations, and the portal's version (the first thing
//! `doctor` asks, with the key's record).

use reqwest::Method;

use super::client::{Call, Client, PAGE_SIZE};
use super::error::ApiError;
use super::policy::CallClass;
use super::wire::{Envelope, GroupDto, RoomResendRequest, UserDto};

/// How people are paged: by email, ascending. Without `sortBy` the server orders by status and
/// first name only (`DbUserService`), and SQL OFFSET pages over ties overlap or skip once a
/// portal has more than a page of accounts; a skipped person would be planned as a new guest.
/// Email is unique per portal, so this order is total (docs/docspace-api.md, "Paging people").
pub const PEOPLE_ORDER: [(&str, &str); 2] = [("sortBy", "Email"), ("sortOrder", "0")];

fn people_query() -> Vec<(&'static str, String)> {
    let mut q = vec![("area", "0".to_string())];
    q.extend(PEOPLE_ORDER.iter().map(|(k, v)| (*k, v.to_string())));
    q
}

impl Client {
    /// The key owner's profile (`GET /api/2.0/people/@self`): the smoke test for key and scopes.
    pub async fn me(&self) -> Result<UserDto, ApiError> {
        let call = Call::new(Method::GET, "/api/2.0/people/@self", CallClass::Read);
        self.fetch(call).await
    }

    // `key_self`, `build_version`, `people_total` and `user_by_email_as_written` are the
    // calls only `doctor` makes (docs/book/src/howto/doctor.md, "What the read-only checks
    // read").

    /// The key's own record (`GET /api/2.0/keys/@self`, `ApiKeysController.GetApiKey`,
    /// allowed to every key whatever its scopes). Only the name, scopes, expiry and state are
    /// decoded: the record also carries a `key` field, which is never read.
    pub async fn key_self(&self) -> Result<ApiKeyInfo, ApiError> {
        let call = Call::new(Method::GET, "/api/2.0/keys/@self", CallClass::Read);
        self.fetch(call).await
    }

    /// The portal's build versions (`GET /api/2.0/settings/version/build`, anonymous on the
    /// server: `VersionController.GetBuildVersions`).
    pub async fn build_version(&self) -> Result<BuildVersion, ApiError> {
        let call = Call::new(
            Method::GET,
            "/api/2.0/settings/version/build",
            CallClass::Read,
        );
        self.fetch(call).await
    }

    /// The user with this email, or `None` when the portal has none (docs/docspace-api.md, "People and groups lookup").
    ///
    /// The server matches with SQL equality, which folds case on MySQL installs but not on
    /// PostgreSQL ones (docs/docspace-api.md, "Email case"). So the email is looked up as
    /// written first and, when that finds nothing and the lower-cased form differs, lower-cased
    /// (the form most accounts are stored in). Whatever comes back is accepted only when it
    /// is the same address compared case-insensitively.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        let written = email.trim();
        let wanted = crate::model::normalise_email(written);
        let mut forms = vec![written.to_string()];
        if wanted != written {
            forms.push(wanted.clone());
        }
        for form in forms {
            if let Some(user) = self.user_by_exact_email(&form).await?
                && crate::model::normalise_email(&user.email) == wanted
            {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }

    async fn user_by_exact_email(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        let call =
            Call::new(Method::GET, "/api/2.0/people/email", CallClass::Read).query("email", email);
        match self.fetch(call).await {
            Ok(user) => Ok(Some(user)),
            // An unknown email is 404 with a JSON message ("The user could not be found";
            // docs/docspace-api.md, "People and groups lookup"). An unknown or suspended portal is also 404 but with an empty body
            // (docs/docspace-api.md, "Authentication"): that must stay an error, or every invitee would look new.
            Err(e) if e.is_not_found() && e.message().is_some() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user with exactly this email as the server compares it (no lower-cased second
    /// try, unlike [`Client::user_by_email`]): how the portal's own email comparison behaves.
    pub async fn user_by_email_as_written(&self, email: &str) -> Result<Option<UserDto>, ApiError> {
        self.user_by_exact_email(email).await
    }

    /// Every account, pending invitees included (`GET /people/filter`, area 0 = all; the plain
    /// `GET /people` lists active users only, docs/docspace-api.md, "People and groups lookup"), in a total order (see
    /// [`PEOPLE_ORDER`]).
    pub async fn list_people(&self) -> Result<Vec<UserDto>, ApiError> {
        self.fetch_all("/api/2.0/people/filter", &people_query())
            .await
    }

    /// One page of people (`count=100` from `start`, in a total order) and the envelope
    /// `total`, so a caller can choose between listing everyone and per-email lookups
    /// (docs/architecture.md, "Performance model").
    pub async fn people_page(&self, start: i64) -> Result<(Vec<UserDto>, Option<i64>), ApiError> {
        self.people_filter(start, PAGE_SIZE).await
    }

    /// The number of accounts (`total` of one `GET /people/filter` page of a single person),
    /// which also shows whether the key's user may search people at all (docs/docspace-api.md, "People and groups lookup": User and
    /// Guest callers get 403).
    pub async fn people_total(&self) -> Result<Option<i64>, ApiError> {
        Ok(self.people_filter(0, 1).await?.1)
    }

    /// `count` people from `start` (in [`PEOPLE_ORDER`]) and the envelope `total`.
    async fn people_filter(
        &self,
        start: i64,
        count: i64,
    ) -> Result<(Vec<UserDto>, Option<i64>), ApiError> {
        let mut call = Call::new(Method::GET, "/api/2.0/people/filter", CallClass::Read);
        for (k, v) in people_query() {
            call = call.query(k, v);
        }
        let call = call.query("count", count).query("startIndex", start);
        let envelope: Envelope<Vec<UserDto>> = self.fetch_envelope(call).await?;
        Ok((envelope.response.unwrap_or_default(), envelope.total))
    }

    /// Every group (`GET /api/2.0/group`).
    pub async fn list_groups(&self) -> Result<Vec<GroupDto>, ApiError> {
        self.fetch_all("/api/2.0/group", &[]).await
    }

    /// One group by id.
    pub async fn get_group(&self, id: &str) -> Result<GroupDto, ApiError> {
        let call = Call::new(Method::GET, format!("/api/2.0/group/{id}"), CallClass::Read);
        self.fetch(call).await
    }

    /// The members of one group (`GET /api/2.0/group/{id}?includeMembers=true`, full
    /// profiles), for `access`: who a group share lets into a room.
    pub async fn group_members(&self, id: &str) -> Result<Vec<UserDto>, ApiError> {
        #[derive(serde::Deserialize)]
        struct WithMembers {
            #[serde(default)]
            members: Vec<UserDto>,
        }
        let call = Call::new(Method::GET, format!("/api/2.0/group/{id}"), CallClass::Read)
            .query("includeMembers", "true");
        let group: WithMembers = self.fetch(call).await?;
        Ok(group.members)
    }

    /// Sends the room's invitation email again to these members of `room_id`, in one call
    /// (`POST /api/2.0/files/rooms/{id}/resend` with `usersIds`; docs/docspace-api.md,
    /// "Pending invitations"): the email the share call sent, naming the room, whose link
    /// joins it. The server allows each room's path a few calls per 15 minutes per user and
    /// mails every listed member, active ones too, so only pending ids are given; it is
    /// retried only when it provably did not run, and its answer says nothing.
    pub async fn resend_room_invitations(
        &self,
        room_id: i64,
        user_ids: &[String],
    ) -> Result<(), ApiError> {
        let call = Call::new(
            Method::POST,
            format!("/api/2.0/files/rooms/{room_id}/resend"),
            CallClass::Create,
        )
        .json(&RoomResendRequest {
            users_ids: user_ids.to_vec(),
            resend_all: false,
        })?;
        self.fetch_envelope::<serde_json::Value>(call).await?;
        Ok(())
    }
}

/// `GET /api/2.0/settings/version/build` (`BuildVersion`): the DocSpace version and, when a
/// document server is connected, its version.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildVersion {
    #[serde(default)]
    pub doc_space: Option<String>,
    #[serde(default)]
    pub document_server: Option<String>,
}

/// What `GET /api/2.0/keys/@self` says about the key (`ApiKeyResponseDto`), without its `key`
/// field. An empty `permissions` list or one holding `*` means full access
/// (`ApiKeyBearerAuthHandler`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "null_vec")]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

fn null_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    use serde::Deserialize;
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}
