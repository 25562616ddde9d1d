//! The text of a profile (names, title, phone, pronouns, email, custom status):
//! what `users.profile.set` may change, its rules and Slack's codes for breaking them,
//! and how a profile reads back (`users.profile.get`, and `users.profile.set`'s own
//! answer). Pure: the handler in `api.rs` checks who may change what, and the state
//! database stores [`Fields`] inside the user's row, so a change is one write.
//!
//! Rules and limits, from Slack's documentation of the method unless marked *ours*:
//! - arguments: `profile` (a JSON object, as text or, in a JSON body, as an object) or
//!   `name` + `value`, never both, never neither (`invalid_arguments`); at most
//!   [`MAX_FIELDS`] fields, each name at most [`MAX_NAME_CHARS`] characters
//!   (`invalid_profile`);
//! - settable: `first_name`, `last_name`, `real_name` (split at its first space into
//!   first and last name, the last cleared when there is one word; a `first_name` or
//!   `last_name` in the same call wins), `display_name`, `title`, `phone`,
//!   `pronouns`, `email`, `status_text`, `status_emoji`, `status_expiration`; every
//!   other name is ignored: the image fields (Slack: they "cannot be set using"
//!   this method; `users.setPhoto`'s job), `skype` (Slack: always empty), custom
//!   `fields` (no team profile fields are configured here), and any unknown name
//!   (*ours*: Slack lists what may be set and says nothing of the rest; refusing a
//!   call for a field a newer client sends would break it for nothing);
//! - values are strings (`status_expiration`: a whole number of seconds since the
//!   epoch, as a number or digits; 0 never expires); anything else is
//!   `invalid_profile` (*ours*: Slack does not say);
//! - names (`first_name`, `last_name`, `display_name`): a leading `@` is
//!   `invalid_starts_with_at`, a URL (`://` or `www.`) is `name_not_allowed`,
//!   `slackbot` as a first or last name is `reserved_name`; first and last names up
//!   to 35 characters, display names up to 80; `status_text` up to 100; `title`,
//!   `phone` and `pronouns` up to 256 (*ours*, Slack's limit for a text field); longer
//!   is `too_long` (Slack's code for a long status; *ours* for the other fields);
//! - `status_emoji` is empty or `:name:` (lower-case letters, digits, `_`, `+`, `-`,
//!   `'`, and an optional `::skin-tone-N:`), else `invalid_emoji_not_allowed`;
//! - clearing a status takes both `status_text` and `status_emoji` empty in one call:
//!   one of them empty alone is `must_clear_both_status_text_and_status_emoji`; a
//!   status set without `status_expiration` never expires, and one whose expiration
//!   has passed reads back cleared;
//! - `email` is empty or an address with one `@`, no spaces and a dotted domain, at
//!   most 254 characters (`invalid_email`, *ours*: Slack's code for an unreadable
//!   address in its other methods).
//!
//! Who may change what (checked in `api.rs`, before the values): one's own profile,
//! anyone; another user's (`user`), admins and the primary owner (`not_admin`), a bot
//! user's only the primary owner (`not_app_admin`), an admin's or the owner's only the
//! primary owner (`cannot_update_admin_user`); `email`, admins, and not their own
//! (`not_admin`). A user of another team, deleted or removed is `user_not_found`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most fields one `profile` argument may carry (Slack: 50).
pub const MAX_FIELDS: usize = 50;

/// Longest field name, in characters (Slack: 255).
pub const MAX_NAME_CHARS: usize = 255;

/// Longest first or last name, in characters (Slack: 35).
const MAX_NAME_PART: usize = 35;
/// Longest display name, in characters (Slack: 80).
const MAX_DISPLAY_NAME: usize = 80;
/// Longest status text, in characters (Slack: 100).
const MAX_STATUS_TEXT: usize = 100;
/// Longest title, phone or pronouns, in characters (ours: Slack's text-field limit).
const MAX_TEXT: usize = 256;
/// Longest email address, in characters (RFC 5321's path limit less its brackets).
const MAX_EMAIL: usize = 254;
/// Longest status emoji, in characters (ours).
const MAX_EMOJI: usize = 100;

