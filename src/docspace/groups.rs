//! Groups and people-as-code endpoints of [`Client`]: a group with its members, creating and
//! updating groups, inviting people with a type, raising a type, and the two portal reads
//! the plan of `people:` uses (paid seats, invitation settings). The server's rules behind
//! each are in docs/docspace-api.md, "Groups and people".

use reqwest::Method;

use super::client::{Call, Client};
use super::error::ApiError;
use super::policy::CallClass;
use super::wire::{
    CreateGroupRequest, GroupDto, InvitationSettingsDto, InvitePeopleRequest, QuotaDto,
    UpdateGroupRequest, UserDto, UserTypeRequest,
};

impl Client {
    /// Creates a group (`POST /api/2.0/group`); not idempotent (the server allows two groups
    /// of one name), so retried only when it provably did not run.
    pub async fn create_group(&self, request: &CreateGroupRequest) -> Result<GroupDto, ApiError> {
        let call = Call::new(Method::POST, "/api/2.0/group", CallClass::Create).json(request)?;
        self.fetch(call).await
    }

    /// Renames a group, sets its manager, adds and removes members in one call
    /// (`PUT /api/2.0/group/{id}`); repeating it changes nothing more.
    pub async fn update_group(
        &self,
        id: &str,
        request: &UpdateGroupRequest,
    ) -> Result<GroupDto, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/group/{id}"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        self.fetch(call).await
    }

    /// Invites people with a type in one call (`POST /api/2.0/people/invite`): it sends
    /// emails and the server limits it per day, so it is never re-sent when it may have run.
    /// Returns the pending accounts the server answered with.
    pub async fn invite_people(
        &self,
        request: &InvitePeopleRequest,
    ) -> Result<Vec<UserDto>, ApiError> {
        let call = Call::new(Method::POST, "/api/2.0/people/invite", CallClass::Create)
            .own_limit()
            .json(request)?;
        Ok(self
            .fetch_envelope::<Vec<UserDto>>(call)
            .await?
            .response
            .unwrap_or_default())
    }

    /// Raises these people to `user_type` (`PUT /api/2.0/people/type/{type}`, the server's
    /// `EmployeeType` number). The server changes them one after the other and stops at the
    /// first refusal, so a failure may leave the earlier ones changed: callers read back.
    pub async fn set_user_type(
        &self,
        user_type: i64,
        user_ids: &[String],
    ) -> Result<Vec<UserDto>, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/people/type/{user_type}"),
            CallClass::IdempotentWrite,
        )
        .json(&UserTypeRequest {
            user_ids: user_ids.to_vec(),
            resend_all: false,
        })?;
        Ok(self
            .fetch_envelope::<Vec<UserDto>>(call)
            .await?
            .response
            .unwrap_or_default())
    }

    /// The portal's tariff features (`GET /api/2.0/portal/payment/quota`), for the paid
    /// seats (`manager`).
    pub async fn payment_quota(&self) -> Result<QuotaDto, ApiError> {
        let call = Call::new(
            Method::GET,
            "/api/2.0/portal/payment/quota",
            CallClass::Read,
        );
        self.fetch(call).await
    }

    /// Whether the portal allows inviting members and guests
    /// (`GET /api/2.0/settings/invitationsettings`, anonymous on the server).
    pub async fn invitation_settings(&self) -> Result<InvitationSettingsDto, ApiError> {
        let call = Call::new(
            Method::GET,
            "/api/2.0/settings/invitationsettings",
            CallClass::Read,
        );
        self.fetch(call).await
    }
}
