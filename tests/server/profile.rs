//! `users.profile.set` over raw HTTP: each argument form, each field, each documented
//! error, expiring statuses, concurrent changes of one user, and a database that
//! refuses the write. The official SDKs drive it in [`super::sdk`], several instances
//! in [`super::cluster`].

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use super::{curl, scratch, start, start_with, Reply, Server, CONFIG};

impl Server {
    /// `users.profile.set` as a form: `args` URL-encoded, the token in `Authorization`.
    pub(super) fn profile_set(&self, token: &str, args: &[(&str, &str)]) -> Reply {
        let auth = format!("Authorization: Bearer {token}");
        let mut a = vec!["-X".to_owned(), "POST".to_owned(), "-H".to_owned(), auth];
        for (k, v) in args {
            a.extend(["--data-urlencode".to_owned(), format!("{k}={v}")]);
        }
        a.push(self.api("users.profile.set"));
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        curl(&refs)
    }

    /// `users.profile.set` with `profile` (a JSON object) as form text.
    pub(super) fn set_fields(&self, token: &str, profile: Value) -> Reply {
        self.profile_set(token, &[("profile", &profile.to_string())])
    }

    /// `users.profile.set` with a JSON body, as the Python SDK sends it.
    fn profile_set_json(&self, token: &str, body: Value) -> Reply {
        curl(&[
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Content-Type: application/json; charset=utf-8",
            "-d",
            &body.to_string(),
            &self.api("users.profile.set"),
        ])
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `profile` of a successful answer.
fn profile_of(r: &Reply) -> Value {
    let v = r.json();
    assert_eq!(v["ok"], true, "{v}");
    v["profile"].clone()
}

#[test]
fn profile_set_takes_each_argument_form_and_answers_what_profile_get_reads() {
    let s = start("profile-forms");
    let before = profile_of(&s.profile("t-ada", None));
    assert_eq!(
        (
            &before["real_name"],
            &before["display_name"],
            &before["title"]
        ),
        (&json!("ada"), &json!("ada"), &json!(""))
    );

    // `profile` as URL-encoded JSON text, every settable field but email at once.
    let fields = json!({
        "first_name": "Ada", "last_name": "Lovelace", "display_name": "countess",
        "title": "Analyst", "phone": "+44 20 7946 0000", "pronouns": "she/her",
        "status_text": "computing", "status_emoji": ":abacus:",
        "status_expiration": now() + 3600,
    });
    let answer = profile_of(&s.set_fields("t-ada", fields.clone()));
    let read = profile_of(&s.profile("t-ada", None));
    assert_eq!(
        answer, read,
        "the answer is the profile as profile.get reads it"
    );
    for (k, v) in fields.as_object().unwrap() {
        assert_eq!(&read[k], v, "{k}");
    }
    assert_eq!(read["real_name"], "Ada Lovelace");
    assert_eq!(read["skype"], "");
    assert_eq!(
        read["is_custom_image"], false,
        "the image fields are still there"
    );
    assert!(read.get("email").is_none(), "no users:read.email scope");

    // `name` + `value`: one field; real_name sets first and last.
    let r = s.profile_set("t-ada", &[("name", "real_name"), ("value", "Augusta King")]);
    let p = profile_of(&r);
    assert_eq!(
        (&p["first_name"], &p["last_name"], &p["title"]),
        (&json!("Augusta"), &json!("King"), &json!("Analyst"))
    );
    // A JSON body, `profile` as an object (the Python SDK) and as text.
    let r = s.profile_set_json("t-ada", json!({"profile": {"title": "Mathematician"}}));
    assert_eq!(profile_of(&r)["title"], "Mathematician");
    let r = s.profile_set_json("t-ada", json!({"profile": "{\"pronouns\": \"they\"}"}));
    assert_eq!(profile_of(&r)["pronouns"], "they");
    let r = s.profile_set_json("t-ada", json!({"name": "phone", "value": ""}));
    assert_eq!(profile_of(&r)["phone"], "");
    // Multipart, as any form may be sent.
    let r = curl(&[
        "-H",
        "Authorization: Bearer t-ada",
        "-F",
        "name=display_name",
        "-F",
        "value=ada.k",
        &s.api("users.profile.set"),
    ]);
    assert_eq!(profile_of(&r)["display_name"], "ada.k");
    // The token as a form argument, as older clients send it.
    let r = curl(&[
        "-d",
        "token=t-ada&name=title&value=Engineer",
        &s.api("users.profile.set"),
    ]);
    assert_eq!(profile_of(&r)["title"], "Engineer");

    // Image fields and unknown ones are ignored, as Slack does; the rest applies.
    let default_72 = read["image_72"].clone();
    let p = profile_of(&s.set_fields(
        "t-ada",
        json!({"image_72": "https://evil.example/x.png", "avatar_hash": "x",
               "is_custom_image": true, "skype": "ada", "favourite": "tea",
               "fields": {"Xf01": {"value": "v", "alt": ""}}, "title": "Poet"}),
    ));
    assert_eq!(
        (
            &p["image_72"],
            &p["is_custom_image"],
            &p["skype"],
            &p["title"]
        ),
        (&default_72, &json!(false), &json!(""), &json!("Poet"))
    );
    assert!(p.get("favourite").is_none());
}

#[test]
fn each_change_raises_the_zitadel_sequence_and_a_non_change_does_not() {
    let s = start("profile-sequence");
    let first = s.zitadel_sequence("t-ada", "U1");
    assert_eq!(s.set_fields("t-ada", json!({"title": "A"})).code(), "ok");
    // The same value again, an empty profile, unknown fields: nothing changes.
    assert_eq!(s.set_fields("t-ada", json!({"title": "A"})).code(), "ok");
    assert_eq!(s.set_fields("t-ada", json!({})).code(), "ok");
    assert_eq!(s.set_fields("t-ada", json!({"nope": "x"})).code(), "ok");
    let second = s.zitadel_sequence("t-ada", "U1");
    assert_eq!(second, first + 2, "one for the title, one for the delete");
    // A refused call changes nothing either.
    assert_eq!(
        s.set_fields("t-ada", json!({"title": "B", "status_text": ""}))
            .code(),
        "must_clear_both_status_text_and_status_emoji"
    );
    assert_eq!(profile_of(&s.profile("t-ada", None))["title"], "A");
    assert_eq!(s.zitadel_sequence("t-ada", "U1"), second + 1);
}

/// Every documented code, each from the smallest call that earns it; none of them
/// changes the profile.
#[test]
fn each_documented_error_of_profile_set_is_answered() {
    let s = start("profile-errors");
    let long = |n: usize| "x".repeat(n);
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("f{i}"), json!("v"))).collect();
    let long_name = format!("{{\"{}\": \"v\"}}", long(256));
    let profile = |v: Value| v.to_string();
    // (token, arguments, the code answered)
    type Case = (&'static str, Vec<(&'static str, String)>, &'static str);
    let cases: Vec<Case> = vec![
        // The argument forms.
        ("t-ada", vec![], "invalid_arguments"),
        (
            "t-ada",
            vec![
                ("profile", profile(json!({"title": "x"}))),
                ("name", "title".into()),
                ("value", "y".into()),
            ],
            "invalid_arguments",
        ),
        ("t-ada", vec![("name", "title".into())], "invalid_arguments"),
        // The profile's shape.
        (
            "t-ada",
            vec![("profile", "{title: 1".into())],
            "invalid_profile",
        ),
        ("t-ada", vec![("profile", "[1]".into())], "invalid_profile"),
        // Nested past serde_json's depth limit: refused, no stack overflow.
        (
            "t-ada",
            vec![("profile", "{\"a\":".repeat(3_000))],
            "invalid_profile",
        ),
        (
            "t-ada",
            vec![("profile", profile(Value::Object(many)))],
            "invalid_profile",
        ),
        ("t-ada", vec![("profile", long_name)], "invalid_profile"),
        (
            "t-ada",
            vec![("profile", profile(json!({"title": 7})))],
            "invalid_profile",
        ),
        // Whose profile, and who may change it.
        (
            "t-ada",
            vec![
                ("user", "U2".into()),
                ("name", "title".into()),
                ("value", "x".into()),
            ],
            "not_admin",
        ),
        (
            "t-ada",
            vec![("name", "email".into()), ("value", "ada@x.example".into())],
            "not_admin",
        ),
        (
            "t-admin",
            vec![("name", "email".into()), ("value", "me@x.example".into())],
            "not_admin",
        ),
        (
            "t-admin",
            vec![
                ("user", "U3".into()),
                ("name", "title".into()),
                ("value", "x".into()),
            ],
            "cannot_update_admin_user",
        ),
        (
            "t-admin",
            vec![
                ("user", "B1".into()),
                ("name", "title".into()),
                ("value", "x".into()),
            ],
            "not_app_admin",
        ),
        (
            "t-admin",
            vec![
                ("user", "U5".into()),
                ("name", "title".into()),
                ("value", "x".into()),
            ],
            "user_not_found",
        ),
        (
            "t-admin",
            vec![
                ("user", "U4".into()),
                ("name", "title".into()),
                ("value", "x".into()),
            ],
            "user_not_found",
        ),
        (
            "t-admin",
            vec![
                ("user", "U404".into()),
                ("name", "title".into()),
                ("value", "x".into()),
            ],
            "user_not_found",
        ),
        // The values.
        (
            "t-ada",
            vec![("name", "display_name".into()), ("value", "@ada".into())],
            "invalid_starts_with_at",
        ),
        (
            "t-ada",
            vec![
                ("name", "first_name".into()),
                ("value", "https://ada.example".into()),
            ],
            "name_not_allowed",
        ),
        (
            "t-ada",
            vec![("name", "last_name".into()), ("value", "slackbot".into())],
            "reserved_name",
        ),
        (
            "t-ada",
            vec![("name", "first_name".into()), ("value", long(36))],
            "too_long",
        ),
        (
            "t-ada",
            vec![("name", "status_text".into()), ("value", long(101))],
            "too_long",
        ),
        (
            "t-ada",
            vec![("name", "status_text".into()), ("value", "".into())],
            "must_clear_both_status_text_and_status_emoji",
        ),
        (
            "t-ada",
            vec![("name", "status_emoji".into()), ("value", "train".into())],
            "invalid_emoji_not_allowed",
        ),
        (
            "t-owner",
            vec![
                ("user", "U1".into()),
                ("name", "email".into()),
                ("value", "ada".into()),
            ],
            "invalid_email",
        ),
        // Who is calling.
        (
            "t-bot",
            vec![("name", "title".into()), ("value", "x".into())],
            "not_allowed_token_type",
        ),
        (
            "t-read",
            vec![("name", "title".into()), ("value", "x".into())],
            "missing_scope",
        ),
        (
            "t-gone",
            vec![("name", "title".into()), ("value", "x".into())],
            "account_inactive",
        ),
    ];
    let before: Vec<Value> = ["U1", "U2", "U3", "B1"]
        .iter()
        .map(|u| profile_of(&s.profile("t-admin", Some(u))))
        .collect();
    for (token, args, code) in &cases {
        let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = s.profile_set(token, &args);
        let shown: String = format!("{args:?}").chars().take(200).collect();
        let body = String::from_utf8_lossy(&r.body);
        assert_eq!(r.code(), *code, "{token} {shown}: {body}");
    }
    let after: Vec<Value> = ["U1", "U2", "U3", "B1"]
        .iter()
        .map(|u| profile_of(&s.profile("t-admin", Some(u))))
        .collect();
    assert_eq!(before, after, "a refused call changed a profile");

