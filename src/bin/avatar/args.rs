//! Command-line parsing for `avatar`, with clap: `-h/--help` on every subcommand,
//! `-V/--version`, and every [`Policy`] field a flag whose default `--help` shows.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use avatar_engine::{CropBox, Filter, Policy};

use crate::bench::Bench;

/// Square avatar renditions from an uploaded photo: JPEG, PNG or GIF in, every size out.
#[derive(Parser)]
#[command(name = "avatar", version, propagate_version = true)]
#[command(
    after_help = "Exit status: 0 ok; 1 the image was rejected (JSON on stdout \
                        names the error); 2 usage or I/O error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What the user asked for.
#[derive(Subcommand)]
pub enum Command {
    /// Renders INPUT into DIR/SIZE.jpg or .png (posters as SIZE.still.jpg or .png) and
    /// prints one JSON object.
    Render(Render),
    /// Prints what INPUT's headers say (format, sides, frames, orientation, alpha) as
    /// one JSON object, without decoding it.
    Probe {
        /// The image file, or `-` for standard input.
        input: String,
    },
    /// Runs the whole job on every image in DIR (outputs kept in memory) and prints
    /// median ms per job, jobs per second and peak RSS as one JSON object.
    Bench(BenchArgs),
    /// Runs the reference upload server (Slack's users.setPhoto and friends).
    #[cfg(feature = "server")]
    Serve(crate::serve::Serve),
}

#[derive(Args)]
pub struct Render {
    /// The image file, or `-` for standard input.
    pub input: String,
    /// Directory to write the renditions into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A square crop box of the image as displayed: left, top, side in pixels.
    #[arg(long, value_name = "X,Y,W", value_parser = crop_box)]
    pub crop: Option<CropBox>,
    /// The Content-Type the upload came with; the bytes must agree with it.
    #[arg(long, value_name = "MIME")]
    pub content_type: Option<String>,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Directory of .jpg, .jpeg, .png and .gif files.
    pub dir: String,
    /// Timed jobs per input and per job in flight.
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Untimed jobs per input first (at least one is run).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub warmup: u64,
    /// Threads in the engine's pool [default: every core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub threads: Option<u64>,
    /// Jobs run at once, each from its own thread, sharing the pool.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub in_flight: u64,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

impl BenchArgs {
    pub fn bench(self) -> Bench {
        Bench {
            dir: self.dir,
            iterations: self.iterations as usize,
            warmup: self.warmup as usize,
            threads: self.threads.map_or_else(
                || std::thread::available_parallelism().map_or(1, |n| n.get()),
                |t| t as usize,
            ),
            in_flight: self.in_flight as usize,
            policy: self.policy.policy(),
        }
    }
}

/// Every field of [`Policy`], defaults from `Policy::default()`.
#[derive(Args)]
#[command(next_help_heading = "Policy")]
pub struct PolicyArgs {
    /// Smallest accepted side as displayed, px (smaller: too_small).
    #[arg(long, value_name = "PX", default_value_t = defaults().min_side)]
    pub min_side: u32,
    /// Largest accepted side as displayed, px (larger: too_large).
    #[arg(long, value_name = "PX", default_value_t = defaults().max_side)]
    pub max_side: u32,
    /// Most frames of an animated GIF (more: too_many_frames).
    #[arg(long, value_name = "N", default_value_t = defaults().max_frames)]
    pub max_frames: u32,
    /// Rendition sides, px, in output order.
    #[arg(
        long,
        value_name = "PX,...",
        value_delimiter = ',',
        default_value = "1024,512,192,72,48,32,24"
    )]
    pub sizes: Vec<u32>,
    /// JPEG quality of opaque renditions, 1-100.
    #[arg(long, value_name = "Q", default_value_t = defaults().jpeg_quality,
          value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// Largest accepted upload, bytes (more: too_large before any parsing).
    #[arg(long, value_name = "BYTES", default_value_t = defaults().max_input_bytes)]
    pub max_input_bytes: usize,
    /// Most memory one job may plan to hold for pixels, bytes (more: too_large).
    #[arg(long, value_name = "BYTES", default_value_t = defaults().max_alloc)]
    pub max_alloc: u64,
    /// Largest encoded rendition, bytes (more: too_large).
    #[arg(long, value_name = "BYTES", default_value_t = defaults().max_output_bytes)]
    pub max_output_bytes: usize,
    /// Letterbox colour of opaque renditions, sRGB hex (transparent ones get
    /// transparent bars).
    #[arg(long, value_name = "RRGGBB", default_value = "000000", value_parser = rgb)]
    pub background: [u8; 3],
    /// Resampling filter.
    #[arg(long, value_enum, default_value_t = FilterArg::Lanczos3)]
    pub filter: FilterArg,
    /// For an animated GIF, also write a still poster of the first frame at every
    /// size.
    #[arg(long, value_name = "BOOL", default_value_t = defaults().still_posters,
          action = clap::ArgAction::Set)]
    pub still_posters: bool,
    /// Keep an unchanged square baseline JPEG's own coded data (metadata removed) for
    /// the rendition of its own size, instead of re-encoding it.
    #[arg(long, value_name = "BOOL", default_value_t = defaults().jpeg_passthrough,
          action = clap::ArgAction::Set)]
    pub jpeg_passthrough: bool,
}

