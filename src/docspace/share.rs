//! Sharing endpoints of [`Client`]: a room's members (the share call) and its sharing links.

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::client::{Call, Client};
use super::error::{ApiError, ErrorKind};
use super::policy::CallClass;
use super::wire::{LinkDto, LinkRequest, ShareDto, ShareRequest, ShareResponse};

/// The most link rows `GET /files/rooms/{id}/links` returns (the server reads 100 and does
/// not page).
pub const MAX_LINKS: usize = 100;

impl Client {
    /// Every member row of a room, owner row included (docs/docspace-api.md, "Reading members"), all pages.
    pub async fn get_share(&self, room_id: i64) -> Result<Vec<ShareDto>, ApiError> {
        let path = format!("/api/2.0/files/rooms/{room_id}/share");
        // filterType 0: users and groups, not links (docs/docspace-api.md, "Enums", ShareFilterType).
        self.fetch_all(&path, &[("filterType", "0".to_string())])
            .await
    }

    /// Invites, changes or removes members in one call (docs/docspace-api.md, "The share call"). Idempotent on the server: the
    /// same access again is skipped, removing a non-member is a no-op.
    pub async fn set_share(
        &self,
        room_id: i64,
        request: &ShareRequest,
    ) -> Result<ShareResponse, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{room_id}/share"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        self.fetch(call).await
    }

    /// The sharing links of a room (`GET /files/rooms/{id}/links`): external and invitation
    /// links, the primary one first (docs/docspace-api.md, "Sharing links").
    ///
    /// The server answers with at most [`MAX_LINKS`] rows and no paging, whatever the query
    /// says; more is a server the tool does not understand, and an error rather than a guess.
    /// Rows are decoded one by one from plain JSON so that a row of an unexpected shape never
    /// puts any of its values (a password is among them) into an error message.
    pub async fn list_links(&self, room_id: i64) -> Result<Vec<LinkDto>, ApiError> {
        let path = format!("/api/2.0/files/rooms/{room_id}/links");
        let call = Call::new(Method::GET, path.clone(), CallClass::Read);
        let rows: Vec<Value> = self
            .fetch_envelope::<Vec<Value>>(call)
            .await?
            .response
            .unwrap_or_default();
        if rows.len() > MAX_LINKS {
            return Err(
                ApiError::new(ErrorKind::Decode, "GET", &path).with_message(format!(
                    "the room has {} links; the server sends at most {MAX_LINKS}",
                    rows.len()
                )),
            );
        }
        rows.into_iter()
            .enumerate()
            .map(|(i, row)| {
                serde_json::from_value::<LinkDto>(row).map_err(|_| {
                    ApiError::new(ErrorKind::Decode, "GET", &path).with_message(format!(
                        "link row {} is not a link (its fields have unexpected types)",
                        i + 1
                    ))
                })
            })
            .collect()
    }

    /// Creates, changes or revokes (access 0) one link (`PUT /files/rooms/{id}/links`,
    /// docs/docspace-api.md, "Sharing links"). Returns the link's row, or `None` when the
    /// server answers without one (a revoke).
    ///
    /// Safe to repeat: a new link carries an id the tool chose (see
    /// [`crate::links::create_request`]), so a retry finds it instead of adding a second one.
    /// The password in `request` is registered with [`crate::redact`] before anything is
    /// sent, so that a server or proxy echoing it in an error cannot put it into any output;
    /// request bodies are never logged.
    pub async fn set_link(
        &self,
        room_id: i64,
        request: &LinkRequest,
    ) -> Result<Option<LinkDto>, ApiError> {
        if let Some(password) = &request.password {
            crate::redact::register(password.expose_secret());
        }
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{room_id}/links"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        Ok(self.fetch_envelope::<LinkDto>(call).await?.response)
    }
}
