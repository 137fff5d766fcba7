//! The micro space and timing settings both profiling tests use: tiny shapes, two repeats.

use vidnas_latency::{Dtype, Statistic};
use vidnas_profile::executorch::Runtime;
use vidnas_profile::profile::ProfileOptions;
use vidnas_profile::timer::TimingConfig;
use vidnas_space::{fixtures, Space};

/// `vidnas_space::fixtures::micro` (8×8 pixels, channels 8/16/16) with `frames` frames.
pub fn micro(frames: usize) -> Space {
    let mut file = fixtures::micro().file;
    file.video.frames = frames;
    Space::from_file("micro.json", file).unwrap()
}

/// On the CPU, one thread, no warm-up and two repeats, the minimum as the statistic.
pub fn options(dtype: Dtype) -> ProfileOptions {
    ProfileOptions {
        device_name: "test".into(),
        cuda: false,
        dtype,
        threads: 1,
        batch: 1,
        text_tokens: 4,
        timing: TimingConfig {
            warmup: 0,
            repeats: 2,
        },
        statistic: Statistic::Min,
        runtime: Runtime::Libtorch,
        bundle: None,
    }
}
