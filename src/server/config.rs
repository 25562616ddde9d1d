//! The operator's TOML: teams, users, tokens and rate limits.
//!
//! ```toml
//! [[team]]
//! id = "T0001"
//!
//! [[user]]
//! id = "U0001"
//! team = "T0001"
//! name = "ada"          # optional bools, default false: admin, primary_owner, deleted, is_bot
//!
//! [[token]]
//! token = "xoxp-1"      # or token_sha256 = "<64 hex digits>": the secret's SHA-256,
//!                       # so the file holds no usable token
//! user = "U0001"
//! type = "user"         # user | bot
//! scopes = ["users.profile:read", "users.profile:write"]   # admin: "admin.users:write";
//!                       # "users:read.email": profiles are answered with their email
//! # optional bools, default false: revoked, expired
//!
//! [rate_limits]         # requests per minute per token and method tier
//! tier2 = 20
//! tier3 = 50
//! tier4 = 100
//! auth_failures = 30    # failed authentications per minute per client address
//! scope = "instance"    # counts kept by each instance (N instances: up to N× each
//!                       # limit); required with a PostgreSQL state database
//!
//! [policy]              # the engine's Policy; every key optional, defaults shown
//! min_side = 512        # px, smallest side accepted (too_small below)
//! max_side = 1024       # px, largest side accepted (too_large above)
//! max_frames = 50       # frames of an animated GIF (too_many_frames above)
//! sizes = [1024, 512, 192, 72, 48, 32, 24]   # px; each served as image_<size>
//! jpeg_quality = 85     # 1-100
//! max_input_bytes = 16777216   # bytes of one upload (too_large above)
//! max_alloc = 268435456        # bytes one job may plan to hold (too_large above)
//! max_output_bytes = 16777216  # bytes of one encoded rendition (too_large above)
//! background = "000000" # RRGGBB, the bars of an opaque letterboxed avatar
//! filter = "lanczos3"   # lanczos3 | catmull-rom | mitchell | box
//! jpeg_passthrough = true
//! still_posters = false # the server stores no posters: true is refused
//! ```

use std::collections::HashMap;

use serde::Deserialize;

use crate::{Filter, Policy};

/// The server's configuration: teams, users, tokens, rate limits and the engine's
/// policy, read from TOML by [`Config::parse`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default, rename = "team")]
    pub(crate) teams: Vec<Team>,
    #[serde(default, rename = "user")]
    pub(crate) users: Vec<User>,
    #[serde(default, rename = "token")]
    pub(crate) tokens: Vec<Token>,
    #[serde(default)]
    pub(crate) rate_limits: RateLimits,
    /// The `[policy]` section as written; [`Config::policy`] is what it makes.
    #[serde(default, rename = "policy")]
    policy_section: PolicySection,
    /// The engine's policy for every upload: [`Policy::default`] with the `[policy]`
    /// section's keys applied, validated by [`Config::parse`].
    #[serde(skip)]
    pub(crate) policy: Policy,
    /// Token index by the SHA-256 of its secret. After parsing, each [`Token::token`]
    /// holds its digest in hex, never the secret: a presented token is hashed and
    /// looked up, so no comparison ever runs over a secret, and a memory dump or a
    /// log line holds no usable token.
    #[serde(skip)]
    digests: HashMap<[u8; 32], usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Team {
    pub(crate) id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) team: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) admin: bool,
    #[serde(default)]
    pub(crate) primary_owner: bool,
    #[serde(default)]
    pub(crate) deleted: bool,
    #[serde(default)]
    pub(crate) is_bot: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TokenType {
    User,
    Bot,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Token {
    /// The secret as configured; after [`Config::parse`], its SHA-256 in lower-case
    /// hex, whichever way it was configured.
    #[serde(default)]
    pub(crate) token: String,
    /// The secret's SHA-256 in hex, instead of `token`.
    #[serde(default)]
    token_sha256: Option<String>,
    pub(crate) user: String,
    #[serde(rename = "type")]
    pub(crate) kind: TokenType,
    #[serde(default)]
    pub(crate) scopes: Vec<String>,
    #[serde(default)]
    pub(crate) revoked: bool,
    #[serde(default)]
    pub(crate) expired: bool,
}

/// Requests per minute per token, by Slack method tier. Defaults: Slack's documented
/// floors (Tier 2: 20, Tier 3: 50, Tier 4: 100).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RateLimits {
    /// Where the counts live: `instance` (each instance counts on its own, so N
    /// instances behind a balancer allow up to N times each limit). The only scope
    /// built; required in so many words when instances share a PostgreSQL state
    /// database, so that nobody runs several instances believing the limits are
    /// global.
    pub(crate) scope: Option<Scope>,
    pub(crate) tier2: u32,
    pub(crate) tier3: u32,
    pub(crate) tier4: u32,
    /// Failed authentications (unknown tokens) per minute from one client address;
    /// past it, every request from that address is `ratelimited` until the minute
    /// ends, before its body is read. Default: 30.
    pub(crate) auth_failures: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            tier2: 20,
            tier3: 50,
            tier4: 100,
            auth_failures: 30,
            scope: None,
        }
    }
}

