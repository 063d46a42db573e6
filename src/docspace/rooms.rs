//! Room endpoints of [`Client`]: listing (with its consistency check), reading, creating and
//! updating rooms, and their tags.

use std::collections::HashSet;

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;

use super::client::{Call, Client, MAX_PAGES, PAGE_SIZE};
use super::error::{ApiError, ErrorKind};
use super::policy::CallClass;
use super::wire::{
    ConnectedRoomDto, CreateRoomRequest, ListedRoom, RoomDto, RoomsPage, UpdateRoomRequest,
};

/// Every room a listing returned: the rooms the tool can manage, and those kept in connected
/// third-party storage, which it can only report (docs/docspace-api.md, "Rooms in connected
/// storage").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomListing {
    pub rooms: Vec<RoomDto>,
    pub connected: Vec<ConnectedRoomDto>,
    /// Whether the pages were read from an unchanging listing (no room repeated, the same
    /// `total` on every page). An incomplete listing may have skipped a room.
    pub complete: bool,
}

impl RoomListing {
    /// The listing, or an error when it may have skipped a room: what anything that plans
    /// from it needs (a skipped room would be planned as a create).
    pub fn require_complete(self) -> Result<RoomListing, ApiError> {
        if self.complete {
            return Ok(self);
        }
        Err(ApiError::new(ErrorKind::Decode, "GET", "/api/2.0/files/rooms").with_message(
            format!(
                "the room listing changed while it was read, twice ({} distinct rooms, pages overlapped or skipped); run again",
                self.len()
            ),
        ))
    }

