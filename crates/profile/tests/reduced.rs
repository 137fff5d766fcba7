//! Profiling at reduced size (`--reduce-frames`): entries are keyed by the full-size signature,
//! the rule is recorded in `device.source`, resuming under another rule is refused, and the
//! scaling check compares scaled and full-size times for every kind whose factor is not 1.

mod common;

use common::{micro, options};
use vidnas_latency::{check_covers, Dtype, LatencyTable, Signature};
use vidnas_profile::profile::{profile_space, profile_space_scaled, scaling_check};
use vidnas_profile::scale::{frames, Reduction};

/// Four frames, so a reduction to 2 frames has something to cut.
const FRAMES: usize = 4;

#[test]
fn reduced_table_is_keyed_by_full_signatures_and_records_the_rule() {
    let space = micro(FRAMES);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let r = Reduction::frames(2).unwrap();
    let table = profile_space_scaled(&space, &out, &options(Dtype::F32), Some(r), false).unwrap();
    check_covers(&space, &table).unwrap();
    let reloaded = LatencyTable::load(&out).unwrap();
    assert_eq!(reloaded.device.source, r.describe());
    assert!(reloaded.device.source.contains("--reduce-frames 2"));
    for (text, e) in &reloaded.entries {
        let sig: Signature = text.parse().unwrap();
        if let Some(t) = frames(&sig) {
            assert_eq!(
                t, FRAMES as u64,
                "{text}: keyed by the space's frames, not the timed ones"
            );
        }
        assert!(e.ms > 0.0 && e.count == 2, "{text}");
        assert_eq!(e.bytes, sig.bytes(1, Dtype::F32), "{text}: full-size bytes");
    }

    // A table is measured at one size: resuming it at full size (or another size) is refused.
    let err = profile_space(&space, &out, &options(Dtype::F32), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("device.source") && err.contains("--reduce-frames"),
        "{err}"
    );
    let other = Reduction::frames(1).unwrap();
    assert!(profile_space_scaled(&space, &out, &options(Dtype::F32), Some(other), false).is_err());
    // The same rule resumes.
    profile_space_scaled(&space, &out, &options(Dtype::F32), Some(r), false).unwrap();
}

#[test]
fn scaling_check_covers_every_kind_it_scales() {
    let space = micro(FRAMES);
    let r = Reduction::frames(2).unwrap();
    let rows = scaling_check(&space, &options(Dtype::F32), r, false).unwrap();
    let kinds: Vec<&str> = rows.iter().map(|x| x.kind.as_str()).collect();
    for k in [
        "conv_in", "resnet", "xformer", "down", "up", "conv_out", "conv1d", "conv3d", "attn1d",
        "attn3d",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert!(!kinds.contains(&"time_embed"), "nothing to scale");
    for row in &rows {
        let sig: Signature = row.signature.parse().unwrap();
        let timed: Signature = row.timed_signature.parse().unwrap();
        assert_eq!(frames(&timed), Some(2));
        assert_eq!(timed, r.timed_shape(&sig));
        assert!((row.factor - r.factor(&sig)).abs() < 1e-12);
        assert!((row.scaled_ms - row.reduced_ms * row.factor).abs() < 1e-9);
        let err = (row.scaled_ms - row.full_ms) / row.full_ms * 100.0;
        assert!((row.error_pct - err).abs() < 1e-9);
    }
}
