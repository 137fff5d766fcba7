"""The vidnas video UNet (crates/nn/src/unet.rs) out of diffusers' `UNet2DConditionModel`
modules, with the temporal ops of `temporal.py` at the space's slots, plus the text encoder.

Weight names are vidnas': diffusers' state-dict keys for the spatial part, a temporal op under
`<block>.temporal.<layer>.<op>.` (e.g. `down_blocks.1.temporal.0.attn1d.proj_in.weight`,
`mid_block.temporal.0.conv3d.conv1.weight`), the text encoder under `text_encoder.`. The
temporal `ModuleDict`s are attached to diffusers' own block modules, so `unet.state_dict()`
already holds the vidnas names.

Frames are folded into the batch (`[B*T, C, H, W]`, row b*T + t) for every spatial layer; the
time embedding and the text context are repeated per frame. The forward pass walks diffusers'
modules in the order of `VideoUNet::forward` and runs a slot's op after each layer (ResNet,
then the transformer where the block has one) and after the whole mid block.
"""

import torch
from torch import nn

from .space import Space
from .temporal import temporal_op
from .text import TextEncoder

TEXT_PREFIX = "text_encoder."

try:
    from diffusers import UNet2DConditionModel
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError(
        "vidnas_twin needs diffusers (the version scripts/make_tiny_diffusers_unet.py uses): "
        "~/.cache/vidnas/venv-torch-2.13.0/bin/pip install diffusers==0.42.1") from e


def backbone_kwargs(space):
    """`UNet2DConditionModel` arguments: the space's backbone keys are diffusers' own."""
    return dict(space.file["backbone"])


