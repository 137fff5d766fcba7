//! Checks on the sizes a config gives, in the config's own key names, so a config diffusers
//! itself could not build (zero channels, heads or groups that do not divide the channels) is
//! refused here rather than as a space field the user never wrote.

use super::Config;
use crate::error::ImportError;
use vidnas_space::Backbone;

impl Config<'_> {
    /// Refuses sizes of `b` (read from this config) that no network can have.
    pub(super) fn check_sizes(&self, b: &Backbone) -> Result<(), ImportError> {
        let n = b.block_out_channels.len();
        let positive = [
            ("sample_size", b.sample_size),
            ("in_channels", b.in_channels),
            ("out_channels", b.out_channels),
            ("layers_per_block", b.layers_per_block),
            ("cross_attention_dim", b.cross_attention_dim),
            ("attention_head_dim", b.attention_head_dim),
            ("norm_num_groups", b.norm_num_groups),
            (
                "transformer_layers_per_block",
                b.transformer_layers_per_block,
            ),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(self.unsupported(key, self.get(key), "must be a positive integer"));
            }
        }
        if let Some(i) = b.block_out_channels.iter().position(|&c| c == 0) {
            let key = format!("block_out_channels[{i}]");
            let value = &self.get("block_out_channels")[i];
            return Err(self.unsupported(
                &key,
                value,
                "every block needs a positive channel count",
            ));
        }
        if !b.norm_eps.is_finite() || b.norm_eps <= 0.0 {
            return Err(self.unsupported("norm_eps", self.get("norm_eps"), "must be positive"));
        }
        let groups = b.norm_num_groups;
        if let Some((i, c)) = b
            .block_out_channels
            .iter()
            .enumerate()
            .find(|(_, &c)| !c.is_multiple_of(groups))
        {
            return Err(self.unsupported(
                "norm_num_groups",
                self.get("norm_num_groups"),
                &format!(
                    "{groups} groups do not divide block_out_channels[{i}] = {c}; GroupNorm needs a \
                     group count that divides every block's channels"
                ),
            ));
        }
        // diffusers reads attention_head_dim (or num_attention_heads) as the number of heads
        // of every transformer; each splits its block's channels evenly across them.
        let heads = b.attention_head_dim;
        let key = if self.get("num_attention_heads").is_null() {
            "attention_head_dim"
        } else {
            "num_attention_heads"
        };
        let with_attention = (0..n).filter(|&i| {
            b.has_cross_attention_down(i)
                || b.has_cross_attention_up(n - 1 - i)
                || (i == n - 1 && b.has_mid_attention())
        });
        for i in with_attention {
            let c = b.block_out_channels[i];
            if !c.is_multiple_of(heads) {
                return Err(self.unsupported(
                    key,
                    self.get(key),
                    &format!(
                        "{heads} attention heads do not divide block_out_channels[{i}] = {c}, which \
                         has attention; use a head count that divides the channels of every \
                         block with attention"
                    ),
                ));
            }
        }
        let factor = 1usize << (n - 1).min(63);
        if !b.sample_size.is_multiple_of(factor) {
            return Err(self.unsupported(
                "sample_size",
                self.get("sample_size"),
                &format!(
                    "is not divisible by {factor}, the down-sampling of {n} blocks; use a multiple \
                     of {factor}"
                ),
            ));
        }
        Ok(())
    }
}
