mod common;

use common::one_block;
use vidnas_latency::{default_decoder, generation_time, ExtraTerm, LatencyTable};

fn fixture() -> LatencyTable {
    LatencyTable::from_json(
        "one-block.json",
        include_str!("../../../latency-tables/fixtures/one-block.json"),
    )
    .unwrap()
}

#[test]
fn generation_time_is_the_sum_of_its_parts() {
    let space = one_block();
    let arch = space.parse_arch("none-attn3d-none-conv1d").unwrap();
    let text = ExtraTerm::Included {
        ms: 1.25,
        source: "given".into(),
    };
    let decoder = ExtraTerm::Included {
        ms: 4.0,
        source: "given".into(),
    };
    // One denoiser pass of this architecture on the fixture is 8.8 ms (see predict.rs).
    let g = generation_time(&space, &arch, &fixture(), 4, true, text, decoder).unwrap();
    assert_eq!(g.passes_per_step, 2);
    assert!((g.denoiser_pass_ms - 8.8).abs() < 1e-12);
    assert!((g.denoiser_ms - 4.0 * 2.0 * 8.8).abs() < 1e-9);
    assert!(
        (g.total_ms - (1.25 + 70.4 + 4.0)).abs() < 1e-9,
        "{}",
        g.total_ms
    );

    let plain = generation_time(
        &space,
        &arch,
        &fixture(),
        25,
        false,
        ExtraTerm::Unknown {
            reason: "runs elsewhere".into(),
        },
        default_decoder(&space),
    )
    .unwrap();
    assert_eq!(plain.passes_per_step, 1);
    assert!((plain.total_ms - 25.0 * 8.8).abs() < 1e-9);
    assert!(plain.decoder.describe().starts_with("none: pixel-space"));
}

#[test]
fn a_latent_space_without_a_decoder_time_says_so() {
    let mut file = one_block().file.clone();
    file.video.vae_scale_factor = 8;
    let space = vidnas_space::Space::from_file("latent.json", file).unwrap();
    let term = default_decoder(&space);
    assert_eq!(term.ms(), 0.0);
    assert!(
        term.describe().contains("--decoder-ms"),
        "{}",
        term.describe()
    );
}
