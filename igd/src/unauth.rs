//! Refusals of requests whose token does not verify: chained under `_unauthenticated` (never
//! under a tenant named by an unverified token), rate-limited so a flood cannot fill the disk.
//! Beyond `INTENTGATE_AUDIT_UNAUTH_RPS` overall or 10/s per address, refusals are counted into
//! one summary entry per second.

use crate::audit::Record;
use crate::gateway::Gateway;
use intentgate_proto::ids::{new_id, UNAUTHENTICATED_TENANT};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const PER_ADDRESS_RPS: u32 = 10;

#[derive(Debug, Default)]
struct Window {
    second: i64,
    total: u32,
    per_ip: HashMap<IpAddr, u32>,
    suppressed: u64,
    summary_id: String,
}

/// The limiter and its pending summary.
#[derive(Debug, Default)]
pub struct UnauthenticatedLog {
    window: Mutex<Window>,
}

/// A summary of suppressed refusals to write.
#[derive(Debug)]
struct Summary {
    event_id: String,
    count: u64,
    second: i64,
}

impl UnauthenticatedLog {
    fn admit(&self, limit: u32, ip: IpAddr, now_us: i64) -> (Result<(), String>, Option<Summary>) {
        let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let second = now_us.div_euclid(1_000_000);
        let mut flushed = None;
        if w.second != second {
            if w.suppressed > 0 {
                flushed = Some(Summary {
                    event_id: w.summary_id.clone(),
                    count: w.suppressed,
                    second: w.second,
                });
            }
            *w = Window {
                second,
                summary_id: new_id(),
                ..Window::default()
            };
        }
        let from_ip = w.per_ip.get(&ip).copied().unwrap_or(0);
        if w.total >= limit || from_ip >= PER_ADDRESS_RPS {
            w.suppressed += 1;
            return (Err(w.summary_id.clone()), flushed);
        }
        w.per_ip.insert(ip, from_ip + 1);
        w.total += 1;
        (Ok(()), flushed)
    }

    /// Flush a finished window's summary (called every second by the maintenance task).
    pub async fn flush(&self, gw: &Gateway) {
        let now = crate::clock::now_us();
        let pending = {
            let mut w = self.window.lock().unwrap_or_else(|p| p.into_inner());
            if w.second < now.div_euclid(1_000_000) && w.suppressed > 0 {
                let s = Summary {
                    event_id: w.summary_id.clone(),
                    count: w.suppressed,
                    second: w.second,
                };
                w.suppressed = 0;
                Some(s)
            } else {
                None
            }
        };
        if let Some(s) = pending {
            write_summary(gw, s).await;
        }
    }

    /// Record one refusal; returns the id of the entry that accounts for it.
    pub async fn refuse(
        &self,
        gw: &Gateway,
        ip: IpAddr,
        reason: &str,
        method: Option<&str>,
        tool: Option<&str>,
    ) -> Option<String> {
        let now = crate::clock::now_us();
        let (admitted, flushed) = self.admit(gw.settings.audit_unauth_rps, ip, now);
        if let Some(s) = flushed {
            write_summary(gw, s).await;
        }
        match admitted {
            Err(summary_id) => Some(summary_id),
            Ok(()) => {
                let mut e = gw.new_entry(UNAUTHENTICATED_TENANT, "decision");
                e.method = method.map(String::from);
                e.tool = tool.map(String::from);
                e.decision = Some("block".into());
                e.check = Some("capability".into());
                e.reason = Some(format!("{reason} (from {ip})"));
                match gw
                    .audit
                    .append(Record {
                        entry: e,
                        ..Record::default()
                    })
                    .await
                {
                    Ok(e) => Some(e.event_id),
                    Err(err) => {
                        tracing::error!(error = %err, "unauthenticated refusal could not be chained");
                        None
                    }
                }
            }
        }
    }
}

async fn write_summary(gw: &Gateway, s: Summary) {
    let mut e = gw.new_entry(UNAUTHENTICATED_TENANT, "decision");
    e.event_id = s.event_id;
    e.decision = Some("block".into());
    e.check = Some("capability".into());
    e.reason = Some(format!(
        "{} unauthenticated refusals in second {} beyond the rate limit (summarized)",
        s.count, s.second
    ));
    if let Err(err) = gw
        .audit
        .append(Record {
            entry: e,
            ..Record::default()
        })
        .await
    {
        tracing::error!(error = %err, "unauthenticated summary could not be chained");
    }
}
