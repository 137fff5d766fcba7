//! End-to-end timing on this machine: whole calls rather than single ops. The median time of a
//! fallible call (`vidnas latency e2e`: the text encoder, the whole sampler) and an interleaved
//! comparison of two implementations of one training step (`vidnas bench train-step`: tch
//! against PyTorch), with the figures both commands print.

use std::time::Instant;
use vidnas_io::median;

/// The median as the mean of the two middle values for an even count (the middle value for an
/// odd one): the statistic of the training-step comparison, with which the figures in
/// reports/train-step were computed. [`vidnas_io::median`] (used by [`median_time_ms`], as by
/// the latency tables) takes the upper middle value instead; both agree for odd counts.
pub fn mean_of_middles(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Calls `f` `warmup` times untimed, then `runs` times timed; the median time in milliseconds.
pub fn median_time_ms<E>(
    warmup: usize,
    runs: usize,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<f64, E> {
    for _ in 0..warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(&times))
}

/// Consecutive training steps of one implementation: the time (ms) and loss of each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepTimes {
    pub ms: Vec<f64>,
    pub losses: Vec<f64>,
}

/// Runs `n` steps, timing each; `step` returns the step's loss.
pub fn time_steps<E>(n: usize, mut step: impl FnMut() -> Result<f64, E>) -> Result<StepTimes, E> {
    let mut out = StepTimes::default();
    for _ in 0..n {
        let start = Instant::now();
        let loss = step()?;
        out.ms.push(start.elapsed().as_secs_f64() * 1e3);
        out.losses.push(loss);
    }
    Ok(out)
}

/// One timed step of an [`Interleaved`] comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    /// The implementation's name.
    pub name: &'static str,
    pub round: usize,
    /// The step's index counted from the first warm-up step (both implementations run step k
    /// on the same inputs).
    pub step: usize,
    pub ms: f64,
    pub loss: f64,
}

/// Two implementations of the same step timed in interleaved rounds; its medians are
/// [`mean_of_middles`].
#[derive(Debug, Clone, PartialEq)]
pub struct Interleaved {
    pub names: [&'static str; 2],
    /// Every timed step, in the order run (round by round; the side that went first first).
    pub records: Vec<StepRecord>,
    /// Each side's step times in step order.
    pub all: [Vec<f64>; 2],
    /// Each side's median per round.
    pub round_medians: [Vec<f64>; 2],
}

/// An implementation under comparison: runs `n` steps and reports their times and losses.
pub type Stepper<'a, E> = &'a mut dyn FnMut(usize) -> Result<StepTimes, E>;

/// Runs `warmup` untimed steps of each side, then `rounds` rounds of `steps` steps per side,
/// alternating which side goes first (the first side on even rounds), so that load on a shared
/// host hits both alike; `on_round` gets each round's two medians as it ends.
pub fn interleave<E>(
    sides: [(&'static str, Stepper<'_, E>); 2],
    warmup: usize,
    rounds: usize,
    steps: usize,
    mut on_round: impl FnMut(usize, [f64; 2]),
) -> Result<Interleaved, E> {
    let [(name_a, a), (name_b, b)] = sides;
    a(warmup)?;
    b(warmup)?;
    let mut out = Interleaved {
        names: [name_a, name_b],
        records: Vec::new(),
        all: [Vec::new(), Vec::new()],
        round_medians: [Vec::new(), Vec::new()],
    };
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        let mut results = Vec::with_capacity(2);
        for side in order {
            let times = if side == 0 { a(steps)? } else { b(steps)? };
            results.push((side, times));
        }
        for (side, times) in results {
            for (i, (&ms, &loss)) in times.ms.iter().zip(&times.losses).enumerate() {
                out.records.push(StepRecord {
                    name: out.names[side],
                    round,
                    step: warmup + round * steps + i,
                    ms,
                    loss,
                });
            }
            out.round_medians[side].push(mean_of_middles(&times.ms));
            out.all[side].extend(times.ms);
        }
        on_round(
            round,
            [out.round_medians[0][round], out.round_medians[1][round]],
        );
    }
    Ok(out)
}

impl Interleaved {
    /// Median step time of each side over all rounds.
    pub fn medians(&self) -> [f64; 2] {
        [mean_of_middles(&self.all[0]), mean_of_middles(&self.all[1])]
    }

    /// Fastest step of each side.
    pub fn minima(&self) -> [f64; 2] {
        self.all
            .clone()
            .map(|v| v.into_iter().fold(f64::INFINITY, f64::min))
    }

    /// Median over k of (side 0's step k / side 1's step k): both ran step k on the same inputs.
    pub fn median_paired_ratio(&self) -> f64 {
        let paired: Vec<f64> = self.all[0]
            .iter()
            .zip(&self.all[1])
            .map(|(x, y)| x / y)
            .collect();
        mean_of_middles(&paired)
    }

    /// Per round, side 0's median over side 1's.
    pub fn round_ratios(&self) -> Vec<f64> {
        self.round_medians[0]
            .iter()
            .zip(&self.round_medians[1])
            .map(|(x, y)| x / y)
            .collect()
    }
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`), or `unknown`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stepper whose step k of a call takes `ms[k]` and has loss `k`.
    fn fake(ms: Vec<f64>) -> impl FnMut(usize) -> Result<StepTimes, ()> {
        let mut next = 0;
        move |n| {
            let out = StepTimes {
                ms: ms[next..next + n].to_vec(),
                losses: (next..next + n).map(|k| k as f64).collect(),
            };
            next += n;
            Ok(out)
        }
    }

    #[test]
    fn rounds_alternate_and_record_every_step_in_the_order_run() {
        let mut a = fake(vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let mut b = fake(vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        let mut seen = Vec::new();
        let r = interleave([("a", &mut a), ("b", &mut b)], 1, 2, 2, |round, m| {
            seen.push((round, m))
        })
        .unwrap();
        let order: Vec<(&str, usize, usize)> = r
            .records
            .iter()
            .map(|s| (s.name, s.round, s.step))
            .collect();
        assert_eq!(
            order,
            [
                ("a", 0, 1),
                ("a", 0, 2),
                ("b", 0, 1),
                ("b", 0, 2),
                ("b", 1, 3),
                ("b", 1, 4),
                ("a", 1, 3),
                ("a", 1, 4)
            ]
        );
        assert_eq!(r.all, [vec![1.0, 2.0, 3.0, 4.0], vec![2.0, 4.0, 6.0, 8.0]]);
        assert_eq!(seen, [(0, [1.5, 3.0]), (1, [3.5, 7.0])]);
        assert_eq!(r.medians(), [2.5, 5.0]);
        assert_eq!(r.minima(), [1.0, 2.0]);
        assert_eq!(r.median_paired_ratio(), 0.5);
        assert_eq!(r.round_ratios(), [0.5, 0.5]);
    }

    #[test]
    fn mean_of_middles_averages_the_two_middle_values_of_an_even_count() {
        assert_eq!(mean_of_middles(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(mean_of_middles(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(
            median(&[4.0, 1.0, 3.0, 2.0]),
            3.0,
            "vidnas_io's is the upper one"
        );
    }

    #[test]
    fn median_time_counts_only_timed_runs_and_passes_errors_on() {
        let mut calls = 0;
        let ms = median_time_ms(2, 3, || {
            calls += 1;
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(calls, 5);
        assert!(ms >= 0.0);
        assert_eq!(median_time_ms(0, 3, || Err::<(), _>("no")), Err("no"));
    }
}
