//! An encode's time budget, shared out between its phases.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The time budget of an encode phase, and its interruption (Ctrl-C).
#[derive(Clone)]
pub struct Clock {
    pub start: Instant,
    /// When the current phase must end.
    pub until: Option<Instant>,
    pub interrupt: Option<Arc<AtomicBool>>,
}

impl Clock {
    /// Whether the phase must end: its time is up or Ctrl-C came.
    pub fn out(&self) -> bool {
        self.timed_out() || self.interrupted()
    }

    /// Whether the phase's time is up.
    pub fn timed_out(&self) -> bool {
        self.until.is_some_and(|u| Instant::now() >= u)
    }

    /// Whether Ctrl-C came.
    pub fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// The share of the time from `since` to the end of the phase that has
    /// passed (0 without a budget).
    pub fn spent(&self, since: Instant) -> f64 {
        self.until.map_or(0.0, |u| {
            let total = u.saturating_duration_since(since).as_secs_f64();
            since.elapsed().as_secs_f64() / total.max(1e-9)
        })
    }

    /// The clock of a phase that may take `share` of the time left.
    pub fn share(&self, share: f64) -> Clock {
        let now = Instant::now();
        Clock {
            until: self
                .until
                .map(|u| now + u.saturating_duration_since(now).mul_f64(share)),
            ..self.clone()
        }
    }
}

impl Clock {
    /// A budget of `max_time` (none: no limit) from now.
    pub fn new(max_time: Option<Duration>, interrupt: Option<Arc<AtomicBool>>) -> Clock {
        let start = Instant::now();
        Clock {
            start,
            until: max_time.map(|t| start + t),
            interrupt,
        }
    }

    /// The time left (none: no limit).
    pub fn left(&self) -> Option<Duration> {
        self.until
            .map(|u| u.saturating_duration_since(Instant::now()))
    }
}
