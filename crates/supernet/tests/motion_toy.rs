//! Temporal layers learn motion: on a motion-only toy (one white square moving in one of four
//! directions, 4 frames of 16×16) a few hundred steps with temporal attention lower the
//! motion-specific loss (the error of the frame-to-frame change) below the image-only model's
//! trained for as many steps. Fails if the temporal layers add nothing a per-frame model lacks.

mod common;

use common::micro_space;
use tch::Device;
use vidnas_data::{generate_labeled, ClipLabel, Colour, Dataset, Direction, Motion, Shape, Vocab};
use vidnas_diffusion::{default_text_config, procedural_config, Objective, TrainConfig};
use vidnas_diffusion::{ValidationConfig, VideoModel};
use vidnas_nn::Build;
use vidnas_space::{Architecture, OpKind};

const STEPS: usize = 100;

fn motion_only_clips(seed: u64, n: u64) -> Dataset {
    let shape = procedural_config(&micro_space());
    let directions = [
        Direction::Left,
        Direction::Right,
        Direction::Up,
        Direction::Down,
    ];
    let clips = (0..n)
        .map(|i| {
            let label = ClipLabel {
                shape: Shape::Square,
                colour: Colour::White,
                motion: Motion::Move {
                    direction: directions[i as usize % 4],
                    fast: true,
                },
            };
            generate_labeled(&shape, seed, i, label).unwrap()
        })
        .collect();
    Dataset::from_clips(clips).unwrap()
}

/// Trains a fresh model (same initial weights for both) for `STEPS` steps; returns it.
fn trained(build: Build, objective: Objective, data: &Dataset, vocab: &Vocab) -> VideoModel {
    tch::manual_seed(0);
    let space = micro_space();
    let text = default_text_config(&space, vocab, 8);
    let mut model = VideoModel::new(&space, build, text, Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        steps: STEPS,
        batch_size: 4,
        lr: 2e-3,
        checkpoint_every: STEPS,
        ..TrainConfig::default()
    };
    vidnas_supernet::trainer(&mut model, objective, cfg, data, vocab, dir.path())
        .run(false)
        .unwrap();
    model
}

#[test]
fn temporal_layers_lower_the_motion_loss_below_the_image_models() {
    // One thread: idle OpenMP threads spin, and beside other jobs they slowed this test 3x.
    tch::set_num_threads(1);
    let vocab = Vocab::procedural();
    let train = motion_only_clips(0, 64);
    let held_out: Vec<_> = (0..16).map(|i| motion_only_clips(1, 16).get(i)).collect();
    let space = micro_space();
    let temporal = Architecture {
        ops: space
            .slots
            .iter()
            .map(|s| {
                if s.allows(OpKind::Attn1d) {
                    OpKind::Attn1d
                } else {
                    OpKind::None
                }
            })
            .collect(),
    };
    let per_frame = Architecture {
        ops: vec![OpKind::None; space.num_slots()],
    };
    let video = trained(
        Build::Subnet(temporal.clone()),
        Objective::Full(temporal.clone()),
        &train,
        &vocab,
    );
    let image = trained(Build::Image, Objective::Image, &train, &vocab);
    // Four timesteps spread over the schedule, the same noise for both models.
    let validation = ValidationConfig {
        timesteps_per_clip: 4,
        batch_size: 16,
        noise_seed: 7,
        ..ValidationConfig::default()
    };
    let schedule = TrainConfig::default().schedule;
    let set = |m: &VideoModel| {
        vidnas_supernet::ValidationSet::new(m, &held_out, &vocab, &schedule, &validation).unwrap()
    };
    let video_motion = set(&video).score_motion(&video, &temporal);
    let image_motion = set(&image).score_motion(&image, &per_frame);
    eprintln!("motion loss: temporal {video_motion:.5}, image {image_motion:.5}");
    assert!(
        video_motion < 0.9 * image_motion,
        "temporal attention's motion loss {video_motion:.5} is not below the image model's {image_motion:.5}"
    );
}