/// The stored text of a profile. `None`: never set, so the configured default reads
/// back (the user's configured name as first and display name, else empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Fields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_emoji: Option<String>,
    /// Seconds since the epoch when the status clears itself; 0: never.
    #[serde(skip_serializing_if = "is_zero")]
    pub status_expiration: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl Fields {
    /// The email as the uniqueness index keys it (lower case), if one is set.
    pub fn email_key(&self) -> Option<String> {
        self.email
            .as_deref()
            .filter(|e| !e.is_empty())
            .map(str::to_lowercase)
    }

    /// The fields as they stand at `now` (seconds since the epoch): without a status
    /// whose expiration has passed.
    pub fn as_of(&self, now: u64) -> Fields {
        let mut f = self.clone();
        f.expire(now);
        f
    }

    fn expire(&mut self, now: u64) {
        if self.status_expiration != 0 && self.status_expiration <= now {
            self.status_text = None;
            self.status_emoji = None;
            self.status_expiration = 0;
        }
    }

    /// The profile's text fields as Slack answers them, with `name` (the configured
    /// user name) as the default first and display name, and the status as it stands
    /// at `now`. `email` is included only when `with_email` (the caller's token has
    /// `users:read.email`, as Slack requires).
    pub fn render(&self, name: &str, now: u64, with_email: bool) -> Map<String, Value> {
        let f = self.as_of(now);
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let first = f.first_name.clone().unwrap_or_else(|| name.to_owned());
        let last = text(&f.last_name);
        let real = format!("{first} {last}").trim().to_owned();
        let mut m = Map::new();
        m.insert("first_name".into(), first.into());
        m.insert("last_name".into(), last.into());
        m.insert("real_name_normalized".into(), normalized(&real).into());
        m.insert("real_name".into(), real.into());
        let display = f.display_name.clone().unwrap_or_else(|| name.to_owned());
        m.insert(
            "display_name_normalized".into(),
            normalized(&display).into(),
        );
        m.insert("display_name".into(), display.into());
        m.insert("title".into(), text(&f.title).into());
        m.insert("phone".into(), text(&f.phone).into());
        m.insert("skype".into(), "".into());
        m.insert("pronouns".into(), text(&f.pronouns).into());
        if with_email {
            m.insert("email".into(), text(&f.email).into());
        }
        m.insert("status_text".into(), text(&f.status_text).into());
        m.insert("status_emoji".into(), text(&f.status_emoji).into());
        m.insert("status_expiration".into(), f.status_expiration.into());
        m
    }
}

