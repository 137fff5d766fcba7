//! A rank blocked in a collective for ranks that never arrive (crashed, hung, never started)
//! would wait forever; the watchdog ends it with an error naming what it waited for.

use crate::ParallelError;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds a rank waits in one collective before giving up (`VIDNAS_DIST_TIMEOUT_S`).
pub const DEFAULT_TIMEOUT_S: u64 = 600;
/// The longest timeout taken (about 11 days): beyond it the figure is a typo.
pub const MAX_TIMEOUT_S: f64 = 1e6;

type Waiting = Arc<Mutex<Option<(String, Instant)>>>;

pub struct Watchdog {
    waiting: Waiting,
}

/// Marks one collective as in progress until dropped.
pub struct Guard<'a>(&'a Watchdog);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        *self.0.waiting.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The timeout from `VIDNAS_DIST_TIMEOUT_S`, or the default.
pub fn timeout_from_env() -> Result<Duration, ParallelError> {
    match std::env::var("VIDNAS_DIST_TIMEOUT_S") {
        Err(_) => Ok(Duration::from_secs(DEFAULT_TIMEOUT_S)),
        Ok(v) => match v.trim().parse::<f64>() {
            // Bounded so the Duration cannot overflow (1e300 s would panic).
            Ok(s) if s.is_finite() && s > 0.0 && s <= MAX_TIMEOUT_S => {
                Ok(Duration::from_secs_f64(s))
            }
            _ => Err(ParallelError::Setup(format!(
                "VIDNAS_DIST_TIMEOUT_S is `{v}`; set it to a number of seconds above 0 and at most {MAX_TIMEOUT_S} (default {DEFAULT_TIMEOUT_S})"
            ))),
        },
    }
}

impl Watchdog {
    /// Starts the watching thread: a collective that lasts longer than `timeout` ends the
    /// process with exit status 3 and a message on stderr.
    pub fn start(rank: usize, world: usize, timeout: Duration) -> Self {
        let waiting: Waiting = Arc::new(Mutex::new(None));
        let watched = Arc::clone(&waiting);
        let tick = (timeout / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
        std::thread::spawn(move || loop {
            std::thread::sleep(tick);
            let late = watched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .filter(|(_, since)| since.elapsed() > timeout)
                .map(|(what, _)| what.clone());
            if let Some(what) = late {
                eprintln!(
                    "error: rank {rank} of {world} waited {:.0} s for {what}, and the other ranks did not arrive \
                     (one crashed, hung, or was never started). Check the other ranks' output; if a step is \
                     legitimately slower, raise VIDNAS_DIST_TIMEOUT_S (now {:.0} s).",
                    timeout.as_secs_f64(),
                    timeout.as_secs_f64()
                );
                std::process::exit(3);
            }
        });
        Self { waiting }
    }

    pub fn guard(&self, what: &str) -> Guard<'_> {
        *self.waiting.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((what.to_string(), Instant::now()));
        Guard(self)
    }
}
