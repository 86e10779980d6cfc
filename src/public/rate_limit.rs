//! Requests per minute per client address: a small burst, then a steady rate (GCRA, from
//! `governor`). Each check is O(1); addresses whose allowance has refilled are forgotten once the
//! table has doubled since the last clean-up, so memory stays bounded and the cost amortised.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};

/// Below this many addresses the table is never cleaned.
const PRUNE_FLOOR: usize = 10_000;

pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: Gcra<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    prune_above: AtomicUsize,
}

impl RateLimiter {
    /// `per_minute` requests a minute, with a burst of a tenth of that (at least one).
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter::with_clock(per_minute, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    pub fn with_clock(per_minute: u32, clock: C) -> RateLimiter<C> {
        let rate = NonZeroU32::new(per_minute.max(1)).expect("at least one");
        let burst = NonZeroU32::new((per_minute / 10).max(1)).expect("at least one");
        let quota = Quota::per_minute(rate).allow_burst(burst);
        RateLimiter {
            limiter: Gcra::dashmap_with_clock(quota, clock.clone()),
            clock,
            prune_above: AtomicUsize::new(PRUNE_FLOOR),
        }
    }

    /// Takes one request from `client`'s allowance, or says how long to wait.
    pub fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let answer = self
            .limiter
            .check_key(&client)
            .map_err(|refused| refused.wait_time_from(self.clock.now()));
        let tracked = self.limiter.len();
        if tracked > self.prune_above.load(Ordering::Relaxed) {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
            let kept = self.limiter.len();
            self.prune_above
                .store((kept * 2).max(PRUNE_FLOOR), Ordering::Relaxed);
        }
        answer
    }

    /// Addresses tracked now.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn a_burst_then_the_steady_rate_per_address() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(60, clock.clone());
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..6 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        assert!(
            limiter.check(b).is_ok(),
            "another address has its own allowance"
        );
        clock.advance(Duration::from_secs(1));
        assert!(limiter.check(a).is_ok());
        assert!(limiter.check(a).is_err());
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(60, clock.clone());
        for i in 0..100_000u32 {
            let address = IpAddr::from(i.to_be_bytes());
            assert!(limiter.check(address).is_ok());
            // Each address's allowance refills long before the next thousand arrive.
            if i % 1_000 == 0 {
                clock.advance(Duration::from_secs(60));
            }
        }
        assert!(
            limiter.tracked() <= 2 * PRUNE_FLOOR + 1,
            "{} addresses kept",
            limiter.tracked()
        );
    }
}