/// Slack's `*_normalized` names: "with any non-Latin characters filtered out". Our
/// reading: compatibility-decomposed (NFKD), accents dropped, then only characters of
/// the Latin blocks kept (`Zoë Ångström` → `Zoe Angstrom`, `佐藤 Ann` → `Ann`),
/// spaces collapsed.
fn normalized(name: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    let latin = |c: char| {
        matches!(c as u32,
            0x20..=0x7E            // Basic Latin, printable
            | 0xC0..=0x24F         // Latin-1 letters, Latin Extended-A and -B
            | 0x1E00..=0x1EFF      // Latin Extended Additional
            | 0x2C60..=0x2C7F      // Latin Extended-C
            | 0xA720..=0xA7FF      // Latin Extended-D
            | 0xAB30..=0xAB6F)     // Latin Extended-E
            && !matches!(c, '\u{D7}' | '\u{F7}') // × and ÷
    };
    let kept: String = name
        .nfkd()
        .filter(|&c| !is_combining_mark(c) && latin(c))
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fields one call sets: each `Some` replaces the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Edit {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub pronouns: Option<String>,
    pub email: Option<String>,
    pub status_text: Option<String>,
    pub status_emoji: Option<String>,
    pub status_expiration: Option<u64>,
}

impl Edit {
    /// The call's fields from its arguments: `profile` (JSON text), or `name` and
    /// `value`. Errors are wire codes: `invalid_arguments` for the wrong combination,
    /// `invalid_profile` for a profile that is not a JSON object, has too many fields
    /// or too long a name, or gives a field a value of the wrong type.
    pub fn from_arguments(
        profile: Option<&str>,
        name: Option<&str>,
        value: Option<&str>,
    ) -> Result<Edit, &'static str> {
        let pairs: Vec<(String, Value)> = match (profile, name, value) {
            (Some(profile), None, None) => {
                let Ok(Value::Object(map)) = serde_json::from_str::<Value>(profile) else {
                    return Err("invalid_profile");
                };
                if map.len() > MAX_FIELDS {
                    return Err("invalid_profile");
                }
                map.into_iter().collect()
            }
            (None, Some(name), Some(value)) => vec![(name.to_owned(), Value::from(value))],
            _ => return Err("invalid_arguments"),
        };
        let mut edit = Edit::default();
        let mut real_name = None;
        for (name, value) in pairs {
            if name.chars().count() > MAX_NAME_CHARS {
                return Err("invalid_profile");
            }
            let text = || match &value {
                Value::String(s) => Ok(s.clone()),
                _ => Err("invalid_profile"),
            };
            let slot = match name.as_str() {
                "first_name" => &mut edit.first_name,
                "last_name" => &mut edit.last_name,
                "display_name" => &mut edit.display_name,
                "title" => &mut edit.title,
                "phone" => &mut edit.phone,
                "pronouns" => &mut edit.pronouns,
                "email" => &mut edit.email,
                "status_text" => &mut edit.status_text,
                "status_emoji" => &mut edit.status_emoji,
                "real_name" => &mut real_name,
                "status_expiration" => {
                    edit.status_expiration = Some(expiration(&value)?);
                    continue;
                }
                // Unknown, image, `skype` and custom fields: ignored, as Slack does.
                _ => continue,
            };
            *slot = Some(text()?);
        }
        if let Some(real) = real_name {
            let real = real.trim();
            let (first, last) = real.split_once(' ').unwrap_or((real, ""));
            edit.first_name.get_or_insert_with(|| first.to_owned());
            edit.last_name.get_or_insert_with(|| last.trim().to_owned());
        }
        Ok(edit)
    }

    /// Whether the call changes the email (which only an admin may, and not their own).
    pub fn sets_email(&self) -> bool {
        self.email.is_some()
    }

    /// Slack's rules for the values, in the order of the fields' documentation.
    pub fn check(&self) -> Result<(), &'static str> {
        for (value, max, reserved) in [
            (&self.first_name, MAX_NAME_PART, true),
            (&self.last_name, MAX_NAME_PART, true),
            (&self.display_name, MAX_DISPLAY_NAME, false),
        ] {
            if let Some(v) = value {
                check_name(v, max, reserved)?;
            }
        }
        for v in [&self.title, &self.phone, &self.pronouns]
            .into_iter()
            .flatten()
        {
            if v.chars().count() > MAX_TEXT {
                return Err("too_long");
            }
        }
        if self
            .status_text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_STATUS_TEXT)
        {
            return Err("too_long");
        }
        if self.status_emoji.as_ref().is_some_and(|e| !emoji_ok(e)) {
            return Err("invalid_emoji_not_allowed");
        }
        let empty_alone = |v: &Option<String>, other: &Option<String>| {
            v.as_ref().is_some_and(|v| v.is_empty()) && other.is_none()
        };
        if empty_alone(&self.status_text, &self.status_emoji)
            || empty_alone(&self.status_emoji, &self.status_text)
        {
            return Err("must_clear_both_status_text_and_status_emoji");
        }
        if self.email.as_ref().is_some_and(|e| !email_ok(e)) {
            return Err("invalid_email");
        }
        Ok(())
    }

    /// `fields` with this edit applied at `now`: an expired status is cleared first; a
    /// status given without an expiration never expires; a cleared status has none.
    pub fn applied(&self, fields: &Fields, now: u64) -> Fields {
        let mut f = fields.as_of(now);
        for (slot, value) in [
            (&mut f.first_name, &self.first_name),
            (&mut f.last_name, &self.last_name),
            (&mut f.display_name, &self.display_name),
            (&mut f.title, &self.title),
            (&mut f.phone, &self.phone),
            (&mut f.pronouns, &self.pronouns),
            (&mut f.email, &self.email),
            (&mut f.status_text, &self.status_text),
            (&mut f.status_emoji, &self.status_emoji),
        ] {
            if let Some(v) = value {
                *slot = Some(v.clone());
            }
        }
        if self.status_text.is_some() || self.status_emoji.is_some() {
            f.status_expiration = 0;
        }
        if let Some(at) = self.status_expiration {
            f.status_expiration = at;
        }
        let cleared = |v: &Option<String>| v.as_deref().unwrap_or("").is_empty();
        if cleared(&f.status_text) && cleared(&f.status_emoji) {
            f.status_expiration = 0;
        }
        f
    }
}

