//! Who is calling, and may they: tokens, scopes, token types, rate-limit tiers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::config::{Config, RateLimits, Token, TokenType, User};

/// What a method needs of its caller.
#[derive(Clone, Copy)]
pub struct Needs {
    /// The scope the token must carry; empty for none.
    pub scope: &'static str,
    /// Bot tokens, and tokens of bot users, are refused (`not_allowed_token_type`)
    /// unless set.
    pub bots: bool,
    pub tier: Tier,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Tier {
    Two,
    Three,
    Four,
}

/// The authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    pub token: Token,
    pub user: User,
}

/// Slack's auth errors, in the order Slack checks them.
pub fn authenticate(
    config: &Config,
    removed: impl Fn(&str) -> bool,
    token: Option<&str>,
    needs: Needs,
) -> Result<Caller, &'static str> {
    let token = token.filter(|t| !t.is_empty()).ok_or("not_authed")?;
    let t = config.token(token).ok_or("invalid_auth")?;
    if t.revoked {
        return Err("token_revoked");
    }
    if t.expired {
        return Err("token_expired");
    }
    let user = config
        .users
        .iter()
        .find(|u| u.id == t.user)
        .ok_or("invalid_auth")?;
    if user.deleted || removed(&user.id) {
        return Err("account_inactive");
    }
    if (t.kind == TokenType::Bot || user.is_bot) && !needs.bots {
        return Err("not_allowed_token_type");
    }
    if !needs.scope.is_empty() && !t.scopes.iter().any(|s| s == needs.scope) {
        return Err("missing_scope");
    }
    Ok(Caller {
        token: t.clone(),
        user: user.clone(),
    })
}

/// Fixed one-minute windows per (token, tier).
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<(String, Tier), (u64, u32)>>,
}

impl RateLimiter {
    /// `Ok` if the call fits this minute's allowance, else the seconds until the next
    /// window (for `Retry-After`).
    pub fn check(&self, limits: &RateLimits, token: &str, tier: Tier) -> Result<(), u64> {
        let limit = match tier {
            Tier::Two => limits.tier2,
            Tier::Three => limits.tier3,
            Tier::Four => limits.tier4,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let minute = now / 60;
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let entry = windows
            .entry((token.to_owned(), tier))
            .or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= limit {
            return Err(60 - now % 60);
        }
        entry.1 += 1;
        Ok(())
    }
}

/// Failed authentications per client address, in fixed one-minute windows, so tokens
/// cannot be guessed at line rate. At most [`MAX_ADDRESSES`] addresses are tracked;
/// past that, earlier minutes' entries are dropped first, then the whole table (an
/// attacker with that many addresses gets one more window, not unbounded memory).
#[derive(Default)]
pub struct FailureLimiter {
    windows: Mutex<HashMap<IpAddr, (u64, u32)>>,
}

/// Most client addresses tracked by [`FailureLimiter`].
pub const MAX_ADDRESSES: usize = 100_000;

impl FailureLimiter {
    /// `Err(seconds until the next window)` if `ip` has failed `limit` times this
    /// minute.
    pub fn check(&self, ip: IpAddr, limit: u32) -> Result<(), u64> {
        let (minute, now) = minute();
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get(&ip) {
            Some(&(m, n)) if m == minute && n >= limit => Err(60 - now % 60),
            _ => Ok(()),
        }
    }

    /// Counts one failed authentication from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        let (minute, _) = minute();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_ADDRESSES && !windows.contains_key(&ip) {
            windows.retain(|_, w| w.0 == minute);
            if windows.len() >= MAX_ADDRESSES {
                windows.clear();
            }
        }
        let entry = windows.entry(ip).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

/// The current minute since the epoch, and the current second.
fn minute() -> (u64, u64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (now / 60, now)
}