fn defaults() -> Policy {
    Policy::default()
}

impl PolicyArgs {
    pub fn policy(&self) -> Policy {
        let mut p = Policy::default();
        p.min_side = self.min_side;
        p.max_side = self.max_side;
        p.max_frames = self.max_frames;
        p.sizes = self.sizes.clone();
        p.jpeg_quality = self.quality;
        p.max_input_bytes = self.max_input_bytes;
        p.max_alloc = self.max_alloc;
        p.max_output_bytes = self.max_output_bytes;
        p.background = self.background;
        p.filter = self.filter.into();
        p.still_posters = self.still_posters;
        p.jpeg_passthrough = self.jpeg_passthrough;
        p
    }
}

/// [`Filter`] by its command-line name.
#[derive(Clone, Copy, ValueEnum)]
pub enum FilterArg {
    Lanczos3,
    CatmullRom,
    Mitchell,
    Box,
}

impl From<FilterArg> for Filter {
    fn from(f: FilterArg) -> Filter {
        match f {
            FilterArg::Lanczos3 => Filter::Lanczos3,
            FilterArg::CatmullRom => Filter::CatmullRom,
            FilterArg::Mitchell => Filter::Mitchell,
            FilterArg::Box => Filter::Box,
        }
    }
}

/// `X,Y,W`, three non-negative integers.
fn crop_box(v: &str) -> Result<CropBox, String> {
    let parts: Vec<u32> = v
        .split(',')
        .map(|p| p.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("expected X,Y,W (non-negative integers), got {v:?}"))?;
    let [x, y, w] = parts[..] else {
        return Err(format!("expected X,Y,W, got {v:?}"));
    };
    Ok(CropBox::new(x, y, w))
}

/// `RRGGBB` (a leading `#` allowed).
/// `RRGGBB` (or `#RRGGBB`) in hex as `[r, g, b]`.
pub fn rgb(v: &str) -> Result<[u8; 3], String> {
    let hex = v.strip_prefix('#').unwrap_or(v);
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
    };
    match (hex.len(), channel(0), channel(2), channel(4)) {
        (6, Some(r), Some(g), Some(b)) => Ok([r, g, b]),
        _ => Err(format!("expected RRGGBB in hex, got {v:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(s: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("avatar").chain(s.split_whitespace()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_every_render_flag() {
        let Ok(Cli {
            command: Command::Render(r),
        }) = parse(
            "render in.jpg --out d --crop 1,2,600 --content-type image/png --sizes 64,32 \
             --min-side 10 --max-side 99 --max-frames 3 --quality 70 --max-input-bytes 1000 \
             --max-alloc 2000 --max-output-bytes 3000 --background #ff8000 --filter mitchell \
             --still-posters false --jpeg-passthrough false",
        )
        else {
            panic!("did not parse");
        };
        assert_eq!(r.input, "in.jpg");
        assert_eq!(r.crop, Some(CropBox::new(1, 2, 600)));
        assert_eq!(r.content_type.as_deref(), Some("image/png"));
        let p = r.policy.policy();
        assert_eq!(
            (
                p.sizes,
                p.min_side,
                p.max_side,
                p.max_frames,
                p.jpeg_quality
            ),
            (vec![64, 32], 10, 99, 3, 70)
        );
        assert_eq!(
            (p.max_input_bytes, p.max_alloc, p.max_output_bytes),
            (1000, 2000, 3000)
        );
        assert_eq!(p.background, [255, 128, 0]);
        assert_eq!(p.filter, Filter::Mitchell);
        assert!(!p.still_posters && !p.jpeg_passthrough);
    }

    #[test]
    fn defaults_are_the_policy_defaults() {
        let Ok(Cli {
            command: Command::Render(r),
        }) = parse("render in.jpg --out d")
        else {
            panic!("did not parse");
        };
        assert_eq!(r.policy.policy(), Policy::default());
    }

    #[test]
    fn refuses_bad_usage() {
        for bad in [
            "",
            "render",
            "render a.jpg",
            "render a.jpg --out",
            "render a.jpg --out d --crop 1,2",
            "render a.jpg --out d --crop -1,2,3",
            "render a.jpg --out d --quality 300",
            "render a.jpg --out d --quality 0",
            "render a.jpg --out d --background red",
            "render a.jpg --out d --filter nearest",
            "render a.jpg --out d --still-posters maybe",
            "render a.jpg --out d --bogus 1",
            "render a.jpg b.jpg --out d",
            "bench d --iterations 0",
            "probe",
            "frobnicate",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }
}
