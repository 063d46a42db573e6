#![allow(clippy::print_stdout)] // a benchmark prints its numbers

//! Benchmark (not a test): a cold `apply` of N rooms x 10 invitees against the in-process
//! sandbox with 20 ms latency per request and its rate limiter on at the real defaults
//! (1500/min, 15 concurrent writes, 50 concurrent reads), beside a naive sequential baseline
//! measured in the same run: one create, then one share call per invitee, one after another.
//!
//! Prints numbers, asserts nothing. `BENCH_ROOMS` (default 1000) sets N for the apply;
//! `BENCH_BASELINE_ROOMS` (default N) sets how many rooms the baseline does, since it is slow.
//!
//! `BENCH_FAULT_ROOMS=200` instead runs the fault scenario: N rooms x 10 invitees
//! against 5% 500s, 5% 503s, 3% commit-then-fail (seed 7), applied twice, then reports
//! whether the portal matches the manifest, duplicate titles and missing invitees.
//! `BENCH_FAULT_PERCENT=15` raises the 500 and 503 rates to 15% each (a 30% flaky portal).
//!
//!     cargo run --release --example bench_apply
//!     BENCH_ROOMS=100 cargo run --example bench_apply

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use docspace_provision::apply::{self, Options};
use docspace_provision::cli::FaultArgs;
use docspace_provision::docspace::{
    Client, ClientConfig, CreateRoomRequest, Invitation, ShareRequest,
};
use docspace_provision::manifest::{self, Problems, SourceFile};
use docspace_provision::{plan, report, sandbox, state};

const INVITEES: usize = 10;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn faults() -> FaultArgs {
    FaultArgs {
        latency_ms: 20,
        rate_limit: true,
        operation_delay_ms: 20,
        ..FaultArgs::default()
    }
}

fn client(handle: &sandbox::SandboxHandle) -> Client {
    // The client's defaults: a budget of 1,400 requests per rolling minute, at most 40 reads
    // and 12 writes in flight.
    Client::new(ClientConfig::new(
        handle.base_url.clone(),
        handle.api_key.clone().into(),
    ))
    .expect("a client")
}

/// What a naive script uses: no budget of its own; it only retries 429s after `Retry-After`
/// (the client's retry rule).
fn naive_client(handle: &sandbox::SandboxHandle) -> Client {
    let mut config = ClientConfig::new(handle.base_url.clone(), handle.api_key.clone().into());
    config.requests_per_minute = 0;
    Client::new(config).expect("a client")
}

/// The least time the server's sliding window (1,500 per minute) needs to admit `calls`
/// requests: every further 1,500 wait a minute for the first ones to leave the window.
fn limiter_floor(calls: u64) -> Duration {
    Duration::from_secs(60 * (calls.saturating_sub(1) / 1500))
}

fn manifest(rooms: usize) -> String {
    let mut text = String::from("version: 1\nrooms:\n");
    for r in 0..rooms {
        text.push_str(&format!(
            "  - title: Bench {r:04}\n    type: collaboration\n    invitees:\n"
        ));
        for i in 0..INVITEES {
            text.push_str(&format!(
                "      - email: bench{r:04}.{i}@example.com\n        access: read\n"
            ));
        }
    }
    text
}

async fn sandbox_429s(handle: &sandbox::SandboxHandle) -> u64 {
    let url = format!("{}__sandbox/stats", handle.base_url);
    let stats: serde_json::Value = reqwest::get(url)
        .await
        .expect("stats")
        .json()
        .await
        .expect("stats JSON");
    stats["status429"].as_u64().unwrap_or(0)
}

async fn bench_apply(rooms: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let handle = sandbox::start_in_process(&dir.path().join("state.json"), faults())
        .await
        .expect("the sandbox starts");
    let api = client(&handle);
    let mut problems = Problems::default();
    let desired = manifest::load_sources(
        vec![SourceFile::new("bench.yaml", manifest(rooms))],
        &mut problems,
    );
    assert!(!problems.has_errors(), "the generated manifest is valid");

    let started = Instant::now();
    let observed = state::read(&api, "bench", &desired)
        .await
        .expect("the portal reads");
    let read_time = started.elapsed();
    let entries = plan_and_apply(&api, &desired, &observed).await;
    let wall = started.elapsed();
    let counts = report::Counts::of(&entries);
    let stats = api.stats();
    println!(
        "apply:    {rooms} rooms x {INVITEES} invitees: wall {:.1}s (read phase {:.1}s), {} calls = {:.2} calls/room ({} writes), {} retries, client saw {} x 429, sandbox answered {} x 429; items applied {} failed {} skipped {}",
        wall.as_secs_f64(),
        read_time.as_secs_f64(),
        stats.calls,
        stats.calls as f64 / rooms as f64,
        stats.writes(),
        stats.retries,
        stats.rate_limited,
        sandbox_429s(&handle).await,
        counts.applied,
        counts.failed,
        counts.skipped,
    );
    let floor = limiter_floor(stats.requests);
    println!(
        "limiter:  {} requests need at least {:.0}s in the server's window; apply took {:.2}x that{}; 429 answers were {:.2}% of calls",
        stats.requests,
        floor.as_secs_f64(),
        if floor.is_zero() {
            0.0
        } else {
            wall.as_secs_f64() / floor.as_secs_f64()
        },
        if floor.is_zero() {
            " (under one window: no floor)"
        } else {
            ""
        },
        100.0 * stats.rate_limited as f64 / stats.calls.max(1) as f64,
    );
    let _ = handle.stop().await;
}