/// `status_expiration`: a non-negative whole number, or a string of digits.
fn expiration(value: &Value) -> Result<u64, &'static str> {
    let parsed = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if s.is_empty() => Some(0),
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    };
    // Stored as a signed 64-bit number: beyond it is no time anyone means.
    parsed
        .filter(|&v| i64::try_from(v).is_ok())
        .ok_or("invalid_profile")
}

/// A first, last or display name.
fn check_name(name: &str, max: usize, reserved: bool) -> Result<(), &'static str> {
    if name.starts_with('@') {
        return Err("invalid_starts_with_at");
    }
    let lower = name.to_lowercase();
    if lower.contains("://") || lower.contains("www.") {
        return Err("name_not_allowed");
    }
    if reserved && lower.trim() == "slackbot" {
        return Err("reserved_name");
    }
    if name.chars().count() > max {
        return Err("too_long");
    }
    Ok(())
}

/// Empty, or `:name:` with an optional `::skin-tone-N:` (N from 2 to 6).
fn emoji_ok(emoji: &str) -> bool {
    if emoji.is_empty() {
        return true;
    }
    if emoji.chars().count() > MAX_EMOJI {
        return false;
    }
    let shaped = |s: &str| {
        s.len() > 2
            && s.starts_with(':')
            && s.ends_with(':')
            && s[1..s.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-'".contains(&b))
    };
    match emoji.split_once("::") {
        None => shaped(emoji),
        Some((name, tone)) => {
            shaped(&format!("{name}:"))
                && matches!(
                    tone,
                    "skin-tone-2:"
                        | "skin-tone-3:"
                        | "skin-tone-4:"
                        | "skin-tone-5:"
                        | "skin-tone-6:"
                )
        }
    }
}

/// Empty, or one `@` between a non-empty local part and a dotted domain, no
/// whitespace or control characters, at most [`MAX_EMAIL`] characters.
fn email_ok(email: &str) -> bool {
    if email.is_empty() {
        return true;
    }
    if email.chars().count() > MAX_EMAIL
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(json: &str) -> Result<Edit, &'static str> {
        Edit::from_arguments(Some(json), None, None)
    }

    #[test]
    fn arguments_take_one_form() {
        assert_eq!(
            Edit::from_arguments(None, Some("title"), Some("Dr"))
                .unwrap()
                .title
                .as_deref(),
            Some("Dr")
        );
        for (p, n, v) in [
            (None, None, None),
            (Some("{}"), Some("title"), Some("Dr")),
            (Some("{}"), Some("title"), None),
            (None, Some("title"), None),
            (None, None, Some("Dr")),
        ] {
            assert_eq!(
                Edit::from_arguments(p, n, v),
                Err("invalid_arguments"),
                "{p:?} {n:?} {v:?}"
            );
        }
    }

    #[test]
    fn a_profile_must_be_a_small_json_object() {
        for bad in ["", "not json", "[]", "\"x\"", "1", "null", "{\"title\": 5}"] {
            assert_eq!(profile(bad), Err("invalid_profile"), "{bad}");
        }
        let many: Map<String, Value> = (0..51)
            .map(|i| (format!("x{i}"), Value::from("v")))
            .collect();
        assert_eq!(
            profile(&Value::Object(many).to_string()),
            Err("invalid_profile")
        );
        let fifty: Map<String, Value> = (0..50)
            .map(|i| (format!("x{i}"), Value::from("v")))
            .collect();
        assert_eq!(
            profile(&Value::Object(fifty).to_string()),
            Ok(Edit::default())
        );
        let long = format!("{{\"{}\": \"v\"}}", "n".repeat(256));
        assert_eq!(profile(&long), Err("invalid_profile"));
        let just = format!("{{\"{}\": \"v\"}}", "é".repeat(255));
        assert_eq!(
            profile(&just),
            Ok(Edit::default()),
            "255 characters, 510 bytes"
        );
    }

    #[test]
    fn unknown_and_image_fields_are_ignored() {
        let e = profile(
            r#"{"image_72": "x", "skype": "me", "fields": {"Xf01": {"value": "v"}},
            "avatar_hash": 1, "title": "Dr"}"#,
        )
        .unwrap();
        assert_eq!(
            e,
            Edit {
                title: Some("Dr".into()),
                ..Edit::default()
            }
        );
    }

    #[test]
    fn real_name_splits_at_its_first_space_unless_a_part_is_given() {
        let e = profile(r#"{"real_name": " Ada  King Lovelace "}"#).unwrap();
        assert_eq!(
            (e.first_name.as_deref(), e.last_name.as_deref()),
            (Some("Ada"), Some("King Lovelace"))
        );
        let e = profile(r#"{"real_name": "Ada"}"#).unwrap();
        assert_eq!(
            e.last_name.as_deref(),
            Some(""),
            "one word clears the last name"
        );
        let e = profile(r#"{"real_name": "Ada King", "first_name": "Augusta"}"#).unwrap();
        assert_eq!(
            (e.first_name.as_deref(), e.last_name.as_deref()),
            (Some("Augusta"), Some("King"))
        );
    }

    #[test]
    fn each_rule_has_its_code() {
        let code = |json: &str| profile(json).and_then(|e| e.check()).err();
        assert_eq!(
            code(r#"{"display_name": "@ada"}"#),
            Some("invalid_starts_with_at")
        );
        assert_eq!(
            code(r#"{"first_name": "http://x.example"}"#),
            Some("name_not_allowed")
        );
        assert_eq!(
            code(r#"{"real_name": "Ada www.ada.example"}"#),
            Some("name_not_allowed")
        );
        assert_eq!(code(r#"{"last_name": "SlackBot"}"#), Some("reserved_name"));
        assert_eq!(
            code(r#"{"display_name": "slackbot"}"#),
            None,
            "only first and last"
        );
        let at = |n: usize, c: char| c.to_string().repeat(n);
        assert_eq!(
            code(&format!(r#"{{"first_name": "{}"}}"#, at(35, 'é'))),
            None
        );
        assert_eq!(
            code(&format!(r#"{{"first_name": "{}"}}"#, at(36, 'a'))),
            Some("too_long")
        );
        assert_eq!(
            code(&format!(r#"{{"display_name": "{}"}}"#, at(81, 'a'))),
            Some("too_long")
        );
        assert_eq!(
            code(&format!(r#"{{"title": "{}"}}"#, at(257, 'a'))),
            Some("too_long")
        );
        let status = |n: usize| {
            format!(
                r#"{{"status_text": "{}", "status_emoji": ":x:"}}"#,
                at(n, 'ü')
            )
        };
        assert_eq!(code(&status(100)), None);
        assert_eq!(code(&status(101)), Some("too_long"));
        for bad in ["x", ":x", "::", ":Caps:", ":a b:", ":x::skin-tone-7:", "🙂"] {
            let json = format!(r#"{{"status_text": "t", "status_emoji": "{bad}"}}"#);
            assert_eq!(code(&json), Some("invalid_emoji_not_allowed"), "{bad}");
        }
        for good in [":train:", ":+1:", ":wave::skin-tone-3:", ":e-mail_2:"] {
            let json = format!(r#"{{"status_text": "t", "status_emoji": "{good}"}}"#);
            assert_eq!(code(&json), None, "{good}");
        }
        let both = Some("must_clear_both_status_text_and_status_emoji");
        assert_eq!(code(r#"{"status_text": ""}"#), both);
        assert_eq!(code(r#"{"status_emoji": ""}"#), both);
        assert_eq!(code(r#"{"status_text": "", "status_emoji": ""}"#), None);
        assert_eq!(
            code(r#"{"status_text": "out"}"#),
            None,
            "text alone, not empty"
        );
        for bad in [
            "ada",
            "ada@",
            "@x.example",
            "a b@x.example",
            "a@b@x.example",
            "a@x",
            "a@x..example",
        ] {
            assert_eq!(
                code(&format!(r#"{{"email": "{bad}"}}"#)),
                Some("invalid_email"),
                "{bad}"
            );
        }
        assert_eq!(code(r#"{"email": "Ada@Example.org"}"#), None);
        assert_eq!(code(r#"{"email": ""}"#), None, "cleared");
    }

    #[test]
    fn expiration_is_a_whole_number_of_seconds() {
        let at = |v: &str| {
            profile(&format!(r#"{{"status_expiration": {v}}}"#)).map(|e| e.status_expiration)
        };
        assert_eq!(at("1532627506"), Ok(Some(1532627506)));
        assert_eq!(at("\"1532627506\""), Ok(Some(1532627506)));
        assert_eq!(at("0"), Ok(Some(0)));
        for bad in ["-1", "1.5", "\"soon\"", "true", "18446744073709551615"] {
            assert_eq!(at(bad), Err("invalid_profile"), "{bad}");
        }
    }

    #[test]
    fn a_status_expires_and_a_new_one_never_does_unless_told() {
        let set = profile(
            r#"{"status_text": "lunch", "status_emoji": ":fork:", "status_expiration": 100}"#,
        )
        .unwrap()
        .applied(&Fields::default(), 50);
        assert_eq!(set.status_expiration, 100);
        let read = |f: &Fields, now| f.render("ada", now, false);
        assert_eq!(read(&set, 99)["status_text"], "lunch");
        assert_eq!(read(&set, 100)["status_text"], "");
        assert_eq!(read(&set, 100)["status_emoji"], "");
        assert_eq!(read(&set, 100)["status_expiration"], 0);
        // A new text without an expiration: the old expiration goes.
        let renewed = profile(r#"{"status_text": "still lunch"}"#)
            .unwrap()
            .applied(&set, 60);
        assert_eq!(renewed.status_expiration, 0);
        assert_eq!(renewed.status_emoji.as_deref(), Some(":fork:"));
        // Set after it expired: the old emoji does not come back with the new text.
        let later = profile(r#"{"status_text": "back"}"#)
            .unwrap()
            .applied(&set, 200);
        assert_eq!(later.status_emoji, None);
        let cleared = profile(r#"{"status_text": "", "status_emoji": ""}"#)
            .unwrap()
            .applied(&set, 60);
        assert_eq!(cleared.status_expiration, 0);
    }

    #[test]
    fn a_profile_reads_back_with_its_defaults() {
        let fields = Fields::default();
        let m = fields.render("ada", 0, false);
        assert_eq!(m["real_name"], "ada");
        assert_eq!(m["display_name"], "ada");
        assert_eq!(m["first_name"], "ada");
        assert_eq!(m["last_name"], "");
        assert!(!m.contains_key("email"));
        let set =
            profile(r#"{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@x.example"}"#)
                .unwrap()
                .applied(&fields, 0);
        let m = set.render("ada", 0, true);
        assert_eq!(m["real_name"], "Ada Lovelace");
        assert_eq!(m["email"], "ada@x.example");
        assert_eq!(m["real_name_normalized"], "Ada Lovelace");
        let accented = profile(r#"{"real_name": "Zoë Ångström", "display_name": "佐藤 ﬁona"}"#)
            .unwrap()
            .applied(&fields, 0)
            .render("ada", 0, false);
        assert_eq!(accented["real_name_normalized"], "Zoe Angstrom");
        assert_eq!(accented["display_name_normalized"], "fiona");
        assert_eq!(
            accented["display_name"], "佐藤 ﬁona",
            "the name itself is kept"
        );
        let stored = serde_json::to_string(&set).unwrap();
        assert_eq!(serde_json::from_str::<Fields>(&stored).unwrap(), set);
        assert_eq!(serde_json::to_string(&Fields::default()).unwrap(), "{}");
    }

    const KEYS: [&str; 12] = [
        "first_name",
        "last_name",
        "real_name",
        "display_name",
        "title",
        "phone",
        "pronouns",
        "email",
        "status_text",
        "status_emoji",
        "status_expiration",
        "image_72",
    ];

    proptest::proptest! {
        /// Any text as `profile`, and any values for the known fields: a code or an
        /// edit, never a panic, and an accepted edit applies and reads back.
        #[test]
        fn any_profile_is_answered_without_panic(
            text in ".{0,300}",
            values in proptest::collection::vec((0..KEYS.len(), ".{0,120}"), 0..12),
            now in 0u64..u64::MAX / 2,
        ) {
            let _ = Edit::from_arguments(Some(&text), None, None).and_then(|e| e.check());
            let object: Map<String, Value> = values
                .into_iter()
                .map(|(k, v)| (KEYS[k].to_owned(), Value::from(v)))
                .collect();
            if let Ok(edit) = profile(&Value::Object(object).to_string()) {
                if edit.check().is_ok() {
                    let fields = edit.applied(&Fields::default(), now);
                    let shown = fields.render("ada", now, true);
                    proptest::prop_assert!(shown.len() >= 14);
                }
            }
        }
    }
}
