//! Token buckets for stage, method and usage-plan throttling. Each bucket belongs to one
//! method (or one API key) and has its own small lock, so requests to different methods
//! never contend; nothing here is global.

use std::sync::Mutex;
use std::time::Instant;

/// `rateLimit` tokens per second refill a bucket of `burstLimit` tokens; a request takes one.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    /// Tokens left and when they were counted.
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket, or `None` when either limit is negative (API Gateway's "not set").
    pub fn new(rate: f64, burst: f64) -> Option<Self> {
        if rate < 0.0 || burst < 0.0 || !rate.is_finite() || !burst.is_finite() {
            return None;
        }
        Some(Self {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        })
    }

    /// Takes a token if one is left now.
    pub fn try_take(&self) -> bool {
        self.try_take_at(Instant::now())
    }

    /// Takes a token if one is left at `now` (time only moves forward).
    pub fn try_take_at(&self, now: Instant) -> bool {
        // A poisoned lock only means another request panicked mid-update; the numbers are
        // still usable.
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = *state;
        let elapsed = now.saturating_duration_since(last).as_secs_f64();
        let available = (tokens + elapsed * self.rate).min(self.burst);
        if available >= 1.0 {
            *state = (available - 1.0, now.max(last));
            true
        } else {
            *state = (available, now.max(last));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate() {
        let bucket = TokenBucket::new(2.0, 3.0).unwrap();
        let t0 = Instant::now();
        assert!(bucket.try_take_at(t0));
        assert!(bucket.try_take_at(t0));
        assert!(bucket.try_take_at(t0));
        assert!(!bucket.try_take_at(t0));
        // Half a second at 2/s refills one token.
        assert!(bucket.try_take_at(t0 + Duration::from_millis(500)));
        assert!(!bucket.try_take_at(t0 + Duration::from_millis(600)));
        // Never more than the burst.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| bucket.try_take_at(later)));
        assert!(!bucket.try_take_at(later));
    }

    #[test]
    fn zero_rejects_and_negative_is_unlimited() {
        let bucket = TokenBucket::new(0.0, 0.0).unwrap();
        assert!(!bucket.try_take());
        assert!(TokenBucket::new(-1.0, 10.0).is_none());
    }
}
