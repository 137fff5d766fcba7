"""vidnas_twin: a PyTorch twin of the vidnas text-to-video network.

The spatial UNet is diffusers' `UNet2DConditionModel` (built from a space's backbone, the same
keys); the temporal ops (every op of `registry.py`) and the text encoder re-implement
crates/nn; weights load by their vidnas names, so an exported `configs/<name>.safetensors` loads
as is. crates/export/tests/twin_parity.rs pins the twin to the Rust network.

    from vidnas_twin import load_exported
    config, space, arch, vocab, model = load_exported("configs/tiny-demo.json")
    ctx = model.text_encoder(model.prompt_ids(["a red square moving left"], vocab))
    eps = model.denoise(x_t, timesteps, ctx)       # x_t: [B, C, T, H, W]
"""

from .load import CONFIG_FORMAT, from_space, load_exported, read_config
from .network import TEXT_PREFIX, VideoModel
from .space import OP_KINDS, Slot, Space, arch_id, space_hash
from .temporal import Attention, TemporalAttention, TemporalConv, frame_positions, temporal_op
from .text import TextEncoder, Vocab

__all__ = [
    "CONFIG_FORMAT", "OP_KINDS", "TEXT_PREFIX", "Attention", "Slot", "Space", "TemporalAttention",
    "TemporalConv", "TextEncoder", "VideoModel", "Vocab", "arch_id", "frame_positions",
    "from_space", "load_exported", "read_config", "space_hash", "temporal_op",
]