/// `[rate_limits] scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Scope {
    /// Counted in each instance's memory.
    Instance,
}

/// `[policy]`: each key a [`Policy`] field, absent keys left at their defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicySection {
    min_side: Option<u32>,
    max_side: Option<u32>,
    max_frames: Option<u32>,
    sizes: Option<Vec<u32>>,
    jpeg_quality: Option<u8>,
    max_input_bytes: Option<usize>,
    max_alloc: Option<u64>,
    max_output_bytes: Option<usize>,
    background: Option<String>,
    filter: Option<String>,
    jpeg_passthrough: Option<bool>,
    still_posters: Option<bool>,
}

impl PolicySection {
    /// [`Policy::default`] with these keys applied, then validated; an error names the
    /// key at fault.
    fn policy(&self) -> Result<Policy, String> {
        let mut p = Policy::default();
        macro_rules! set {
            ($($key:ident),*) => {$(
                if let Some(v) = &self.$key {
                    p.$key = v.clone();
                }
            )*};
        }
        set!(
            min_side,
            max_side,
            max_frames,
            sizes,
            jpeg_quality,
            max_input_bytes
        );
        set!(max_alloc, max_output_bytes, jpeg_passthrough);
        if let Some(hex) = &self.background {
            p.background = rgb(hex).map_err(|e| format!("[policy] background: {e}"))?;
        }
        if let Some(name) = &self.filter {
            p.filter = name
                .parse::<Filter>()
                .map_err(|e| format!("[policy] filter: {e}"))?;
        }
        if self.still_posters == Some(true) {
            return Err("[policy] still_posters: the server stores and serves no \
                        posters; leave it out or set it to false"
                .into());
        }
        p.still_posters = false;
        // Policy::validate names the field: "policy: jpeg_quality 101 is outside ...".
        p.validate()
            .map_err(|e| format!("[policy] {}", e.detail().trim_start_matches("policy: ")))?;
        Ok(p)
    }
}

impl Config {
    /// Parses the TOML (the format above; `src/server/example.toml` is a complete
    /// example) and cross-checks it: unique ids and tokens, every user in a known
    /// team, every token of a known user, a valid `[policy]`. The error names the
    /// fault, and for `[policy]` the key.
    ///
    /// ```
    /// let config = avatar_engine::server::Config::parse(
    ///     "[policy]\nmax_frames = 10\njpeg_quality = 90\n",
    /// )?;
    /// assert_eq!(config.policy().max_frames, 10);
    /// let err = avatar_engine::server::Config::parse("[policy]\njpeg_quality = 0\n").unwrap_err();
    /// assert!(err.to_string().contains("jpeg_quality"), "{err}");
    /// # Ok::<(), avatar_engine::server::SetupError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Config, super::SetupError> {
        Self::parse_text(text).map_err(super::SetupError)
    }

    /// The engine's policy for every upload: [`Policy::default`] with the `[policy]`
    /// section's keys applied.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    fn parse_text(text: &str) -> Result<Config, String> {
        let mut config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.policy = config.policy_section.policy()?;
        let mut seen = HashMap::new();
        for t in &config.teams {
            if seen.insert(("team", t.id.as_str()), ()).is_some() {
                return Err(format!("team {} is listed twice", t.id));
            }
        }
        for u in &config.users {
            if seen.insert(("user", u.id.as_str()), ()).is_some() {
                return Err(format!("user {} is listed twice", u.id));
            }
            if !config.teams.iter().any(|t| t.id == u.team) {
                return Err(format!("user {} is in unknown team {}", u.id, u.team));
            }
            if !valid_id(&u.id) {
                return Err(format!("user id {:?} must be letters and digits", u.id));
            }
        }
        for (i, t) in config.tokens.iter_mut().enumerate() {
            if !config.users.iter().any(|u| u.id == t.user) {
                return Err(format!("a token names unknown user {}", t.user));
            }
            let digest = match (t.token.is_empty(), t.token_sha256.take()) {
                (false, None) => token_digest(&t.token),
                (true, Some(hex)) => parse_digest(&hex).ok_or(format!(
                    "the token_sha256 of a token of {} is not 64 hex digits",
                    t.user
                ))?,
                _ => {
                    return Err(format!(
                        "a token of {} needs exactly one of token and token_sha256",
                        t.user
                    ))
                }
            };
            if config.digests.insert(digest, i).is_some() {
                return Err("a token is listed twice".into());
            }
            t.token = digest.iter().map(|b| format!("{b:02x}")).collect();
        }
        Ok(config)
    }

    /// The configured token whose secret is `presented`, if any.
    pub(crate) fn token(&self, presented: &str) -> Option<&Token> {
        let i = *self.digests.get(&token_digest(presented))?;
        self.tokens.get(i)
    }
}