    // What the refusals above withheld, allowed: an admin changes a member, and an
    // email; the primary owner changes an admin and a bot user.
    let set = |token: &str, user: &str, name: &str, value: &str| {
        s.profile_set(token, &[("user", user), ("name", name), ("value", value)])
    };
    assert_eq!(
        profile_of(&set("t-admin", "U1", "title", "x"))["title"],
        "x"
    );
    let ada = profile_of(&set("t-admin", "U1", "email", "Ada@X.example"));
    assert_eq!(
        ada["email"], "Ada@X.example",
        "t-admin has users:read.email"
    );
    assert_eq!(
        profile_of(&set("t-owner", "U2", "title", "y"))["title"],
        "y"
    );
    assert_eq!(
        profile_of(&set("t-owner", "B1", "title", "z"))["title"],
        "z"
    );
    // An address another member of the team holds, in any case, is taken.
    assert_eq!(
        set("t-owner", "U2", "email", "ada@x.EXAMPLE").code(),
        "email_taken"
    );
    assert_eq!(
        set("t-owner", "U2", "email", "grace@x.example").code(),
        "ok"
    );
    // An admin editing their own profile is not editing another admin's.
    assert_eq!(set("t-admin", "U2", "title", "own").code(), "ok");
}

#[test]
fn a_status_whose_expiration_passed_reads_back_cleared() {
    let s = start("profile-expiry");
    let status = |at: u64| json!({"status_text": "in a meeting", "status_emoji": ":calendar:", "status_expiration": at});
    let past = profile_of(&s.set_fields("t-ada", status(now() - 10)));
    assert_eq!(
        (
            &past["status_text"],
            &past["status_emoji"],
            &past["status_expiration"]
        ),
        (&json!(""), &json!(""), &json!(0))
    );
    let soon = now() + 2;
    let set = profile_of(&s.set_fields("t-ada", status(soon)));
    assert_eq!(
        (&set["status_text"], &set["status_expiration"]),
        (&json!("in a meeting"), &json!(soon))
    );
    while now() <= soon {
        std::thread::sleep(Duration::from_millis(200));
    }
    let read = profile_of(&s.profile("t-ada", None));
    assert_eq!(
        (
            &read["status_text"],
            &read["status_emoji"],
            &read["status_expiration"]
        ),
        (&json!(""), &json!(""), &json!(0))
    );
    // Both cleared at once is how a status is cleared by hand.
    assert_eq!(s.set_fields("t-ada", status(0)).code(), "ok");
    let cleared = s.set_fields("t-ada", json!({"status_text": "", "status_emoji": ""}));
    assert_eq!(profile_of(&cleared)["status_text"], "");
}

