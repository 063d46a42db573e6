#![allow(clippy::print_stdout)]
//! Benchmark: validate generated manifests of 10,000 and 50,000 rooms x 10 invitees.
//! Prints wall time and peak memory (VmHWM); asserts nothing. Run: `cargo bench --bench validate`.

use std::io::Write;
use std::time::Instant;

fn generate(path: &std::path::Path, rooms: usize, invitees: usize) -> u64 {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "# yaml-language-server: $schema=../schemas/manifest.schema.json\nversion: 1\nrooms:"
    )
    .unwrap();
    for r in 0..rooms {
        writeln!(
            f,
            "  - title: Room {r:05}\n    type: collaboration\n    tags: [bench]\n    invitees:"
        )
        .unwrap();
        for i in 0..invitees {
            writeln!(
                f,
                "      - email: user{i}.room{r}@example.com\n        access: editing"
            )
            .unwrap();
        }
    }
    f.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    for rooms in [10_000usize, 50_000] {
        let path = dir.path().join(format!("bench-{rooms}.yaml"));
        let bytes = generate(&path, rooms, 10);
        let start = Instant::now();
        let (desired, problems) = docspace_provision::manifest::load(&[path]);
        let elapsed = start.elapsed();
        assert!(!problems.has_errors(), "generated manifest must be valid");
        assert_eq!(desired.rooms.len(), rooms);
        println!(
            "validate {rooms} rooms x 10 invitees ({:.1} MB): {:.3} s, peak RSS so far {:.0} MiB",
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    }
}
