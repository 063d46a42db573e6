//! [`DocSpaceApi`] over HTTP: each method forwards to the [`Client`] method of the same name.

use std::future::Future;
use std::time::Duration;

use super::DocSpaceApi;
use super::client::Client;
use super::error::ApiError;
use super::rooms::{RoomListing, SearchArea};
use super::wire::{
    CreateRoomRequest, FileOperationDto, GroupDto, LinkDto, LinkRequest, RoomDto, ShareDto,
    ShareRequest, ShareResponse, UpdateRoomRequest, UserDto,
};

impl DocSpaceApi for Client {
    fn list_templates(&self) -> impl Future<Output = Result<Vec<RoomDto>, ApiError>> + Send {
        Client::list_templates(self)
    }
    fn start_room_from_template(
        &self,
        request: &super::FromTemplateRequest,
    ) -> impl Future<Output = Result<Option<super::TemplateJobStatus>, ApiError>> + Send {
        Client::start_room_from_template(self, request)
    }
    fn template_job_status(
        &self,
    ) -> impl Future<Output = Result<Option<super::TemplateJobStatus>, ApiError>> + Send {
        Client::template_job_status(self)
    }
    fn me(&self) -> impl Future<Output = Result<UserDto, ApiError>> + Send {
        Client::me(self)
    }
    fn limit_reached(&self) -> Option<String> {
        Client::limit_reached(self)
    }
    async fn key_permissions(&self) -> Result<Option<Vec<String>>, ApiError> {
        self.key_self().await.map(|info| Some(info.permissions))
    }
    fn list_rooms(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> impl Future<Output = Result<RoomListing, ApiError>> + Send {
        Client::list_rooms(self, area, filter_value)
    }
    fn get_room(&self, id: i64) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::get_room(self, id)
    }
    fn create_room(
        &self,
        request: &CreateRoomRequest,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::create_room(self, request)
    }
    fn update_room(
        &self,
        id: i64,
        request: &UpdateRoomRequest,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::update_room(self, id, request)
    }
    fn archive_room(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<FileOperationDto, ApiError>> + Send {
        Client::archive_room(self, id)
    }
    fn unarchive_room(
        &self,
        id: i64,
    ) -> impl Future<Output = Result<FileOperationDto, ApiError>> + Send {
        Client::unarchive_room(self, id)
    }
    fn wait_room_state(
        &self,
        id: i64,
        operation: Option<&FileOperationDto>,
        archived: bool,
        timeout: Duration,
    ) -> impl Future<Output = Result<RoomDto, ApiError>> + Send {
        Client::wait_room_state(self, id, operation, archived, timeout)
    }
    fn get_share(
        &self,
        room_id: i64,
    ) -> impl Future<Output = Result<Vec<ShareDto>, ApiError>> + Send {
        Client::get_share(self, room_id)
    }
    fn list_links(
        &self,
        room_id: i64,
    ) -> impl Future<Output = Result<Vec<LinkDto>, ApiError>> + Send {
        Client::list_links(self, room_id)
    }
    fn set_link(
        &self,
        room_id: i64,
        request: &LinkRequest,
    ) -> impl Future<Output = Result<Option<LinkDto>, ApiError>> + Send {
        Client::set_link(self, room_id, request)
    }
    fn resend_room_invitations(
        &self,
        room_id: i64,
        user_ids: &[String],
    ) -> impl Future<Output = Result<(), ApiError>> + Send {
        Client::resend_room_invitations(self, room_id, user_ids)
    }
    fn set_share(
        &self,
        room_id: i64,
        request: &ShareRequest,
    ) -> impl Future<Output = Result<ShareResponse, ApiError>> + Send {
        Client::set_share(self, room_id, request)
    }
    fn user_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Option<UserDto>, ApiError>> + Send {
        Client::user_by_email(self, email)
    }
    fn people_page(
        &self,
        start: i64,
    ) -> impl Future<Output = Result<(Vec<UserDto>, Option<i64>), ApiError>> + Send {
        Client::people_page(self, start)
    }
    fn list_groups(&self) -> impl Future<Output = Result<Vec<GroupDto>, ApiError>> + Send {
        Client::list_groups(self)
    }
    fn get_group(&self, id: &str) -> impl Future<Output = Result<GroupDto, ApiError>> + Send {
        Client::get_group(self, id)
    }
    fn create_group(
        &self,
        request: &super::CreateGroupRequest,
    ) -> impl Future<Output = Result<GroupDto, ApiError>> + Send {
        Client::create_group(self, request)
    }
    fn update_group(
        &self,
        id: &str,
        request: &super::UpdateGroupRequest,
    ) -> impl Future<Output = Result<GroupDto, ApiError>> + Send {
        Client::update_group(self, id, request)
    }
    fn invite_people(
        &self,
        request: &super::InvitePeopleRequest,
    ) -> impl Future<Output = Result<Vec<UserDto>, ApiError>> + Send {
        Client::invite_people(self, request)
    }
    fn set_user_type(
        &self,
        user_type: i64,
        user_ids: &[String],
    ) -> impl Future<Output = Result<Vec<UserDto>, ApiError>> + Send {
        Client::set_user_type(self, user_type, user_ids)
    }
    async fn paid_seats(&self) -> Result<Option<(i64, i64)>, ApiError> {
        let quota = match Client::payment_quota(self).await {
            Ok(q) => q,
            // A key without `*:read`, or a user the server refuses: the plan says it could
            // not read the seats.
            Err(e) if e.http_status() == Some(403) || e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(super::wire::paid_seats(&quota))
    }
    async fn invitation_settings(&self) -> Result<Option<super::InvitationSettingsDto>, ApiError> {
        match Client::invitation_settings(self).await {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.http_status() == Some(403) || e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
    async fn files_settings(
        &self,
    ) -> Result<Option<super::portal_policy::FilesSettingsDto>, ApiError> {
        Client::files_settings(self).await.map(Some)
    }
    async fn password_settings(
        &self,
    ) -> Result<Option<super::portal_policy::PasswordSettingsDto>, ApiError> {
        Client::password_settings(self).await.map(Some)
    }
    async fn group_members(&self, id: &str) -> Result<Option<Vec<UserDto>>, ApiError> {
        Client::group_members(self, id).await.map(Some)
    }
    async fn room_covers(&self) -> Result<Option<Vec<String>>, ApiError> {
        let rows = Client::room_covers(self).await?;
        Ok(Some(rows.into_iter().map(|c| c.id).collect()))
    }
}