/// The fields [`change_fields_at_once`] changes.
pub(super) const FIELDS: [&str; 6] = [
    "first_name",
    "last_name",
    "display_name",
    "title",
    "phone",
    "pronouns",
];

/// One client per field of [`FIELDS`], all at once, each setting its field of `t-ada`'s
/// profile to `<field>-<round>` for `rounds` rounds through `servers[client % len]`.
pub(super) fn change_fields_at_once(servers: &[Server], rounds: usize) {
    std::thread::scope(|scope| {
        for (i, field) in FIELDS.into_iter().enumerate() {
            let s = &servers[i % servers.len()];
            scope.spawn(move || {
                for round in 0..rounds {
                    let value = format!("{field}-{round}");
                    let r = s.profile_set("t-ada", &[("name", field), ("value", &value)]);
                    assert_eq!(r.code(), "ok", "{field}");
                }
            });
        }
    });
}

/// Clients changing different fields of one user at once: every change survives.
#[test]
fn concurrent_changes_of_different_fields_all_survive() {
    let s = [start("profile-concurrent")];
    change_fields_at_once(&s, 8);
    let p = profile_of(&s[0].profile("t-ada", None));
    for field in FIELDS {
        assert_eq!(p[field], format!("{field}-7"), "{p}");
    }
}

/// The state database cannot take the write (another process holds SQLite's write
/// lock past the busy timeout): `profile_set_failed`, and nothing half-written.
#[test]
fn a_write_the_database_refuses_is_profile_set_failed() {
    let data = scratch("profile-locked");
    let s = start_with(&data, CONFIG);
    assert_eq!(
        s.set_fields("t-ada", json!({"title": "before"})).code(),
        "ok"
    );
    let db = data.join("state.db");
    let mut holder = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             time.sleep(30)",
        ])
        .arg(&db)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let r = s.set_fields(
        "t-ada",
        json!({"title": "after", "first_name": "A", "last_name": "L"}),
    );
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(r.code(), "profile_set_failed");
    let p = profile_of(&s.profile("t-ada", None));
    assert_eq!(
        (&p["title"], &p["first_name"], &p["last_name"]),
        (&json!("before"), &json!("ada"), &json!(""))
    );
    // The lock gone, the same call goes through whole.
    let p = profile_of(&s.set_fields(
        "t-ada",
        json!({"title": "after", "first_name": "A", "last_name": "L"}),
    ));
    assert_eq!(p["real_name"], "A L");
}