/// What a naive script does: for each room, create it, then one share call per invitee.
async fn bench_baseline(rooms: usize) -> Duration {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let handle = sandbox::start_in_process(&dir.path().join("state.json"), faults())
        .await
        .expect("the sandbox starts");
    let api = naive_client(&handle);
    let started = Instant::now();
    for r in 0..rooms {
        let room = api
            .create_room(&CreateRoomRequest {
                title: format!("Bench {r:04}"),
                room_type: 2,
                ..CreateRoomRequest::default()
            })
            .await
            .expect("create");
        for i in 0..INVITEES {
            api.set_share(
                room.id,
                &ShareRequest {
                    invitations: vec![Invitation::by_email(
                        format!("bench{r:04}.{i}@example.com"),
                        2,
                    )],
                    ..ShareRequest::default()
                },
            )
            .await
            .expect("share");
        }
    }
    let wall = started.elapsed();
    let stats = api.stats();
    println!(
        "baseline: {rooms} rooms x {INVITEES} invitees, sequential: wall {:.1}s, {} calls = {:.2} calls/room, sandbox answered {} x 429",
        wall.as_secs_f64(),
        stats.calls,
        stats.calls as f64 / rooms as f64,
        sandbox_429s(&handle).await,
    );
    let _ = handle.stop().await;
    wall
}

/// Two applies under random faults, then a fault-free check of the result.
async fn bench_faults(rooms: usize) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("state.json");
    let handle = sandbox::start_in_process(
        &path,
        FaultArgs {
            // `BENCH_FAULT_PERCENT=15` makes 15% 500s and 15% 503s (a 30% flaky portal).
            error_rate_500: env_usize("BENCH_FAULT_PERCENT", 5) as f64 / 100.0,
            error_rate_503: env_usize("BENCH_FAULT_PERCENT", 5) as f64 / 100.0,
            commit_then_fail_rate: 0.03,
            seed: 7,
            latency_ms: 20,
            operation_delay_ms: 20,
            ..FaultArgs::default()
        },
    )
    .await
    .expect("the sandbox starts");
    let api = client(&handle);
    let mut problems = Problems::default();
    let desired = manifest::load_sources(
        vec![SourceFile::new("bench.yaml", manifest(rooms))],
        &mut problems,
    );
    let started = Instant::now();
    for run in 1..=2 {
        let observed = match state::read(&api, "bench", &desired).await {
            Ok(o) => o,
            Err(e) => {
                println!("faults: apply {run}: the read phase failed: {e}");
                continue;
            }
        };
        let entries = plan_and_apply(&api, &desired, &observed).await;
        let c = report::Counts::of(&entries);
        for e in entries
            .iter()
            .filter(|e| e.status == report::Status::Failed)
            .take(3)
        {
            println!(
                "faults: apply {run}: e.g. {} {:?}: {:?}",
                e.key, e.action, e.error
            );
        }
        println!(
            "faults: apply {run}: applied {} failed {} skipped {} unchanged {}",
            c.applied, c.failed, c.skipped, c.unchanged
        );
    }
    let wall = started.elapsed();
    let _ = handle.stop().await;
    // Check without faults on the same state file.
    let handle = sandbox::start_in_process(&path, FaultArgs::default())
        .await
        .expect("the sandbox restarts");
    let api = client(&handle);
    let observed = state::read(&api, "bench", &desired).await.expect("reads");
    let plan = plan::diff(
        &desired,
        &observed,
        desired.manifest_hash(),
        chrono::Utc::now(),
    )
    .expect("a plan");
    let listed = api
        .list_rooms(docspace_provision::docspace::SearchArea::Any, None)
        .await
        .expect("rooms")
        .rooms;
    let mut titles: Vec<&str> = listed.iter().map(|r| r.title.as_str()).collect();
    titles.sort_unstable();
    let all = titles.len();
    titles.dedup();
    println!(
        "faults: {rooms} rooms x {INVITEES} invitees, two applies in {:.1}s: portal matches the manifest: {}; rooms {all}, duplicate titles {}; invitations still missing {}",
        wall.as_secs_f64(),
        !plan.has_changes(),
        all - titles.len(),
        plan.summary.invitations,
    );
    let _ = handle.stop().await;
}

/// Diffs and applies exactly as the `apply` command does, with default options.
async fn plan_and_apply(
    api: &Client,
    desired: &manifest::Desired,
    observed: &state::Observed,
) -> Vec<report::Entry> {
    let plan = plan::diff(
        desired,
        observed,
        desired.manifest_hash(),
        chrono::Utc::now(),
    )
    .expect("a plan");
    let known: HashSet<i64> = observed.rooms.iter().map(|r| r.id).collect();
    apply::execute(
        api,
        &plan,
        &known,
        &Options::default(),
        &AtomicBool::new(false),
        &|_| {},
    )
    .await
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if let Some(rooms) = std::env::var("BENCH_FAULT_ROOMS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(bench_faults(rooms));
        return;
    }
    let rooms = env_usize("BENCH_ROOMS", 1000);
    let baseline_rooms = env_usize("BENCH_BASELINE_ROOMS", rooms);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let t = Instant::now();
        bench_apply(rooms).await;
        let apply_wall = t.elapsed();
        let baseline = bench_baseline(baseline_rooms).await;
        let per_room_apply = apply_wall.as_secs_f64() / rooms as f64;
        let per_room_baseline = baseline.as_secs_f64() / baseline_rooms as f64;
        println!(
            "speed-up per room: {:.1}x (apply {:.0} ms/room, baseline {:.0} ms/room)",
            per_room_baseline / per_room_apply,
            per_room_apply * 1000.0,
            per_room_baseline * 1000.0
        );
    });
}
