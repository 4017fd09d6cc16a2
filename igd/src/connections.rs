//! Bounds on clients, for both listeners: how many connections may be open (in total per
//! listener, and per remote address on TCP), and how long a connection may take to send a
//! request head, sit idle between requests, or stall on a response it does not read. The request
//! body deadline is [`crate::http::RequestBody`]'s.
//!
//! Threat: a client that opens many connections, or holds them with half-sent headers, a
//! trickled body or an unread response, would otherwise pin memory and file descriptors forever
//! while costing itself nothing.
//!
//! hyper's own header timer is not used: it also runs between keep-alive requests, which would cap
//! the idle time-out at the header time-out. The [`Activity`] watchdog times all three phases.

use crate::config::Settings;
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The time-outs every connection is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From accept (TLS handshake included), or from the first byte of a later request, until the
    /// request head is complete.
    pub header: Duration,
    /// From the request head until the whole body is read.
    pub body: Duration,
    /// Between requests on a keep-alive connection; also the longest a client may leave a
    /// response unread.
    pub idle: Duration,
}

impl Timeouts {
    pub fn from_settings(s: &Settings) -> Timeouts {
        Timeouts {
            header: Duration::from_millis(s.header_timeout_ms),
            body: Duration::from_millis(s.body_timeout_ms),
            idle: Duration::from_millis(s.idle_timeout_ms),
        }
    }
}

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `INTENTGATE_MAX_CONNECTIONS` connections are open on this listener.
    Total,
    /// `INTENTGATE_MAX_CONNECTIONS_PER_ADDRESS` connections are open from this address.
    PerAddress,
}

/// Counts open connections of one listener, in total and per remote address.
#[derive(Debug)]
pub struct ConnLimiter {
    max_total: usize,
    max_per_address: usize,
    /// Trusted proxies carry many clients' traffic: only the total cap applies to them.
    exempt: Vec<IpAddr>,
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    last_warning: Mutex<Option<std::time::Instant>>,
}

impl ConnLimiter {
    pub fn new(max_total: usize, max_per_address: usize, exempt: Vec<IpAddr>) -> Arc<Self> {
        Arc::new(ConnLimiter {
            max_total,
            max_per_address,
            exempt,
            total: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
            last_warning: Mutex::new(None),
        })
    }

    /// Admit a new connection from `peer` (`None`: the Unix socket), or say why not.
    pub fn admit(self: &Arc<Self>, peer: Option<IpAddr>) -> Result<ConnPermit, Refusal> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            self.warn(Refusal::Total, peer);
            return Err(Refusal::Total);
        }
        let key = peer.filter(|ip| !self.exempt.contains(ip)).map(address_key);
        if let Some(key) = key {
            let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
            let n = map.entry(key).or_insert(0);
            if *n >= self.max_per_address {
                drop(map);
                self.total.fetch_sub(1, Ordering::AcqRel);
                self.warn(Refusal::PerAddress, peer);
                return Err(Refusal::PerAddress);
            }
            *n += 1;
        }
        Ok(ConnPermit {
            limiter: self.clone(),
            key,
        })
    }

    /// Open connections right now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// At most one warning per ten seconds: a flood must not become a log flood.
    fn warn(&self, why: Refusal, peer: Option<IpAddr>) {
        let mut last = self.last_warning.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(10)) {
            return;
        }
        *last = Some(std::time::Instant::now());
        match why {
            Refusal::Total => tracing::warn!(
                limit = self.max_total,
                "connection refused: the listener is at INTENTGATE_MAX_CONNECTIONS (further refusals are not logged for 10 s)"
            ),
            Refusal::PerAddress => tracing::warn!(
                limit = self.max_per_address,
                remote = ?peer,
                "connection refused: the address is at INTENTGATE_MAX_CONNECTIONS_PER_ADDRESS (further refusals are not logged for 10 s)"
            ),
        }
    }
}

/// IPv4 addresses count one by one; IPv6 ones by /64, the smallest block a site is handed.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut seg = v6.segments();
                seg[4..].fill(0);
                IpAddr::V6(seg.into())
            }
        },
    }
}

/// One admitted connection; dropping it frees the slot.
#[derive(Debug)]
pub struct ConnPermit {
    limiter: Arc<ConnLimiter>,
    key: Option<IpAddr>,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut map = self
                .limiter
                .per_address
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(n) = map.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
        self.limiter.total.fetch_sub(1, Ordering::AcqRel);
    }
}

const NONE: u64 = u64::MAX;

/// Why the watchdog ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The request head (or the TLS handshake) did not arrive in time: closed at once.
    Header,
    /// No request for the idle time-out: closed gracefully.
    Idle,
    /// The client did not read the response for the idle time-out: closed at once.
    WriteStalled,
}

