//! Benchmark: a no-change `plan` over N rooms x 10 members (default 1,000; env `BENCH_ROOMS`)
//! on the sandbox with 20 ms latency per request. Prints calls per room and wall time, with
//! no client budget (latency-bound) and at the default budget of 1,400 requests per rolling
//! minute (under the portal's 1,500). Asserts nothing. Run: `cargo bench --bench plan`.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use docspace_provision::cli::FaultArgs;
use docspace_provision::docspace::{
    Client, ClientConfig, CreateRoomRequest, DEFAULT_REQUESTS_PER_MINUTE, Invitation, ShareRequest,
};
use docspace_provision::manifest::{self, SourceFile};
use docspace_provision::{plan, sandbox, state};
use futures::StreamExt;
use secrecy::SecretString;

const USERS: usize = 40;

fn client(handle: &sandbox::SandboxHandle, rpm: u32) -> Client {
    let mut config = ClientConfig::new(
        handle.base_url.clone(),
        SecretString::from(handle.api_key.clone()),
    );
    config.requests_per_minute = rpm;
    Client::new(config).unwrap()
}

fn manifest(rooms: usize) -> String {
    let mut text = String::from("version: 1\nrooms:\n");
    for r in 0..rooms {
        text.push_str(&format!(
            "  - title: Bench {r:05}\n    type: collaboration\n    invitees:\n"
        ));
        for i in 0..10 {
            text.push_str(&format!(
                "      - email: person{}@example.com\n        access: editing\n",
                (r + i) % USERS
            ));
        }
    }
    text
}

#[tokio::main]
async fn main() {
    let rooms: usize = std::env::var("BENCH_ROOMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");

    // Seed without latency: N rooms, each shared with 10 of 40 invited people.
    let seed_start = Instant::now();
    let handle = sandbox::start_in_process(&path, FaultArgs::default())
        .await
        .unwrap();
    let c = client(&handle, 0);
    futures::stream::iter(0..rooms)
        .map(|r| {
            let c = c.clone();
            async move {
                let room = c
                    .create_room(&CreateRoomRequest {
                        title: format!("Bench {r:05}"),
                        room_type: 2,
                        ..CreateRoomRequest::default()
                    })
                    .await
                    .unwrap();
                let invitations = (0..10)
                    .map(|i| Invitation {
                        id: None,
                        email: Some(format!("person{}@example.com", (r + i) % USERS)),
                        access: 10,
                    })
                    .collect();
                c.set_share(
                    room.id,
                    &ShareRequest {
                        invitations,
                        notify: false,
                        message: None,
                        culture: None,
                        force: false,
                    },
                )
                .await
                .unwrap();
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    handle.stop().await.unwrap();
    println!(
        "seeded {rooms} rooms x 10 members in {:.1} s",
        seed_start.elapsed().as_secs_f64()
    );

    let faults = FaultArgs {
        latency_ms: 20,
        ..FaultArgs::default()
    };
    let handle = sandbox::start_in_process(&path, faults).await.unwrap();
    let mut problems = manifest::Problems::default();
    let desired = manifest::load_sources(
        vec![SourceFile::new("bench.yaml", manifest(rooms))],
        &mut problems,
    );
    assert!(!problems.has_errors());

    for (label, rpm) in [
        ("no client budget", 0),
        (
            "default budget (1400 per minute)",
            DEFAULT_REQUESTS_PER_MINUTE,
        ),
    ] {
        let c = client(&handle, rpm);
        let start = Instant::now();
        let observed = state::read(&c, "bench", &desired).await.unwrap();
        let plan = plan::diff(&desired, &observed, String::new(), chrono::Utc::now()).unwrap();
        let elapsed = start.elapsed();
        let stats = c.stats();
        assert!(!plan.has_changes());
        let listing_pages = rooms.div_ceil(100) as u64;
        println!(
            "no-change plan, {rooms} rooms x 10 members, 20 ms latency, {label}: {:.2} s, {} calls ({} room-listing pages + {:.3} calls per room), {} writes",
            elapsed.as_secs_f64(),
            stats.calls,
            listing_pages,
            (stats.calls - listing_pages) as f64 / rooms as f64,
            stats.writes(),
        );
    }
    handle.stop().await.unwrap();
}
