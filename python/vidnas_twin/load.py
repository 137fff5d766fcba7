"""Building twins from vidnas files: a search space plus an architecture string, or an exported
config (`configs/<name>.json`, format `vidnas-arch/1`, crates/export/src/config.rs) plus its
safetensors weights."""

import json
import os

from safetensors.torch import load_file

from .network import VideoModel
from .space import Space, arch_id
from .text import Vocab

CONFIG_FORMAT = "vidnas-arch/1"


def from_space(space, arch, text_config=None, build="subnet"):
    """A randomly initialised twin of `arch` (a `-`-joined op string) in `space` (a path, a
    dict or a `Space`); temporal ops start at zero output, as in Rust. `text_config` (the
    `text_encoder` object of a config) adds the text encoder."""
    if isinstance(space, (str, os.PathLike)):
        space = Space.load(space)
    elif not isinstance(space, Space):
        space = Space(space)
    return VideoModel(space, build=build, arch=arch if build == "subnet" else None, text_config=text_config)


def read_config(config_path):
    """The exported config, checked as `load_exported` checks it (format, arch id, slot map,
    text width, vocabulary size); returns (config, space, arch ops, vocab)."""
    with open(config_path) as f:
        config = json.load(f)
    where = str(config_path)
    if config.get("format") != CONFIG_FORMAT:
        raise ValueError(f"{where}: format `{config.get('format')}` is not `{CONFIG_FORMAT}`")
    space = Space(config["space"], config_path)
    arch = space.parse_arch(config["arch"])
    if arch_id(arch) != config["arch_id"]:
        raise ValueError(f"{where}: arch_id {config['arch_id']} does not match arch {config['arch']}")
    if space.slot_map(arch) != dict(sorted(config["slots"].items())):
        raise ValueError(f"{where}: slots does not match arch {config['arch']}")
    text = config["text_encoder"]
    if text["dim"] != space.file["backbone"]["cross_attention_dim"]:
        raise ValueError(f"{where}: text_encoder.dim differs from space.backbone.cross_attention_dim")
    vocab = Vocab(config["vocab"]["tokens"])
    if text.get("precomputed") is None and text["vocab_size"] != len(vocab.tokens):
        raise ValueError(f"{where}: text_encoder.vocab_size is {text['vocab_size']} but vocab holds "
                         f"{len(vocab.tokens)} words")
    return config, space, arch, vocab


def load_exported(config_path, weights=None):
    """`vidnas_export::load_exported(_with)`: the config's model with the weights of `weights`
    (default: the file the config names, beside it). Returns (config, space, arch, vocab, model),
    the model in eval mode, f32, on the CPU."""
    config, space, arch, vocab = read_config(config_path)
    model = VideoModel(space, build="subnet", arch=arch, text_config=config["text_encoder"])
    if weights is None:
        weights = os.path.join(os.path.dirname(os.path.abspath(config_path)), config["weights"])
    model.load_vidnas_state_dict(load_file(weights), strict=True)
    model.eval()
    return config, space, arch, vocab, model
