mod common;

use common::micro_space;
use tch::Device;
use vidnas_data::{read_gif_frames, write_gif, Vocab};
use vidnas_diffusion::default_text_config;
use vidnas_diffusion::{ddim_timesteps, sample, NoiseSchedule, SampleConfig, VideoModel};
use vidnas_nn::Build;

fn model() -> (VideoModel, vidnas_space::Architecture, Vocab) {
    tch::manual_seed(0);
    let space = micro_space();
    let vocab = Vocab::procedural();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let arch = space.sample(&mut rng);
    let m = VideoModel::new(
        &space,
        Build::Subnet(arch.clone()),
        default_text_config(&space, &vocab, 8),
        Device::Cpu,
    )
    .unwrap();
    (m, arch, vocab)
}

#[test]
fn sampling_is_deterministic_under_a_seed() {
    let (m, arch, vocab) = model();
    let s = NoiseSchedule::default();
    let cfg = |seed| SampleConfig {
        steps: 4,
        guidance: 3.0,
        seed,
    };
    let a = sample(
        &m,
        &arch,
        &vocab,
        &s,
        "a red square moving left fast",
        &cfg(7),
    )
    .unwrap();
    let b = sample(
        &m,
        &arch,
        &vocab,
        &s,
        "a red square moving left fast",
        &cfg(7),
    )
    .unwrap();
    let c = sample(
        &m,
        &arch,
        &vocab,
        &s,
        "a red square moving left fast",
        &cfg(8),
    )
    .unwrap();
    assert_eq!(a.pixels, b.pixels);
    assert_ne!(a.pixels, c.pixels);
    assert!(a.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
}

#[test]
fn unknown_words_are_named() {
    let (m, arch, vocab) = model();
    let cfg = SampleConfig {
        steps: 2,
        guidance: 1.0,
        seed: 0,
    };
    let err = sample(
        &m,
        &arch,
        &vocab,
        &NoiseSchedule::default(),
        "a purple hexagon moving left",
        &cfg,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("purple") && err.contains("hexagon"), "{err}");
}

#[test]
fn gif_of_a_sample_decodes_to_its_frames() {
    let (m, arch, vocab) = model();
    let cfg = SampleConfig {
        steps: 2,
        guidance: 2.0,
        seed: 1,
    };
    let clip = sample(
        &m,
        &arch,
        &vocab,
        &NoiseSchedule::default(),
        "a blue circle blinking",
        &cfg,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.gif");
    write_gif(&path, &clip, 3, 100).unwrap();
    let (frames, w, h) = read_gif_frames(&path).unwrap();
    assert_eq!(
        (frames, w, h),
        (clip.frames, 3 * clip.width as u32, 3 * clip.height as u32)
    );
}

#[test]
fn four_step_schedule_starts_at_the_noisiest_timestep() {
    assert_eq!(ddim_timesteps(1000, 4), vec![999, 749, 499, 249]);
    assert_eq!(ddim_timesteps(1000, 1), vec![999]);
}