/// SHA-256 of a token's secret.
fn token_digest(secret: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(secret.as_bytes()).into()
}

/// 64 hex digits as 32 bytes.
fn parse_digest(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(digest)
}

/// `RRGGBB` (or `#RRGGBB`) in hex as `[r, g, b]`.
fn rgb(v: &str) -> Result<[u8; 3], String> {
    let hex = v.strip_prefix('#').unwrap_or(v);
    match u32::from_str_radix(hex, 16) {
        Ok(n) if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            let [_, r, g, b] = n.to_be_bytes();
            Ok([r, g, b])
        }
        _ => Err(format!("expected RRGGBB in hex, got {v:?}")),
    }
}

/// Ids become object-store path segments: letters and digits only.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let c = Config::parse_text(include_str!("example.toml")).unwrap();
        assert_eq!((c.teams.len(), c.users.len(), c.tokens.len()), (1, 2, 2));
        // Tokens are found by their secret, and only digests are kept.
        let secret = include_str!("example.toml")
            .lines()
            .find_map(|l| l.strip_prefix("token = \""))
            .and_then(|l| l.split('"').next())
            .unwrap();
        let found = c.token(secret).unwrap();
        assert_eq!(found.token.len(), 64);
        assert!(!found.token.contains(secret));
        assert!(c.token("not-a-token").is_none());
        assert!(c.tokens.iter().all(|t| t.token.len() == 64));
        assert_eq!(c.rate_limits.tier2, 20);
        assert!(c.users[1].admin && !c.users[0].admin);
    }

    #[test]
    fn a_token_may_be_configured_by_its_digest() {
        let base = include_str!("example.toml");
        // SHA-256 of "xoxp-grace".
        let digest: String = token_digest("xoxp-grace")
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let hashed = base.replace(
            "token = \"xoxp-grace\"",
            &format!("token_sha256 = \"{digest}\""),
        );
        assert!(!hashed.contains("xoxp-grace"));
        let c = Config::parse_text(&hashed).unwrap();
        assert_eq!(c.token("xoxp-grace").unwrap().user, "U0002");
        assert_eq!(
            c.token("xoxp-grace").unwrap().token,
            digest.to_ascii_lowercase()
        );
        // The same secret both ways is one token listed twice.
        let twice = format!(
            "{base}\n[[token]]\ntoken_sha256 = \"{digest}\"\nuser = \"U0001\"\ntype = \"user\"\n"
        );
        assert!(Config::parse_text(&twice)
            .unwrap_err()
            .contains("listed twice"));
    }

    #[test]
    fn inconsistent_configs_are_refused() {
        let base = include_str!("example.toml");
        for (broken, why) in [
            (
                base.replace(
                    "team = \"T0001\"\nname = \"ada\"",
                    "team = \"T9\"\nname = \"ada\"",
                ),
                "unknown team",
            ),
            (
                base.replace("user = \"U0002\"", "user = \"U0009\""),
                "unknown user",
            ),
            (base.replace("xoxp-grace", "xoxp-ada"), "listed twice"),
            (
                base.replace("id = \"U0001\"", "id = \"../etc\""),
                "letters and digits",
            ),
            (format!("{base}\nsurprise = 1\n"), "unknown field"),
            (
                base.replace("token = \"xoxp-grace\"", "token_sha256 = \"abc\""),
                "not 64 hex digits",
            ),
            (
                base.replace(
                    "token = \"xoxp-grace\"",
                    "token = \"xoxp-grace\"\ntoken_sha256 = \"00\"",
                ),
                "exactly one of",
            ),
        ] {
            let e = Config::parse_text(&broken).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        }
    }
}
