//! The server as a library: its router nested under `/avatar` in an app of the test's
//! own, served by `axum::serve`, driven over HTTP like the binary.

use std::net::SocketAddr;

use avatar_engine::server::{open_store, Config, Server, StateDb};

use super::{curl, image_urls, scratch, write_temp, CONFIG};
use crate::support::{decode, fixture};
use avatar_engine::Format;

/// Starts an app with a route of its own at `/` and the avatar server nested at
/// `/avatar`, over a file store in `dir`; returns the runtime (serving until
/// dropped) and the app's base URL.
fn start_nested(dir: &std::path::Path) -> (tokio::runtime::Runtime, String) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let data = dir.join("data");
    let base = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config::parse(CONFIG).unwrap();
        let store = open_store("file", Some(&data)).unwrap();
        let state = StateDb::open(&format!("sqlite://{}/state.db", data.display()))
            .await
            .unwrap();
        let avatars = Server::builder(config, store, state, format!("http://{addr}/avatar/"))
            .jobs(1)
            .queue(2)
            .build()
            .await
            .unwrap();
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "the host app" }))
            .nest("/avatar", avatars.router());
        tokio::spawn(async move {
            let service = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service).await.unwrap();
        });
        format!("http://{addr}")
    });
    (runtime, base)
}

#[test]
fn the_router_serves_nested_in_an_app_of_its_own() {
    let dir = scratch("library");
    let (_runtime, base) = start_nested(&dir);
    let photo = write_temp(&dir, "photo.jpg", &fixture("photo_landscape_800x600.jpg"));

    assert_eq!(curl(&[&base]).body, b"the host app");
    assert_eq!(curl(&[&format!("{base}/avatar/healthz")]).status, 200);
    // No recorder was handed to the builder: no /metrics route.
    assert_eq!(curl(&[&format!("{base}/avatar/metrics")]).status, 404);

    let set = curl(&[
        "-H",
        "Authorization: Bearer t-ada",
        "-F",
        &format!("image=@{photo};type=image/jpeg"),
        &format!("{base}/avatar/api/users.setPhoto"),
    ]);
    assert_eq!(set.code(), "ok", "{}", String::from_utf8_lossy(&set.body));
    let profile = curl(&[&format!("{base}/avatar/api/users.profile.get?token=t-ada")]);
    let urls = image_urls(&profile.json());
    assert_eq!(urls.len(), 8);
    for (size, url) in &urls {
        // The public URL's trailing slash is dropped, the mount point kept.
        assert!(
            url.starts_with(&format!("{base}/avatar/avatars/U1/")),
            "{url}"
        );
        let r = curl(&[url]);
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(
            decode(&r.body, Format::Jpeg).w,
            size.unwrap_or(800),
            "{url}"
        );
    }
    // Errors stay Slack's, under the mount point too.
    let unknown = curl(&[&format!("{base}/avatar/api/users.nothing?token=t-ada")]);
    assert_eq!(unknown.code(), "unknown_method");
}

#[test]
fn a_bad_config_names_its_key() {
    let err = Config::parse("[policy]\nmin_side = 2048\n").unwrap_err();
    assert!(err.to_string().contains("min_side"), "{err}");
    let err = Config::parse("[policy]\nfilter = \"bicubic\"\n").unwrap_err();
    assert!(err.to_string().contains("[policy] filter"), "{err}");
    let err = open_store("ftp://x", None).unwrap_err();
    assert!(err.to_string().contains("ftp://x"), "{err}");
}
