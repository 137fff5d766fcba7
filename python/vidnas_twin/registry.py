"""The twin's copy of the op registry (crates/space/src/ops.rs, `OpKind::spec`), without torch so
the space reader can use it: `crates/nn/tests/python_registry.rs` checks it line by line against
the Rust one. Its order is the canonical op order (`OpKind::ALL`)."""

# The op registry of crates/space/src/ops.rs (`OpKind::spec`): what each op computes, as
# ("conv", [(mixing, size) per stage]) with size "k" for the op's kernel_size, or
# ("attention", mixing) with every token of a sequence as keys, or ("attention", mixing,
# "strided") with every `stride`-th (the op's `stride`); mixing is "frames", "pixels" or "volume".
STRUCTURE = {
    "none": None,
    "conv1d": ("conv", [("frames", "k"), ("frames", "k")]),
    "conv3d": ("conv", [("volume", "k"), ("volume", "k")]),
    "attn1d": ("attention", "frames"),
    "attn3d": ("attention", "volume"),
    "conv2plus1d": ("conv", [("pixels", 3), ("frames", "k")]),
    "attn3d_stride": ("attention", "volume", "strided"),
}


def is_strided(kind):
    """Whether the op `kind` attends to strided keys (and so takes a `stride`)."""
    entry = STRUCTURE.get(kind)
    return entry is not None and entry[0] == "attention" and entry[2:] == ("strided",)
