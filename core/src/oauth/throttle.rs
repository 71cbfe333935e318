//! Brute-force protection for client secrets: at most [`MAX_FAILURES_PER_WINDOW`] failed
//! authentications per client id per minute; past that, the id answers 429 with
//! `Retry-After` until the window ends, whatever secret is presented. A fixed window per
//! id, kept in memory, bounded in size (the oldest windows are dropped first).

use std::collections::HashMap;

/// Failed authentications a client id may have in one window.
pub const MAX_FAILURES_PER_WINDOW: u32 = 10;
/// The window, milliseconds.
pub const WINDOW_MS: i64 = 60_000;
/// Most client ids tracked at once.
pub const MAX_TRACKED: usize = 10_000;

/// Failure counts per client id.
#[derive(Debug, Default)]
pub struct AuthThrottle {
    windows: HashMap<String, (i64, u32)>,
}

impl AuthThrottle {
    /// `Err(retry_after_secs)` when `client_id` is locked out at `now_ms`.
    pub fn check(&self, client_id: &str, now_ms: i64) -> Result<(), u64> {
        match self.windows.get(client_id) {
            Some(&(start, failures))
                if failures >= MAX_FAILURES_PER_WINDOW && now_ms < start + WINDOW_MS =>
            {
                let left_ms = (start + WINDOW_MS - now_ms).max(0) as u64;
                Err(left_ms.div_ceil(1000).max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed authentication of `client_id` at `now_ms`.
    pub fn record_failure(&mut self, client_id: &str, now_ms: i64) {
        if self.windows.len() >= MAX_TRACKED && !self.windows.contains_key(client_id) {
            self.windows
                .retain(|_, (start, _)| now_ms < *start + WINDOW_MS);
            if self.windows.len() >= MAX_TRACKED {
                if let Some(oldest) = self
                    .windows
                    .iter()
                    .min_by_key(|(_, (s, _))| *s)
                    .map(|(k, _)| k.clone())
                {
                    self.windows.remove(&oldest);
                }
            }
        }
        let entry = self
            .windows
            .entry(client_id.to_owned())
            .or_insert((now_ms, 0));
        if now_ms >= entry.0 + WINDOW_MS || now_ms < entry.0 {
            *entry = (now_ms, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// How many client ids are tracked. (A success does not reset a count: the window
    /// ends soon anyway, and guesses interleaved with a valid secret gain nothing.)
    pub fn tracked(&self) -> usize {
        self.windows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_eleventh_failure_in_a_minute_locks_the_id_until_the_window_ends() {
        let mut t = AuthThrottle::default();
        for i in 0..MAX_FAILURES_PER_WINDOW {
            assert_eq!(t.check("tgc_a", 1_000 + i64::from(i)), Ok(()));
            t.record_failure("tgc_a", 1_000 + i64::from(i));
        }
        assert_eq!(t.check("tgc_a", 1_500), Err(60));
        assert_eq!(t.check("tgc_a", 60_500), Err(1));
        assert_eq!(
            t.check("tgc_b", 1_500),
            Ok(()),
            "other ids are not affected"
        );
        assert_eq!(t.check("tgc_a", 61_000), Ok(()));
        t.record_failure("tgc_a", 61_000);
        assert_eq!(
            t.check("tgc_a", 61_001),
            Ok(()),
            "a new window starts from zero"
        );
    }

    proptest! {
        #[test]
        fn memory_stays_bounded(ids in proptest::collection::vec(0u32..50_000, 0..2_000)) {
            let mut t = AuthThrottle::default();
            for (i, id) in ids.iter().enumerate() {
                t.record_failure(&format!("tgc_{id}"), i as i64);
            }
            prop_assert!(t.tracked() <= MAX_TRACKED);
        }
    }
}
