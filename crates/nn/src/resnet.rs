//! ResNet block and resamplers, as diffusers' `ResnetBlock2D`, `Downsample2D`, `Upsample2D`.

use tch::{nn, nn::Module, Tensor};

#[derive(Debug)]
pub struct ResnetBlock2D {
    norm1: nn::GroupNorm,
    conv1: nn::Conv2D,
    time_emb_proj: nn::Linear,
    norm2: nn::GroupNorm,
    conv2: nn::Conv2D,
    conv_shortcut: Option<nn::Conv2D>,
}

impl ResnetBlock2D {
    pub fn new(
        vs: nn::Path,
        in_channels: i64,
        out_channels: i64,
        temb_channels: i64,
        groups: i64,
        eps: f64,
    ) -> Self {
        let gn = nn::GroupNormConfig {
            eps,
            ..Default::default()
        };
        let conv3 = nn::ConvConfig {
            padding: 1,
            ..Default::default()
        };
        let conv_shortcut = (in_channels != out_channels).then(|| {
            nn::conv2d(
                &vs / "conv_shortcut",
                in_channels,
                out_channels,
                1,
                Default::default(),
            )
        });
        Self {
            norm1: nn::group_norm(&vs / "norm1", groups, in_channels, gn),
            conv1: nn::conv2d(&vs / "conv1", in_channels, out_channels, 3, conv3),
            time_emb_proj: nn::linear(
                &vs / "time_emb_proj",
                temb_channels,
                out_channels,
                Default::default(),
            ),
            norm2: nn::group_norm(&vs / "norm2", groups, out_channels, gn),
            conv2: nn::conv2d(&vs / "conv2", out_channels, out_channels, 3, conv3),
            conv_shortcut,
        }
    }

    /// `xs`: [N, C, H, W]; `temb`: [N, temb_channels].
    pub fn forward(&self, xs: &Tensor, temb: &Tensor) -> Tensor {
        let h = xs.apply(&self.norm1).silu().apply(&self.conv1);
        let t = temb
            .silu()
            .apply(&self.time_emb_proj)
            .unsqueeze(-1)
            .unsqueeze(-1);
        let h = (h + t).apply(&self.norm2).silu().apply(&self.conv2);
        let shortcut = match &self.conv_shortcut {
            Some(conv) => xs.apply(conv),
            None => xs.shallow_clone(),
        };
        shortcut + h
    }
}

/// `downsamplers.0`: a stride-2 3×3 convolution.
#[derive(Debug)]
pub struct Downsample2D {
    conv: nn::Conv2D,
}

impl Downsample2D {
    pub fn new(vs: nn::Path, channels: i64) -> Self {
        let cfg = nn::ConvConfig {
            stride: 2,
            padding: 1,
            ..Default::default()
        };
        Self {
            conv: nn::conv2d(&vs / "conv", channels, channels, 3, cfg),
        }
    }
}

impl Module for Downsample2D {
    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.apply(&self.conv)
    }
}

/// `upsamplers.0`: nearest-neighbour 2× then a 3×3 convolution.
#[derive(Debug)]
pub struct Upsample2D {
    conv: nn::Conv2D,
}

impl Upsample2D {
    pub fn new(vs: nn::Path, channels: i64) -> Self {
        let cfg = nn::ConvConfig {
            padding: 1,
            ..Default::default()
        };
        Self {
            conv: nn::conv2d(&vs / "conv", channels, channels, 3, cfg),
        }
    }
}

impl Module for Upsample2D {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let (h, w) = (xs.size()[2], xs.size()[3]);
        xs.upsample_nearest2d([2 * h, 2 * w], None, None)
            .apply(&self.conv)
    }
}
