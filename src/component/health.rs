//! Component health as Alloy reports it: a state, a message and when it was
//! last set. The controller combines the evaluation's health with the health
//! the component reports about itself; the HTTP server shows it.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Unknown,
    Healthy,
    Unhealthy,
    Exited,
}

impl HealthState {
    /// Alloy's priority for "least healthy": exited > unhealthy > unknown > healthy.
    fn badness(self) -> u8 {
        match self {
            HealthState::Healthy => 0,
            HealthState::Unknown => 1,
            HealthState::Unhealthy => 2,
            HealthState::Exited => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    pub state: HealthState,
    pub message: String,
    #[serde(rename = "updatedTime", with = "rfc3339")]
    pub updated: SystemTime,
}

impl HealthReport {
    pub fn new(state: HealthState, message: impl Into<String>) -> Self {
        HealthReport {
            state,
            message: message.into(),
            updated: SystemTime::now(),
        }
    }

    /// The least healthy of several reports; ties go to the newest.
    pub fn least_healthy<'a>(reports: impl IntoIterator<Item = &'a HealthReport>) -> HealthReport {
        reports
            .into_iter()
            .max_by(|a, b| {
                a.state
                    .badness()
                    .cmp(&b.state.badness())
                    .then(a.updated.cmp(&b.updated))
            })
            .cloned()
            .unwrap_or_else(|| HealthReport::new(HealthState::Unknown, ""))
    }
}

/// A shared, settable health report: the component sets it, the server reads it.
#[derive(Debug, Clone)]
pub struct Health(Arc<Mutex<HealthReport>>);

impl Default for Health {
    fn default() -> Self {
        Health(Arc::new(Mutex::new(HealthReport::new(
            HealthState::Unknown,
            "",
        ))))
    }
}

impl Health {
    pub fn set(&self, state: HealthState, message: impl Into<String>) {
        let report = HealthReport::new(state, message);
        match self.0.lock() {
            Ok(mut g) => *g = report,
            Err(p) => *p.into_inner() = report,
        }
    }

    pub fn healthy(&self, message: impl Into<String>) {
        self.set(HealthState::Healthy, message);
    }

    pub fn unhealthy(&self, message: impl Into<String>) {
        self.set(HealthState::Unhealthy, message);
    }

    pub fn get(&self) -> HealthReport {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

mod rfc3339 {
    use std::time::{SystemTime, UNIX_EPOCH};

    use serde::Serializer;

    /// Seconds since the epoch with millisecond precision, as RFC 3339 UTC.
    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs() as i64;
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, day) = civil_from_days(days);
        s.serialize_str(&format!(
            "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            d.subsec_millis()
        ))
    }

    /// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
    /// calendar (Howard Hinnant's algorithm).
    fn civil_from_days(z: i64) -> (i64, u32, u32) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + i64::from(m <= 2);
        (y, m, d)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn civil() {
            assert_eq!(super::civil_from_days(0), (1970, 1, 1));
            assert_eq!(super::civil_from_days(20_415), (2025, 11, 23));
        }
    }
}
