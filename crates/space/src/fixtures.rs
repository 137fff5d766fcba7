//! Built-in spaces for tests and examples.

use crate::space::Space;

/// The shipped tiny space (8 RGB frames of 32×32, 10 slots).
pub fn tiny() -> Space {
    Space::from_json(
        "tiny.json",
        include_str!("../../../search-spaces/tiny.json"),
    )
    .expect("the shipped tiny space is valid")
}

/// The shipped tiny-plus space: tiny with conv2plus1d at every slot.
pub fn tiny_plus() -> Space {
    Space::from_json(
        "tiny-plus.json",
        include_str!("../../../search-spaces/tiny-plus.json"),
    )
    .expect("the shipped tiny-plus space is valid")
}

/// The tiny space shrunk until libtorch tests run in milliseconds: 2 frames of 8×8, channels
/// 8/16/16, text width 16, attn3d at 4×4 only. Same slots and ops as `tiny`.
pub fn micro() -> Space {
    let mut file = tiny().file;
    file.name = "micro".into();
    file.video.frames = 2;
    file.video.height = 8;
    file.video.width = 8;
    let b = &mut file.backbone;
    b.block_out_channels = vec![8, 16, 16];
    b.cross_attention_dim = 16;
    b.norm_num_groups = 4;
    if let Some(attn3d) = file.temporal.ops.attn3d.as_mut() {
        attn3d.max_resolution = Some(4);
    }
    Space::from_file("micro.json", file).expect("the micro space is valid")
}

/// [`micro`] with every op of the registry declared, as tiny-plus declares them: the op tests'
/// space.
pub fn micro_plus() -> Space {
    let mut file = micro().file;
    file.name = "micro-plus".into();
    file.temporal.ops = tiny_plus().file.temporal.ops;
    if let Some(attn3d) = file.temporal.ops.attn3d.as_mut() {
        attn3d.max_resolution = Some(4);
    }
    Space::from_file("micro-plus.json", file).expect("the micro-plus space is valid")
}
