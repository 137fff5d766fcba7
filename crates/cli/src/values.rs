//! The range of every numeric flag, checked by clap while it parses: before any file is read or
//! written, with a message that names the flag (clap prefixes it), the value and the valid range.
//! `main` lets negative numbers reach these checks (`--steps -1` is refused as out of range,
//! not as an unknown argument).

/// Optimisation steps of any training command (a million is days on a workstation).
pub const MAX_STEPS: usize = 1_000_000;
/// Counts of clips, prompts, architectures, rounds and the like.
pub const MAX_COUNT: usize = 1_000_000;
/// Clips per step or per forward.
pub const MAX_BATCH: usize = 4096;
/// Sampling (DDIM) steps: no schedule has more timesteps.
pub const MAX_SAMPLE_STEPS: usize = 10_000;
/// Pixel upscaling of written clips.
pub const MAX_SCALE: u32 = 32;
/// Classifier-free guidance scales.
pub const MAX_GUIDANCE: f64 = 100.0;
/// Learning rates.
pub const MAX_LR: f64 = 10.0;
/// Latency budgets and fixed costs, in ms (about 17 minutes per forward).
pub const MAX_MS: f64 = 1e6;
/// Memory budgets, in MB (10 TB).
pub const MAX_MB: f64 = 1e7;

/// A whole number from `lo` to `hi`. Parsed wide, so `-1` and `99999999999999999999` get the
/// range in the message rather than a parser's "invalid digit".
pub fn whole(
    lo: usize,
    hi: usize,
) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text| match text.trim().parse::<i128>() {
        Ok(v) if (lo as i128..=hi as i128).contains(&v) => Ok(v as usize),
        _ => Err(whole_range(lo, hi)),
    }
}

/// [`whole`] for `u32` flags.
pub fn whole_u32(lo: u32, hi: u32) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync {
    let parse = whole(lo as usize, hi as usize);
    move |text| parse(text).map(|v| v as u32)
}

fn whole_range(lo: usize, hi: usize) -> String {
    match lo {
        0 => format!("expected a whole number of 0 or more (at most {hi})"),
        _ => format!("expected a whole number of {lo} or more (at most {hi})"),
    }
}

/// Training or sampling steps: 1 to `hi`.
pub fn steps(hi: usize) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync {
    whole(1, hi)
}

/// `--threads`: 1 to twice the cores this process may use. More only slows libtorch (idle
/// OpenMP threads spin), and a thousands-wide pool ends in an allocation failure inside libgomp.
pub fn threads() -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
    move |text| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let max = 2 * cores;
        match text.trim().parse::<i128>() {
            Ok(v) if (1..=max as i128).contains(&v) => Ok(v as usize),
            _ => Err(format!(
                "expected a whole number of 1 or more (at most {max}: twice the {cores} cores \
                 this process may use)"
            )),
        }
    }
}

/// A finite number in `[lo, hi]`.
pub fn number(lo: f64, hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text| match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
        _ if lo == 0.0 => Err(format!(
            "expected a finite number of 0 or more (at most {hi})"
        )),
        _ => Err(format!("expected a finite number from {lo} to {hi}")),
    }
}

/// A finite number above 0 and at most `hi` (rates, budgets, scales).
pub fn positive(hi: f64) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    move |text| positive_at_most(text, hi)
}

/// The check of [`positive`], for parsers that read several numbers out of one value.
pub fn positive_at_most(text: &str, hi: f64) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= hi => Ok(v),
        _ => Err(format!(
            "expected a finite number above 0 (at most {hi}), e.g. 60; leave the flag out for \
             no limit"
        )),
    }
}

/// A share from 0 to 1.
pub fn share() -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync {
    number(0.0, 1.0)
}

/// Sampling steps against the model's noise schedule, once it is loaded: DDIM visits at most
/// one step per training timestep, so more would silently become fewer.
pub fn check_sampling_steps(
    flag: &str,
    steps: usize,
    train_timesteps: usize,
) -> anyhow::Result<()> {
    // A schedule of 0 timesteps is the config's fault, which loading it reports.
    if train_timesteps > 0 && steps > train_timesteps {
        anyhow::bail!(
            "{flag} {steps}: the model's noise schedule has {train_timesteps} timesteps, and DDIM \
             takes at most one step per timestep; use {flag} from 1 to {train_timesteps}"
        );
    }
    Ok(())
}

/// `i/n` with `0 <= i < n` (see [`vidnas_search::Shard`]'s `FromStr`): `--shard` of search and
/// score.
pub fn parse_shard(text: &str) -> Result<vidnas_search::Shard, String> {
    text.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_at_their_ends_and_refuse_beyond() {
        let w = whole(1, 10);
        assert_eq!(w("1"), Ok(1));
        assert_eq!(w(" 10 "), Ok(10));
        for bad in ["0", "11", "-1", "nan", "1e3", "99999999999999999999999", ""] {
            let e = w(bad).unwrap_err();
            assert!(e.contains("1 or more (at most 10)"), "{bad}: {e}");
        }
        let n = number(0.0, 1.0);
        assert_eq!(n("0"), Ok(0.0));
        assert_eq!(n("1"), Ok(1.0));
        for bad in ["-0.1", "1.5", "nan", "inf", "-inf", "x"] {
            assert!(n(bad).is_err(), "{bad}");
        }
        let p = positive(5.0);
        assert_eq!(p("5"), Ok(5.0));
        for bad in ["0", "-1", "5.1", "NaN", "1e400"] {
            assert!(p(bad).unwrap_err().contains("above 0"), "{bad}");
        }
        let t = threads();
        assert_eq!(t("1"), Ok(1));
        for bad in ["0", "-1", "1000000", "99999"] {
            assert!(t(bad).unwrap_err().contains("cores"), "{bad}");
        }
    }
}
