//! # avatar-engine
//!
//! Turns an uploaded profile photo into square avatar renditions, following Slack's
//! `users.setPhoto` contract: JPEG, PNG or GIF in; 512–1024 pixels a side; an optional
//! square crop box, otherwise letterboxed to a square; one rendition per size (by
//! default 1024, 512, 192, 72, 48, 32 and 24), JPEG when opaque and PNG when
//! transparent, with all metadata stripped.
//!
//! ```
//! use avatar_engine::{process, CropBox, Policy, Upload};
//!
//! let bytes = std::fs::read("testdata/photo_landscape_800x600.jpg")?;
//! let upload = Upload::new(&bytes)
//!     .with_content_type("image/jpeg")
//!     .with_crop(CropBox::new(100, 0, 600));
//! let avatar = process(&Policy::default(), &upload)?;
//! for r in &avatar.renditions {
//!     println!("{}x{} {} ({} bytes)", r.size, r.size, r.format, r.bytes.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Rejections carry Slack's wire codes:
//!
//! ```
//! let err = avatar_engine::process(&Default::default(), &avatar_engine::Upload::new(b"<svg/>"))
//!     .unwrap_err();
//! assert_eq!(err.code(), "bad_image");
//! assert_eq!(err.to_string(), "bad_image: not a JPEG, PNG or GIF (looks like SVG)");
//! ```
//!
//! The stages, in data-flow order, each in its own module: [`sniff()`] → [`probe()`]
//! (headers only) → policy checks → decode under limits → orient + crop/letterbox
//! ([`geometry`]) → resize every size in parallel → encode. See `DESIGN.md` for why.
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod alloc;
mod animate;
mod cancel;
mod canvas;
mod colour;
mod decode;
mod encode;
mod error;
mod exif;
pub mod geometry;
#[cfg(feature = "image")]
mod image_io;
mod orient;
mod passthrough;
mod pipeline;
mod policy;
mod probe;
mod resize;
#[cfg(feature = "server")]
pub mod server;
mod simd;
mod sniff;
#[cfg(feature = "benchmarks")]
pub mod stages;
mod upload;

/// The README's Rust examples run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use cancel::Cancel;
#[allow(deprecated)]
pub use error::{Error, ErrorKind, Limit, Rejection, RejectionKind};
#[cfg(feature = "image")]
pub use image_io::{process_image, render_image, render_images, ImageRendition};
pub use orient::Orientation;
pub use pipeline::{
    probe_upload, process, process_pixels, process_probed, Avatar, Probed, RawImage, Rendition,
};
pub use policy::{Filter, Policy, MAX_PASSTHROUGH_BITS_PER_PIXEL, MAX_RENDITION_SIDE};
pub use probe::{probe, SourceInfo};
pub use sniff::{check_content_type, sniff, Format};
pub use upload::{CropBox, Upload};
