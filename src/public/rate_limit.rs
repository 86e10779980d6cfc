//! Requests per minute per client (`ClientKey`: an IPv4 address or an IPv6 /64): a small burst,
//! then a steady rate (GCRA, from `governor`). Each check is O(1); clients whose allowance has
//! refilled are forgotten once the table has doubled since the last clean-up, so memory stays
//! bounded and the cost amortised.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter as Gcra};

use crate::http::ClientKey;

/// Below this many clients the table is never cleaned.
const PRUNE_FLOOR: usize = 10_000;

pub struct RateLimiter<C: Clock = DefaultClock> {
    limiter: Gcra<ClientKey, DashMapStateStore<ClientKey>, C, NoOpMiddleware<C::Instant>>,
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
    pub fn check(&self, client: ClientKey) -> Result<(), Duration> {
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

    /// Clients tracked now.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::net::{IpAddr, Ipv6Addr};

    fn key(address: &str) -> ClientKey {
        ClientKey::of(address.parse().unwrap())
    }

    #[test]
    fn a_burst_then_the_steady_rate_per_address() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(60, clock.clone());
        let (a, b) = (key("10.0.0.1"), key("10.0.0.2"));
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
            assert!(limiter.check(ClientKey::of(address)).is_ok());
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

    #[test]
    fn the_addresses_of_one_ipv6_64_share_one_allowance() {
        let clock = FakeRelativeClock::default();
        let limiter = RateLimiter::with_clock(60, clock);
        let network = u128::from("2001:db8:1:2::".parse::<Ipv6Addr>().unwrap());
        // 300 addresses of the /64, as a host that picks a new one for each request.
        let answered = (0..300u128)
            .map(|i| IpAddr::V6(Ipv6Addr::from(network | (i * 0x1_0001_0001 + 7))))
            .filter(|&address| limiter.check(ClientKey::of(address)).is_ok())
            .count();
        assert_eq!(answered, 6, "the burst of one client");
        assert!(
            limiter.check(key("2001:db8:1:3::7")).is_ok(),
            "the next /64 has its own allowance"
        );
        let mapped = key("::ffff:10.0.0.1");
        while limiter.check(mapped).is_ok() {}
        assert!(
            limiter.check(key("10.0.0.1")).is_err(),
            "an IPv4 client through an IPv6 socket is that IPv4 client"
        );
        assert!(
            limiter.check(key("::ffff:10.0.0.2")).is_ok(),
            "IPv4 clients through an IPv6 socket are told apart"
        );
    }
}
