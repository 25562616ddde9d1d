//! All integration tests, built as one binary (faster to build on two cores).

mod support;

mod animation;
mod cancel;
#[cfg(feature = "cli")]
mod cli;
mod colour;
mod corpus;
mod formats;
#[cfg(feature = "image")]
mod image_feature;
mod metadata;
mod orientation;
mod passthrough;
mod pixels;
mod placement;
mod probed;
mod properties;
mod rejections;
#[cfg(feature = "server")]
mod server;
mod testdata;