    /// Rooms of both kinds.
    pub fn len(&self) -> usize {
        self.rooms.len() + self.connected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which rooms `list_rooms` returns (`searchArea`, docs/docspace-api.md, "Enums").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchArea {
    /// 0: active rooms.
    Active,
    /// 1: archived rooms.
    Archive,
    /// 2: active and archived (never templates).
    Any,
    /// 4: room templates only (docs/docspace-api.md, "Room templates").
    Templates,
}

impl SearchArea {
    pub fn wire(self) -> i64 {
        match self {
            SearchArea::Active => 0,
            SearchArea::Archive => 1,
            SearchArea::Any => 2,
            SearchArea::Templates => 4,
        }
    }
}

impl Client {
    /// All rooms in `area`, optionally narrowed by the server's title search. The search is a
    /// substring or full-text match (docs/docspace-api.md, "Room listing and the key user's preferences"): callers must re-check exact titles.
    ///
    /// No `sortBy` is sent: the server saves a passed `sortBy` as the key user's default sort
    /// in the web UI (`FileStorageService` -> `SetDefaultOrder`), and a read must leave no
    /// trace. Without it the user's saved order applies, which the server makes total with the
    /// title as tie-break, so pages are stable while nothing changes. Rooms are still keyed by
    /// id across pages: if a room is created or removed mid-listing and pages overlap or skip,
    /// the listing is read once more. When the second pass moves too, the listing comes back
    /// with `complete: false`: a plan must not be built on it ([`RoomListing::require_complete`],
    /// a missed room would be planned as a create), but a room it *does* show is there, which
    /// is all the create reconciliation needs while other rooms are being created.
    pub async fn list_rooms(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> Result<RoomListing, ApiError> {
        let mut last = RoomListing::default();
        for _ in 0..2 {
            let (listing, consistent) = self.list_rooms_once(area, filter_value).await?;
            last = RoomListing {
                complete: consistent,
                ..listing
            };
            if consistent {
                break;
            }
        }
        Ok(last)
    }

    /// One pass over every page. `consistent` is false when a page repeated a room or the
    /// `total` the server announced changed between pages (a room was created or removed
    /// mid-listing, so offsets shifted and a room may have been skipped).
    async fn list_rooms_once(
        &self,
        area: SearchArea,
        filter_value: Option<&str>,
    ) -> Result<(RoomListing, bool), ApiError> {
        let mut listing = RoomListing::default();
        let mut seen_int: HashSet<i64> = HashSet::new();
        let mut seen_text: HashSet<String> = HashSet::new();
        let mut consistent = true;
        let mut first_total: Option<i64> = None;
        let mut start: i64 = 0;
        for _ in 0..MAX_PAGES {
            let mut call = Call::new(Method::GET, "/api/2.0/files/rooms", CallClass::Read)
                .query("searchArea", area.wire());
            if let Some(filter) = filter_value {
                call = call.query("filterValue", filter);
            }
            let call = call.query("count", PAGE_SIZE).query("startIndex", start);
            let page: RoomsPage = self.fetch(call).await?;
            // docs/docspace-api.md, "Response envelopes": rooms page inside `response`; the envelope has no total.
            if *first_total.get_or_insert(page.total) != page.total {
                consistent = false;
            }
            if page.folders.is_empty() {
                return Ok((listing, consistent));
            }
            start += page.folders.len() as i64;
            for folder in page.folders {
                let new = match folder {
                    ListedRoom::Room(r) => seen_int.insert(r.id).then(|| listing.rooms.push(r)),
                    ListedRoom::Connected(c) => seen_text
                        .insert(c.id.clone())
                        .then(|| listing.connected.push(c)),
                };
                consistent &= new.is_some();
            }
            if start >= page.total {
                return Ok((listing, consistent));
            }
        }
        Err(self.paging_runaway("/api/2.0/files/rooms"))
    }

    /// One room (`GET /api/2.0/files/rooms/{id}`).
    pub async fn get_room(&self, id: i64) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::GET,
            format!("/api/2.0/files/rooms/{id}"),
            CallClass::Read,
        );
        self.fetch(call).await
    }

    /// Creates a room. Not idempotent (titles are not unique, docs/docspace-api.md, "Creating rooms"): retried only when the
    /// request provably did not run; otherwise a failure may be [`ApiError::is_ambiguous`].
    pub async fn create_room(&self, request: &CreateRoomRequest) -> Result<RoomDto, ApiError> {
        let call =
            Call::new(Method::POST, "/api/2.0/files/rooms", CallClass::Create).json(request)?;
        self.fetch(call).await
    }

    /// Changes title, tags (replacing the set), quota or deny-download (docs/docspace-api.md, "Updating rooms").
    pub async fn update_room(
        &self,
        id: i64,
        request: &UpdateRoomRequest,
    ) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{id}"),
            CallClass::IdempotentWrite,
        )
        .json(request)?;
        self.fetch(call).await
    }

    /// Adds tags to a room (`PUT /files/rooms/{id}/tags`, docs/docspace-api.md, "Tags"); missing tags are created
    /// portal-wide. Returns the room.
    pub async fn add_room_tags(&self, id: i64, names: &[String]) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::PUT,
            format!("/api/2.0/files/rooms/{id}/tags"),
            CallClass::IdempotentWrite,
        )
        .json(&TagNames { names })?;
        self.fetch(call).await
    }

    /// Takes tags off a room (`DELETE /files/rooms/{id}/tags`, docs/docspace-api.md, "Tags"). Returns the room.
    pub async fn remove_room_tags(&self, id: i64, names: &[String]) -> Result<RoomDto, ApiError> {
        let call = Call::new(
            Method::DELETE,
            format!("/api/2.0/files/rooms/{id}/tags"),
            CallClass::IdempotentWrite,
        )
        .json(&TagNames { names })?;
        self.fetch(call).await
    }

    /// Deletes custom tags portal-wide (`DELETE /api/2.0/files/tags`, docs/docspace-api.md, "Tags").
    pub async fn delete_tags(&self, names: &[String]) -> Result<(), ApiError> {
        let call = Call::new(
            Method::DELETE,
            "/api/2.0/files/tags",
            CallClass::IdempotentWrite,
        )
        .json(&TagNames { names })?;
        self.fetch_envelope::<Value>(call).await.map(|_| ())
    }
}

/// Body of the tag calls (docs/docspace-api.md, "Tags").
#[derive(Serialize)]
struct TagNames<'a> {
    names: &'a [String],
}
