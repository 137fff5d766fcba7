//! Spaces and tables shared by the integration tests.
#![allow(dead_code)]

use vidnas_latency::{
    all_signatures, DeviceInfo, Dtype, Entry, LatencyTable, LowerOptions, Signature, Statistic,
};
use vidnas_space::Space;

pub fn tiny() -> Space {
    Space::from_json(
        "tiny.json",
        include_str!("../../../../search-spaces/tiny.json"),
    )
    .unwrap()
}

pub fn snapgen() -> Space {
    Space::from_json(
        "snapgen-v.json",
        include_str!("../../../../search-spaces/snapgen-v.json"),
    )
    .unwrap()
}

/// Two blocks (8, 16 channels), one layer per down block, cross-attention in the low block,
/// 2 frames of 8×8 RGB, 4 groups, 2 heads, text width 8. Seven slots.
pub const TWO_BLOCK: &str = r#"{
  "format": "vidnas-space/1",
  "name": "two-block",
  "video": { "frames": 2, "height": 8, "width": 8, "channels": 3 },
  "backbone": {
    "sample_size": 8, "in_channels": 3, "out_channels": 3,
    "block_out_channels": [8, 16], "layers_per_block": 1,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "cross_attention_dim": 8, "attention_head_dim": 2, "norm_num_groups": 4
  },
  "temporal": {
    "ops": {
      "none": {},
      "conv1d": { "kernel_size": 3 },
      "conv3d": { "kernel_size": 3 },
      "attn1d": { "num_heads": 2 },
      "attn3d": { "num_heads": 2, "max_resolution": 4 }
    }
  }
}"#;

pub fn two_block() -> Space {
    Space::from_json("two-block.json", TWO_BLOCK).unwrap()
}

/// One block of 8 channels, no attention, 2 frames of 4×4 RGB, 4 groups. Slots:
/// down.0.block.0, mid.block.0, up.0.block.0, up.0.block.1.
pub const ONE_BLOCK: &str = r#"{
  "format": "vidnas-space/1",
  "name": "one-block",
  "video": { "frames": 2, "height": 4, "width": 4, "channels": 3 },
  "backbone": {
    "sample_size": 4, "in_channels": 3, "out_channels": 3,
    "block_out_channels": [8], "layers_per_block": 1,
    "down_block_types": ["DownBlock2D"],
    "up_block_types": ["UpBlock2D"],
    "mid_block_type": "UNetMidBlock2D",
    "cross_attention_dim": 8, "attention_head_dim": 2, "norm_num_groups": 4
  },
  "temporal": {
    "ops": {
      "none": {},
      "conv1d": { "kernel_size": 3 },
      "attn3d": { "num_heads": 2 }
    }
  }
}"#;

pub fn one_block() -> Space {
    Space::from_json("one-block.json", ONE_BLOCK).unwrap()
}

pub fn device() -> DeviceInfo {
    DeviceInfo {
        name: "test device".into(),
        host: "test-host".into(),
        backend: "cpu".into(),
        dtype: Dtype::F32,
        threads: 2,
        batch: 1,
        text_tokens: 16,
        libtorch_version: None,
        runtime_version: None,
        date: "2025-01-01T00:00:00Z".into(),
        statistic: Statistic::Min,
        repeats: 10,
        warmup: 2,
        source: "test".into(),
    }
}

pub fn entry(ms: f64) -> Entry {
    Entry {
        ms,
        count: 10,
        mean_ms: ms,
        std_ms: 0.01,
        bytes: 0,
        delegation: None,
    }
}

/// A full table for `space` with deterministic made-up times (0.1 to 5 ms, by signature).
pub fn synthetic_table(space: &Space) -> LatencyTable {
    let mut table = LatencyTable::new(device());
    for sig in all_signatures(space, &LowerOptions::default()) {
        let h = sig
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        let parsed: Signature = sig.parse().unwrap();
        table.insert(&parsed, entry(0.1 + (h % 491) as f64 / 100.0));
    }
    table
}