/// What one connection is doing, as seen from its socket and its requests. Every field is
/// touched from the connection's own task only; atomics make it shareable with the service.
#[derive(Debug)]
pub struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    /// A request head was complete at least once.
    served: AtomicBool,
    /// Milliseconds since `epoch` when the last request finished.
    idle_since: AtomicU64,
    /// Milliseconds since `epoch` of the first byte read while no request was in flight.
    head_started: AtomicU64,
    /// Milliseconds since `epoch` since when a write has been waiting on the client.
    write_stalled: AtomicU64,
    wake: Notify,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Activity {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since: AtomicU64::new(0),
            head_started: AtomicU64::new(NONE),
            write_stalled: AtomicU64::new(NONE),
            wake: Notify::new(),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    /// A request head is complete: the header and idle clocks stop until it is answered.
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        self.served.store(true, Ordering::Release);
        self.head_started.store(NONE, Ordering::Release);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    fn on_read(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.head_started.load(Ordering::Acquire) == NONE
        {
            self.head_started.store(self.now_ms(), Ordering::Release);
            // The header deadline may be earlier than the idle one the watchdog sleeps on.
            self.wake.notify_one();
        }
    }

    fn on_write(&self, progressed: bool) {
        if progressed {
            self.write_stalled.store(NONE, Ordering::Release);
        } else if self.write_stalled.load(Ordering::Acquire) == NONE {
            self.write_stalled.store(self.now_ms(), Ordering::Release);
            self.wake.notify_one();
        }
    }

    /// The next deadline and what it is for; `None` while a request is being handled and the
    /// client reads what it is sent.
    fn deadline(&self, t: &Timeouts) -> Option<(u64, Expiry)> {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(NONE / 2);
        let mut next: Option<(u64, Expiry)> = None;
        let stalled = self.write_stalled.load(Ordering::Acquire);
        if stalled != NONE {
            next = Some((stalled.saturating_add(ms(t.idle)), Expiry::WriteStalled));
        }
        if self.in_flight.load(Ordering::Acquire) == 0 {
            let head = self.head_started.load(Ordering::Acquire);
            let phase = if !self.served.load(Ordering::Acquire) {
                // The first request: from accept, whatever the client trickles in.
                (ms(t.header), Expiry::Header)
            } else if head != NONE {
                (head.saturating_add(ms(t.header)), Expiry::Header)
            } else {
                let idle = self.idle_since.load(Ordering::Acquire);
                (idle.saturating_add(ms(t.idle)), Expiry::Idle)
            };
            if next.is_none_or(|(at, _)| phase.0 < at) {
                next = Some(phase);
            }
        }
        next
    }

    /// Resolves when the connection has outlived one of its time-outs.
    pub async fn expired(&self, t: &Timeouts) -> Expiry {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.deadline(t) {
                Some((at, why)) => {
                    if self.now_ms() >= at {
                        return why;
                    }
                    let when = self.epoch + Duration::from_millis(at);
                    tokio::select! {
                        _ = tokio::time::sleep_until(when) => {}
                        _ = notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }
}

/// A request being handled; dropped when its response body is done (or abandoned).
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        // idle_since first: whoever sees in_flight reach 0 also sees when it did.
        a.idle_since.store(a.now_ms(), Ordering::Release);
        a.head_started.store(NONE, Ordering::Release);
        if a.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            a.wake.notify_one();
        }
    }
}

/// A socket that reports its reads and writes to its connection's [`Activity`].
#[derive(Debug)]
pub struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.on_read();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.activity.on_write(!r.is_pending());
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.activity.on_write(!r.is_pending());
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.activity.on_write(!r.is_pending());
        r
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_by_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(address_key(mapped), IpAddr::from([10, 1, 2, 3]));
    }

    fn short(header: u64, idle: u64) -> Timeouts {
        Timeouts {
            header: Duration::from_millis(header),
            body: Duration::from_secs(60),
            idle: Duration::from_millis(idle),
        }
    }

    async fn expiry(a: &Activity, t: &Timeouts) -> Option<Expiry> {
        tokio::time::timeout(Duration::from_secs(30), a.expired(t))
            .await
            .ok()
    }

    #[tokio::test]
    async fn watchdog_phases() {
        // A fresh connection: the header clock runs from accept.
        let a = Activity::new();
        assert_eq!(expiry(&a, &short(50, 60_000)).await, Some(Expiry::Header));

        // After an answer: the idle clock, unless a new head starts (then the header clock,
        // even though the idle deadline is far away).
        let a = Activity::new();
        drop(a.request_started());
        assert_eq!(
            a.deadline(&short(60_000, 60_000)).map(|d| d.1),
            Some(Expiry::Idle)
        );
        a.on_read();
        assert_eq!(expiry(&a, &short(50, 60_000)).await, Some(Expiry::Header));

        // While a request is handled nothing expires, unless the client stops reading.
        let a = Activity::new();
        let in_flight = a.request_started();
        assert_eq!(a.deadline(&short(1, 1)), None);
        a.on_write(false);
        assert_eq!(
            expiry(&a, &short(60_000, 50)).await,
            Some(Expiry::WriteStalled)
        );
        a.on_write(true);
        assert_eq!(a.deadline(&short(1, 1)), None);
        drop(in_flight);
        assert_eq!(expiry(&a, &short(60_000, 50)).await, Some(Expiry::Idle));
    }

    #[test]
    fn caps_total_and_per_address_and_frees_on_drop() {
        let lim = ConnLimiter::new(3, 2, vec![IpAddr::from([10, 0, 0, 9])]);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let p1 = lim.admit(a).ok();
        let p2 = lim.admit(a).ok();
        assert!(p1.is_some() && p2.is_some());
        assert_eq!(lim.admit(a).err(), Some(Refusal::PerAddress));
        let proxy = Some(IpAddr::from([10, 0, 0, 9]));
        let p3 = lim.admit(proxy).ok();
        assert!(p3.is_some(), "a trusted proxy is only held to the total");
        assert_eq!(lim.admit(None).err(), Some(Refusal::Total));
        drop(p1);
        assert!(lim.admit(a).is_ok());
        drop((p2, p3));
        assert_eq!(lim.open(), 0);
    }
}
