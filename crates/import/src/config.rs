//! diffusers' `UNet2DConditionModel` config: every key it knows, with its default (diffusers
//! 0.42.1, `UNet2DConditionModel.__init__`), and what vidnas does with it. A key missing from a
//! config takes diffusers' default, as `from_pretrained` does.

use crate::error::ImportError;
use crate::text::json_problem;
use serde_json::{Map, Value};
use std::path::Path;
use vidnas_space::Backbone;

/// What vidnas does with a config key.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Read into the backbone (and checked there).
    Mapped,
    /// The network vidnas builds equals diffusers' only at the default value; the text says
    /// what vidnas does instead.
    Fixed(&'static str),
    /// Has no effect on a network vidnas accepts (it only matters for block types or embeddings
    /// that are refused elsewhere), so any value is fine.
    Unused,
}

use Rule::{Fixed, Mapped, Unused};

const SD_DOWN: &str =
    r#"["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]"#;
const SD_UP: &str =
    r#"["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]"#;

/// `(key, diffusers' default as JSON, rule)`, in diffusers' argument order.
const KEYS: &[(&str, &str, Rule)] = &[
    ("sample_size", "null", Mapped),
    ("in_channels", "4", Mapped),
    ("out_channels", "4", Mapped),
    (
        "center_input_sample",
        "false",
        Fixed("the input is not rescaled to 2x - 1"),
    ),
    ("flip_sin_to_cos", "true", Mapped),
    ("freq_shift", "0", Mapped),
    ("down_block_types", SD_DOWN, Mapped),
    ("mid_block_type", r#""UNetMidBlock2DCrossAttn""#, Mapped),
    ("up_block_types", SD_UP, Mapped),
    ("only_cross_attention", "false", Mapped),
    ("block_out_channels", "[320, 640, 1280, 1280]", Mapped),
    ("layers_per_block", "2", Mapped),
    (
        "downsample_padding",
        "1",
        Fixed("down-samplers pad every side by 1"),
    ),
    (
        "mid_block_scale_factor",
        "1",
        Fixed("the mid block's ResNets are not rescaled"),
    ),
    ("dropout", "0.0", Fixed("vidnas blocks have no dropout")),
    ("act_fn", r#""silu""#, Fixed("vidnas blocks use SiLU")),
    ("norm_num_groups", "32", Mapped),
    ("norm_eps", "1e-5", Mapped),
    ("cross_attention_dim", "1280", Mapped),
    ("transformer_layers_per_block", "1", Mapped),
    (
        "reverse_transformer_layers_per_block",
        "null",
        Fixed("up blocks mirror the down blocks' transformer depth"),
    ),
    (
        "encoder_hid_dim",
        "null",
        Fixed("the text embeddings go to cross-attention unprojected"),
    ),
    (
        "encoder_hid_dim_type",
        "null",
        Fixed("the text embeddings go to cross-attention unprojected"),
    ),
    ("attention_head_dim", "8", Mapped),
    ("num_attention_heads", "null", Mapped),
    (
        "dual_cross_attention",
        "false",
        Fixed("each transformer has one cross-attention"),
    ),
    ("use_linear_projection", "false", Mapped),
    (
        "class_embed_type",
        "null",
        Fixed("there is no class embedding"),
    ),
    (
        "addition_embed_type",
        "null",
        Fixed("there are no added (e.g. SDXL text_time) embeddings"),
    ),
    ("addition_time_embed_dim", "null", Unused),
    (
        "num_class_embeds",
        "null",
        Fixed("there is no class embedding"),
    ),
    (
        "upcast_attention",
        "false",
        Fixed("attention runs in the model's dtype"),
    ),
    (
        "resnet_time_scale_shift",
        r#""default""#,
        Fixed("ResNets add the time embedding (no scale-shift)"),
    ),
    (
        "resnet_skip_time_act",
        "false",
        Fixed("ResNets apply SiLU to the time embedding"),
    ),
    (
        "resnet_out_scale_factor",
        "1.0",
        Fixed("ResNet outputs are not rescaled"),
    ),
    (
        "time_embedding_type",
        r#""positional""#,
        Fixed("timesteps get sinusoidal (positional) features"),
    ),
    (
        "time_embedding_dim",
        "null",
        Fixed("the time embedding is 4 x block_out_channels[0] wide"),
    ),
    (
        "time_embedding_act_fn",
        "null",
        Fixed("the time embedding has no extra activation"),
    ),
    (
        "timestep_post_act",
        "null",
        Fixed("the time embedding has no extra activation"),
    ),
    (
        "time_cond_proj_dim",
        "null",
        Fixed("the time embedding takes no condition (e.g. an LCM guidance scale)"),
    ),
    ("conv_in_kernel", "3", Fixed("conv_in is a 3x3 convolution")),
    (
        "conv_out_kernel",
        "3",
        Fixed("conv_out is a 3x3 convolution"),
    ),
    (
        "projection_class_embeddings_input_dim",
        "null",
        Fixed("there is no class embedding"),
    ),
    (
        "attention_type",
        r#""default""#,
        Fixed("transformers have no gated (GLIGEN) attention"),
    ),
    (
        "class_embeddings_concat",
        "false",
        Fixed("there is no class embedding"),
    ),
    ("mid_block_only_cross_attention", "null", Unused),
    ("cross_attention_norm", "null", Unused),
    ("addition_embed_type_num_heads", "64", Unused),
];

mod sizes;

const DOWN_TYPES: [&str; 2] = ["DownBlock2D", "CrossAttnDownBlock2D"];
const UP_TYPES: [&str; 2] = ["UpBlock2D", "CrossAttnUpBlock2D"];
const MID_TYPES: [&str; 2] = ["UNetMidBlock2DCrossAttn", "UNetMidBlock2D"];

/// A parsed config: the file's keys over diffusers' defaults.
pub(crate) struct Config<'a> {
    path: &'a Path,
    values: Map<String, Value>,
    /// `_diffusers_version`, when the file records it.
    pub(crate) diffusers_version: Option<String>,
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

/// diffusers accepts `UNetRes`-prefixed aliases of the block types.
fn block_type(name: &str) -> &str {
    name.strip_prefix("UNetRes").unwrap_or(name)
}

impl<'a> Config<'a> {
    /// Parses `text` (read from `path`) and checks every key is known and, where vidnas has no
    /// equivalent, at its default.
    pub(crate) fn parse(path: &'a Path, text: &str) -> Result<Self, ImportError> {
        let json_err = |message: String| ImportError::Json {
            path: path.to_path_buf(),
            message,
        };
        let file: Value =
            serde_json::from_str(text).map_err(|e| json_err(json_problem(text, &e)))?;
        let Value::Object(file) = file else {
            return Err(json_err(
                "the top level is not a JSON object; a diffusers config.json is one object of \
                 UNet2DConditionModel arguments"
                    .into(),
            ));
        };
        let mut values = Map::new();
        for (key, default, _) in KEYS {
            let v = serde_json::from_str(default).expect("the defaults table is valid JSON");
            values.insert((*key).to_string(), v);
        }
        let mut config = Config {
            path,
            values: Map::new(),
            diffusers_version: None,
        };
        for (key, value) in file {
            if key == "_class_name" && value != "UNet2DConditionModel" {
                return Err(config.unsupported(
                    &key,
                    &value,
                    "vidnas imports UNet2DConditionModel configs only",
                ));
            }
            if key == "_diffusers_version" {
                config.diffusers_version = value.as_str().map(str::to_string);
            }
            if key.starts_with('_') {
                continue;
            }
            if !values.contains_key(&key) {
                return Err(config.unsupported(
                    &key,
                    &value,
                    "unknown key (not a diffusers 0.42 UNet2DConditionModel argument); \
                     remove it if it does not change the network",
                ));
            }
            values.insert(key, value);
        }
        config.values = values;
        for (key, default, rule) in KEYS {
            if let Fixed(instead) = rule {
                let default: Value = serde_json::from_str(default).expect("valid JSON");
                let value = &config.values[*key];
                if !same(value, &default) {
                    return Err(config.unsupported(
                        key,
                        value,
                        &format!("{instead}; only diffusers' default {default} is supported"),
                    ));
                }
            }
        }
        Ok(config)
    }

    fn unsupported(&self, key: &str, value: &Value, reason: &str) -> ImportError {
        ImportError::Unsupported {
            path: self.path.to_path_buf(),
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }

    fn get(&self, key: &str) -> &Value {
        &self.values[key]
    }

    fn uint_value(&self, key: &str, v: &Value) -> Result<usize, ImportError> {
        v.as_u64()
            .map(|u| u as usize)
            .ok_or_else(|| self.unsupported(key, v, "expected a non-negative integer"))
    }

    fn uint(&self, key: &str) -> Result<usize, ImportError> {
        self.uint_value(key, self.get(key))
    }

    fn boolean(&self, key: &str) -> Result<bool, ImportError> {
        let v = self.get(key);
        v.as_bool()
            .ok_or_else(|| self.unsupported(key, v, "expected true or false"))
    }

    fn list(&self, key: &str) -> Result<&Vec<Value>, ImportError> {
        let v = self.get(key);
        v.as_array()
            .ok_or_else(|| self.unsupported(key, v, "expected a list"))
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, ImportError> {
        self.list(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str()
                    .map(|s| block_type(s).to_string())
                    .ok_or_else(|| self.unsupported(&format!("{key}[{i}]"), v, "expected a string"))
            })
            .collect()
    }

    /// An integer, or a list of `blocks` equal integers (diffusers' per-block form).
    fn uniform(&self, key: &str, blocks: usize) -> Result<usize, ImportError> {
        let v = self.get(key);
        let Some(items) = v.as_array() else {
            return self.uint(key);
        };
        if items.len() != blocks {
            return Err(self.unsupported(
                key,
                v,
                &format!(
                    "has {} entries but block_out_channels has {blocks}",
                    items.len()
                ),
            ));
        }
        let first = items
            .first()
            .ok_or_else(|| self.unsupported(key, v, "empty list"))?;
        if items.iter().any(|x| !same(x, first)) {
            return Err(self.unsupported(
                key,
                v,
                "per-block values differ; a vidnas backbone uses one value for every block",
            ));
        }
        first.as_u64().map(|u| u as usize).ok_or_else(|| {
            self.unsupported(
                key,
                v,
                "expected an integer or a list of equal integers, one per block",
            )
        })
    }

    /// Checks the block structure and reads the backbone.
    pub(crate) fn backbone(&self) -> Result<Backbone, ImportError> {
        let block_out_channels: Vec<usize> = self
            .list("block_out_channels")?
            .iter()
            .enumerate()
            .map(|(i, v)| self.uint_value(&format!("block_out_channels[{i}]"), v))
            .collect::<Result<_, _>>()?;
        let n = block_out_channels.len();
        if n == 0 {
            return Err(self.unsupported(
                "block_out_channels",
                self.get("block_out_channels"),
                "list the channels of every down block",
            ));
        }
        let down_block_types = self.block_types("down_block_types", n, &DOWN_TYPES)?;
        let up_block_types = self.block_types("up_block_types", n, &UP_TYPES)?;
        let mid = self.get("mid_block_type");
        let mid_block_type = match mid.as_str() {
            Some(t) if MID_TYPES.contains(&t) => t.to_string(),
            Some(_) => {
                return Err(self.unsupported(
                    "mid_block_type",
                    mid,
                    "unsupported block type; use UNetMidBlock2DCrossAttn or UNetMidBlock2D",
                ))
            }
            None => {
                return Err(self.unsupported(
                    "mid_block_type",
                    mid,
                    "a vidnas backbone always has a mid block, so a network without one \
                     cannot be expressed exactly; to approximate it, set UNetMidBlock2D (one \
                     ResNet, whose weights the checkpoint lacks), as \
                     search-spaces/bk-sdm-tiny.json does",
                ))
            }
        };
        let attention_head_dim = self.uniform("attention_head_dim", n)?;
        if !self.get("num_attention_heads").is_null() {
            let heads = self.uniform("num_attention_heads", n)?;
            if heads != attention_head_dim {
                return Err(self.unsupported(
                    "num_attention_heads",
                    self.get("num_attention_heads"),
                    &format!(
                        "differs from attention_head_dim = {attention_head_dim}, which diffusers \
                         (and vidnas) read as the number of heads; leave num_attention_heads null"
                    ),
                ));
            }
        }
        let only_cross = self.get("only_cross_attention");
        let all_false = match only_cross {
            Value::Bool(b) => !b,
            Value::Array(items) => items.iter().all(|x| x == &Value::Bool(false)),
            _ => false,
        };
        if !all_false {
            return Err(self.unsupported(
                "only_cross_attention",
                only_cross,
                "every transformer has self-attention before cross-attention; use false",
            ));
        }
        let sample = self.get("sample_size");
        let sample_size = match sample {
            Value::Null => return Err(self.unsupported(
                "sample_size",
                sample,
                "the clip size comes from it; set it to the model's latent side (64 for SD 1.x)",
            )),
            Value::Array(hw) if hw.len() == 2 && same(&hw[0], &hw[1]) => {
                self.uint_value("sample_size", &hw[0])?
            }
            Value::Array(_) => {
                return Err(self.unsupported(
                    "sample_size",
                    sample,
                    "only square sample sizes are read; give one integer",
                ))
            }
            _ => self.uint("sample_size")?,
        };
        if self.get("norm_num_groups").is_null() {
            return Err(self.unsupported(
                "norm_num_groups",
                self.get("norm_num_groups"),
                "vidnas blocks always group-normalise; give a group count",
            ));
        }
        let eps = self.get("norm_eps");
        let norm_eps = eps
            .as_f64()
            .ok_or_else(|| self.unsupported("norm_eps", eps, "expected a number"))?;
        let backbone = Backbone {
            sample_size,
            in_channels: self.uint("in_channels")?,
            out_channels: self.uint("out_channels")?,
            block_out_channels,
            layers_per_block: self.uniform("layers_per_block", n)?,
            down_block_types,
            up_block_types,
            mid_block_type,
            cross_attention_dim: self.uniform("cross_attention_dim", n)?,
            attention_head_dim,
            norm_num_groups: self.uint("norm_num_groups")?,
            norm_eps,
            flip_sin_to_cos: self.boolean("flip_sin_to_cos")?,
            freq_shift: self.uint("freq_shift")?,
            transformer_layers_per_block: self.uniform("transformer_layers_per_block", n)?,
            use_linear_projection: self.boolean("use_linear_projection")?,
        };
        self.check_sizes(&backbone)?;
        Ok(backbone)
    }

    fn block_types(
        &self,
        key: &str,
        blocks: usize,
        supported: &[&str],
    ) -> Result<Vec<String>, ImportError> {
        let types = self.strings(key)?;
        for (i, t) in types.iter().enumerate() {
            if !supported.contains(&t.as_str()) {
                return Err(self.unsupported(
                    &format!("{key}[{i}]"),
                    &self.list(key)?[i],
                    &format!("unsupported block type; use {}", supported.join(" or ")),
                ));
            }
        }
        if types.len() != blocks {
            return Err(self.unsupported(
                key,
                self.get(key),
                &format!(
                    "has {} entries but block_out_channels has {blocks}",
                    types.len()
                ),
            ));
        }
        Ok(types)
    }
}