class VideoModel(nn.Module):
    """A text-to-video model: `unet` (diffusers modules + temporal slots) and `text_encoder`.

    build: "subnet" (the ops of `arch` only: an exported model), "supernet" (every allowed op
    at every slot) or "image" (no temporal op), as the Rust `Build`.
    """

    def __init__(self, space, build="subnet", arch=None, text_config=None):
        super().__init__()
        if not isinstance(space, Space):
            space = Space(space)
        if build == "subnet":
            if arch is None:
                raise ValueError("a subnet needs an architecture")
            arch = space.parse_arch(arch) if isinstance(arch, str) else list(arch)
        elif build not in ("supernet", "image"):
            raise ValueError(f"build `{build}`: use subnet, supernet or image")
        self.space = space
        self.build = build
        self.arch = arch
        b = space.file["backbone"]
        if text_config is not None and text_config["dim"] != b["cross_attention_dim"]:
            raise ValueError(f"text encoder width {text_config['dim']} differs from the backbone's "
                             f"cross_attention_dim {b['cross_attention_dim']}")
        self.unet = UNet2DConditionModel(**backbone_kwargs(space))
        self.text_encoder = TextEncoder(text_config) if text_config is not None else None
        cfg = space.temporal_config()
        # slot key (stage, block, layer) -> slot index; ops attached to the diffusers blocks.
        self.slot_of = {}
        for index, slot in enumerate(space.slots):
            self.slot_of[(slot.stage, slot.block, slot.layer)] = index
            if build == "supernet":
                kinds = slot.allowed
            elif build == "subnet":
                kinds = [arch[index]]
            else:
                kinds = []
            ops = {k: op for k in kinds if (op := temporal_op(k, slot.channels, cfg)) is not None}
            if not ops:
                continue
            block = self._block(slot.stage, slot.block)
            if not hasattr(block, "temporal"):
                block.temporal = nn.ModuleDict()
            block.temporal[str(slot.layer)] = nn.ModuleDict(ops)

    def _block(self, stage, block):
        u = self.unet
        if stage == "down":
            return u.down_blocks[block]
        if stage == "mid":
            return u.mid_block
        return u.up_blocks[block]

    # ---- weights -------------------------------------------------------------------------

    def vidnas_state_dict(self):
        """Every weight under its vidnas name (what `VideoModel::save_all` writes)."""
        sd = dict(self.unet.state_dict())
        if self.text_encoder is not None:
            sd.update({TEXT_PREFIX + k: v for k, v in self.text_encoder.state_dict().items()})
        return sd

    def load_vidnas_state_dict(self, tensors, strict=True):
        """Copies `tensors` (vidnas names; any float dtype, converted) into the model. Every
        weight of the model must be there with its shape; with `strict`, no other tensor may be.
        Returns the number of tensors loaded."""
        own = self.vidnas_state_dict()
        missing = sorted(set(own) - set(tensors))
        extra = sorted(set(tensors) - set(own))
        if missing or (strict and extra):
            raise KeyError(f"weights differ from the model: {len(missing)} missing (e.g. {missing[:3]}), "
                           f"{len(extra)} unexpected (e.g. {extra[:3]})")
        with torch.no_grad():
            for name, dst in own.items():
                src = tensors[name]
                if tuple(src.shape) != tuple(dst.shape):
                    raise ValueError(f"{name}: shape {tuple(src.shape)} in the file, {tuple(dst.shape)} in the model")
                dst.copy_(src.to(dst.dtype))
        return len(own)

    # ---- forward -------------------------------------------------------------------------

    def _slot(self, stage, block, layer, h, arch, frames):
        index = self.slot_of.get((stage, block, layer))
        if index is None or arch[index] == "none":
            return h
        ops = getattr(self._block(stage, block), "temporal", {})
        key = str(layer)
        if key not in ops or arch[index] not in ops[key]:
            raise KeyError(f"slot {self.space.slots[index].name} was not built with op {arch[index]}")
        return ops[key][arch[index]](h, frames)

    def _arch(self, arch):
        if arch is None:
            arch = self.arch
        elif isinstance(arch, str):
            arch = self.space.parse_arch(arch)
        if arch is None or len(arch) != len(self.space.slots):
            raise ValueError("architecture from another space (or none given)")
        return arch

    def denoise(self, xs, timesteps, context, arch=None):
        """`VideoUNet::forward`: clips `[B, C, T, H, W]`, timesteps `[B]`, context `[B, S, D]`
        -> `[B, C_out, T, H, W]`, running the temporal ops of `arch` (default: the subnet's)."""
        arch = self._arch(arch)
        u = self.unet
        b, c, t, hh, ww = xs.shape
        # Features in f32, then the clip's dtype, as diffusers does.
        t_emb = u.time_proj(timesteps).to(xs.dtype)
        temb = u.time_embedding(t_emb).repeat_interleave(t, 0)
        ctx = context.repeat_interleave(t, 0)
        h = u.conv_in(xs.permute(0, 2, 1, 3, 4).reshape(b * t, c, hh, ww))
        skips = [h]
        for i, block in enumerate(u.down_blocks):
            attentions = getattr(block, "attentions", None)
            for j, resnet in enumerate(block.resnets):
                h = resnet(h, temb)
                if attentions is not None:
                    h = attentions[j](h, encoder_hidden_states=ctx, return_dict=False)[0]
                h = self._slot("down", i, j, h, arch, t)
                skips.append(h)
            if block.downsamplers is not None:
                h = block.downsamplers[0](h)
                skips.append(h)
        m = u.mid_block
        h = m.resnets[0](h, temb)
        for k, attn in enumerate(getattr(m, "attentions", None) or []):
            if attn is not None:
                h = attn(h, encoder_hidden_states=ctx, return_dict=False)[0]
            h = m.resnets[k + 1](h, temb)
        h = self._slot("mid", 0, 0, h, arch, t)
        for i, block in enumerate(u.up_blocks):
            attentions = getattr(block, "attentions", None)
            for j, resnet in enumerate(block.resnets):
                h = torch.cat([h, skips.pop()], 1)
                h = resnet(h, temb)
                if attentions is not None:
                    h = attentions[j](h, encoder_hidden_states=ctx, return_dict=False)[0]
                h = self._slot("up", i, j, h, arch, t)
            if block.upsamplers is not None:
                h = block.upsamplers[0](h)
        out = u.conv_out(u.conv_act(u.conv_norm_out(h)))
        _, co, ho, wo = out.shape
        return out.view(b, t, co, ho, wo).permute(0, 2, 1, 3, 4)

    forward = denoise

    def prompt_ids(self, captions, vocab):
        """`VideoModel::prompt_ids`: token ids `[B, max_tokens]` (rows `[B, 1]` of a precomputed
        table, looked up by prompt)."""
        c = self.text_encoder.config
        if c.get("precomputed") is not None:
            prompts = c["precomputed"]["prompts"]
            missing = [p for p in captions if p not in prompts]
            if missing:
                raise ValueError(f"no precomputed embedding for {missing}")
            return torch.tensor([[prompts.index(p)] for p in captions], dtype=torch.long)
        return torch.tensor([vocab.tokenize(p, c["max_tokens"]) for p in captions], dtype=torch.long)
