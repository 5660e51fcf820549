//! Backlog progress: while an endpoint is behind (after an outage or a
//! restart), the flusher reports how many samples are left, the drain rate
//! and when the backlog should be gone, so an operator watching the log
//! knows replay is moving and how long it will take.
//!
//! Place in the data flow: read-only; fed by the flusher after each round
//! with the endpoint's backlog gauge and delivered-samples counter.

use std::time::{Duration, Instant};

/// Report at most this often.
const EVERY: Duration = Duration::from_secs(10);
/// Below this many samples an endpoint is keeping up, not replaying.
const BEHIND: u64 = 100_000;

/// The state of the progress log of one endpoint.
#[derive(Debug)]
pub(super) struct Progress {
    last: Option<(Instant, u64)>,
    replaying: bool,
}

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Report {
    pub left: u64,
    pub rate_per_sec: f64,
    pub eta: Option<Duration>,
}

impl Progress {
    pub fn new() -> Progress {
        Progress {
            last: None,
            replaying: false,
        }
    }

    /// Called with the backlog and the delivered total at `now`; returns a
    /// report when one is due. Logs the start and the end of a replay too.
    pub fn observe(
        &mut self,
        remote_name: &str,
        backlog: u64,
        sent: u64,
        now: Instant,
    ) -> Option<Report> {
        if backlog < BEHIND {
            if self.replaying {
                tracing::info!(remote_name, backlog_samples = backlog, "backlog replayed");
            }
            self.replaying = false;
            self.last = None;
            return None;
        }
        let Some((at, sent_then)) = self.last else {
            self.last = Some((now, sent));
            self.replaying = true;
            tracing::info!(remote_name, backlog_samples = backlog, "replaying backlog");
            return None;
        };
        let elapsed = now.duration_since(at);
        if elapsed < EVERY {
            return None;
        }
        self.last = Some((now, sent));
        let rate_per_sec = sent.saturating_sub(sent_then) as f64 / elapsed.as_secs_f64();
        let eta =
            (rate_per_sec > 0.0).then(|| Duration::from_secs_f64(backlog as f64 / rate_per_sec));
        let report = Report {
            left: backlog,
            rate_per_sec,
            eta,
        };
        tracing::info!(
            remote_name,
            samples_left = backlog,
            samples_per_sec = rate_per_sec.round() as u64,
            eta_secs = eta.map(|d| d.as_secs()),
            "replaying backlog"
        );
        Some(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_rate_and_eta_while_behind() {
        let mut p = Progress::new();
        let t0 = Instant::now();
        assert_eq!(p.observe("e", 1_000_000, 0, t0), None);
        assert_eq!(
            p.observe("e", 900_000, 100_000, t0 + Duration::from_secs(5)),
            None
        );
        let r = p
            .observe("e", 800_000, 200_000, t0 + Duration::from_secs(10))
            .expect("a report after 10 s");
        assert_eq!(r.left, 800_000);
        assert_eq!(r.rate_per_sec, 20_000.0);
        assert_eq!(r.eta, Some(Duration::from_secs(40)));
        // Caught up: no more reports, and a new replay starts afresh.
        assert_eq!(
            p.observe("e", 10, 1_000_000, t0 + Duration::from_secs(30)),
            None
        );
        assert_eq!(
            p.observe("e", 500_000, 1_000_000, t0 + Duration::from_secs(45)),
            None
        );
    }
}
