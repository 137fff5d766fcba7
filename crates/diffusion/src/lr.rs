//! Learning-rate schedules: linear warm-up to the peak, then constant or cosine decay to a
//! tenth of the peak at the last step (short runs end better annealed).

use serde::{Deserialize, Serialize};

/// What the learning rate does after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LrDecay {
    /// Stay at the peak (a run stopped early equals a shorter run).
    #[default]
    Constant,
    /// Cosine from the peak down to a tenth of it at the last of `steps`.
    Cosine,
}

impl std::str::FromStr for LrDecay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "constant" => Ok(Self::Constant),
            "cosine" => Ok(Self::Cosine),
            _ => Err(format!("`{s}` is not a decay; use constant or cosine")),
        }
    }
}

impl std::fmt::Display for LrDecay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Constant => "constant",
            Self::Cosine => "cosine",
        })
    }
}

/// Learning rate of step `step` (0-based) of `steps`: `peak · (step + 1) / warmup` during the
/// first `warmup` steps, then `decay`.
pub fn lr_at(peak: f64, step: usize, steps: usize, warmup: usize, decay: LrDecay) -> f64 {
    let warm = warmup.max(1);
    if step < warm {
        return peak * (step + 1) as f64 / warm as f64;
    }
    match decay {
        LrDecay::Constant => peak,
        LrDecay::Cosine => {
            let progress =
                ((step - warm) as f64 / (steps.saturating_sub(warm)).max(1) as f64).min(1.0);
            peak * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_is_linear_then_constant_or_cosine_to_a_tenth() {
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        for decay in [LrDecay::Constant, LrDecay::Cosine] {
            close(lr_at(1.0, 0, 100, 10, decay), 0.1);
            close(lr_at(1.0, 9, 100, 10, decay), 1.0);
        }
        close(lr_at(2.0, 10, 100, 10, LrDecay::Cosine), 2.0);
        // Half-way through the decay: the mean of the peak and the floor.
        close(lr_at(2.0, 55, 100, 10, LrDecay::Cosine), 1.1);
        close(lr_at(2.0, 100, 100, 10, LrDecay::Cosine), 0.2);
        close(lr_at(2.0, 99, 100, 10, LrDecay::Constant), 2.0);
        assert_eq!("cosine".parse::<LrDecay>(), Ok(LrDecay::Cosine));
        assert!("linear"
            .parse::<LrDecay>()
            .unwrap_err()
            .contains("constant or cosine"));
    }
}
