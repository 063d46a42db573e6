//! The room-template probes (docs/docspace-api.md, "Room templates"): read-only, that the
//! templates are listed apart from the rooms; with `--scratch` and when the portal has a
//! template, that a room made from it gets its folders and that the job's status names the
//! room (the room is deleted with the other scratch rooms).

use crate::docspace::templates::{TemplateJobStatus, wait_until_idle};
use crate::docspace::{FromTemplateRequest, RoomDto, SearchArea};
use crate::model::template::TEMPLATES_ROOT_FOLDER_TYPE;
use crate::model::{self, RoomType};

use super::{Check, Doctor, status_text};

impl Doctor<'_> {
    /// Lists the templates and checks that none is among the rooms of the normal listing.
    pub(super) async fn templates_listed_apart(&mut self) -> Check {
        let id = "templates-apart";
        let templates: Vec<RoomDto> = match self.client.list_templates().await {
            Ok(all) => all
                .into_iter()
                .filter(|t| t.root_folder_type == Some(TEMPLATES_ROOT_FOLDER_TYPE))
                .collect(),
            Err(e) => {
                return Check::warn(
                    id,
                    format!(
                        "not checked: the templates could not be listed ({})",
                        status_text(&e)
                    ),
                );
            }
        };
        let Some(listing) = &self.listing else {
            return Check::warn(id, "not checked: the room listing failed");
        };
        let mixed: Vec<String> = templates
            .iter()
            .filter(|t| listing.rooms.iter().any(|r| r.id == t.id))
            .map(|t| t.id.to_string())
            .collect();
        let count = templates.len();
        self.templates = templates;
        if !mixed.is_empty() {
            return Check::differs(
                id,
                "room templates are listed among the rooms",
                format!("template ids {} in the room listing", mixed.join(", ")),
                "templates only with searchArea=4",
            );
        }
        if count == 0 {
            return Check::ok(id, "the portal has no room template this key can see");
        }
        Check::ok(
            id,
            format!("{count} room template(s), listed apart from the rooms"),
        )
    }

    /// Makes a room from the portal's first template, the way `apply` does: waits for any
    /// running job, starts one, waits for it, and takes the room by its title (found by the
    /// title search, or named by the job's status).
    pub(super) async fn room_from_template(&mut self) -> Check {
        let id = "template-room";
        let Some(template) = self.templates.first().cloned() else {
            return Check::ok(
                id,
                "the portal has no room template: nothing was created (checked when it has one)",
            );
        };
        let Some(kind) = template.room_type.and_then(RoomType::from_wire) else {
            return Check::warn(
                id,
                "not checked: the template's room type is not known to this tool",
            );
        };
        let title = format!("{} {} template check", super::SCRATCH_PREFIX, self.nonce);
        let request = FromTemplateRequest {
            template_id: template.id,
            title: title.clone(),
            ..FromTemplateRequest::default()
        };
        if wait_until_idle(self.client, false).await.is_err() {
            return Check::warn(
                id,
                "not checked: another template job kept running on the portal",
            );
        }
        let started = self.client.start_room_from_template(&request).await;
        let status = wait_until_idle(self.client, true).await.ok().flatten();
        // Found by title (the status may be another caller's job): registered for the cleanup.
        let stored = model::sanitize_title(&title);
        let room = match self
            .client
            .list_rooms(SearchArea::Any, Some(&self.nonce))
            .await
        {
            Ok(l) => l
                .rooms
                .into_iter()
                .find(|r| model::title_matches(&r.title, &stored)),
            Err(_) => None,
        };
        // The search may miss or lag behind the new room: the status's room, when it carries
        // the probe's title, is this run's and is registered too.
        let room = match room {
            Some(room) => Some(room),
            None => self.status_room(status.as_ref(), &stored).await,
        };
        let Some(room) = room else {
            let why = match (started, status.as_ref().and_then(|s| s.failure())) {
                (Err(e), _) => e.to_string(),
                (_, Some(failure)) => format!("the job ended with: {failure}"),
                _ => "no room with the requested title after the job ended".to_string(),
            };
            return Check::differs(
                id,
                "no room was made from the template",
                why,
                "a new room with the requested title",
            );
        };
        self.extra_rooms.push((room.id, room.title.clone(), kind));
        self.template_room_matches(&template, &room, status.and_then(|s| s.room()))
            .await
    }

    /// The room the job's status names, when it has the probe's (stored) title.
    async fn status_room(
        &self,
        status: Option<&TemplateJobStatus>,
        stored: &str,
    ) -> Option<RoomDto> {
        let room = self.client.get_room(status?.room()?).await.ok()?;
        model::title_matches(&room.title, stored).then_some(room)
    }

    /// The new room against its template: type, folders, and the status's `roomId`.
    async fn template_room_matches(
        &self,
        template: &RoomDto,
        room: &RoomDto,
        status_room: Option<i64>,
    ) -> Check {
        let id = "template-room";
        let wanted = self.client.folder_titles(template.id).await;
        let got = self.client.folder_titles(room.id).await;
        let (Ok(mut wanted), Ok(mut got)) = (wanted, got) else {
            return Check::warn(
                id,
                "not checked: the folders could not be listed (GET /files/{id} needs files:read)",
            );
        };
        wanted.sort();
        got.sort();
        if room.room_type != template.room_type || wanted != got {
            return Check::differs(
                id,
                "the room made from the template differs from it",
                format!("type {:?}, folders {got:?}", room.room_type),
                format!("type {:?}, folders {wanted:?}", template.room_type),
            );
        }
        if status_room != Some(room.id) {
            return Check::warn(
                id,
                format!(
                    "the room was made with the template's {} folder(s), but the job's status named room {status_room:?}, not {} (another job ran meanwhile?)",
                    got.len(),
                    room.id
                ),
            );
        }
        Check::ok(
            id,
            format!(
                "a room made from template \"{}\" got its {} folder(s); the job's status named it",
                template.title,
                got.len()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::Options;
    use super::*;
    use crate::docspace::{Client, ClientConfig};
    use serde_json::{Value, json};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn ok(response: Value) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(
            json!({"response": response, "count": 1, "links": [], "status": 0, "statusCode": 200}),
        )
    }

    /// The title search never shows the new room (it lags): the room the job's status names,
    /// with the probe's title, is still registered for the cleanup.
    #[tokio::test]
    async fn the_room_the_status_names_is_registered_when_the_search_misses_it() {
        let server = MockServer::start().await;
        let done = json!({"roomId": 555, "progress": 100.0, "error": "", "isCompleted": true});
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms/fromTemplate/status"))
            .respond_with(ok(done.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/2.0/files/rooms/fromTemplate"))
            .respond_with(ok(done))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms"))
            .respond_with(ok(json!({"folders": [], "files": [], "total": 0})))
            .mount(&server)
            .await;
        let title = format!("{} abcd1234 template check", super::super::SCRATCH_PREFIX);
        Mock::given(method("GET"))
            .and(path("/api/2.0/files/rooms/555"))
            .respond_with(ok(json!({"id": 555, "title": title, "roomType": 2})))
            .mount(&server)
            .await;
        let mut config = ClientConfig::new(
            server.uri().parse().unwrap(),
            secrecy::SecretString::from(format!("sk-{}", "0".repeat(64))),
        );
        config.requests_per_minute = 0;
        let client = Client::new(config).unwrap();
        let mut doctor = Doctor::new(
            &client,
            Options {
                scratch: true,
                invite_probe: None,
            },
        );
        doctor.nonce = "abcd1234".into();
        doctor.templates = vec![RoomDto {
            id: 9,
            title: "T".into(),
            room_type: Some(2),
            ..RoomDto::default()
        }];
        doctor.room_from_template().await;
        assert_eq!(
            doctor.extra_rooms,
            vec![(555, title, RoomType::Collaboration)],
            "the room must be registered for deletion"
        );
    }
}
