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
