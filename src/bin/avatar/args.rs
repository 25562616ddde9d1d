//! Command-line parsing for `avatar`, by hand: a handful of flags do not need clap.

use std::path::PathBuf;

use avatar_engine::{CropBox, Policy};

use crate::bench::Bench;

pub const USAGE: &str = "\
usage:
  avatar render INPUT --out DIR [--crop X,Y,W] [--content-type MIME]
                [--sizes 1024,512,...] [--min-side N] [--max-side N]
                [--max-frames N] [--quality Q]
  avatar probe INPUT
  avatar bench DIR [--iterations N] [--warmup N] [--threads N] [--in-flight N]
  avatar serve --config FILE [--listen 127.0.0.1:8080] [--data DIR]
               [--store file|memory|s3://BUCKET] [--public-url URL]
               [--jobs N] [--queue N] [--max-buffered MiB]
               [--header-timeout SECS] [--max-connections N]
               [--log-level off|error|warn|info|debug]
               (only in a build with --features server)

INPUT '-' reads standard input. render writes DIR/<size>.<ext> and prints one JSON
object; exit 0 ok, 1 rejected (JSON names the error), 2 usage or I/O error.
bench runs the whole job on every image in DIR (outputs kept in memory) and prints
median ms per job, jobs per second and peak RSS as one JSON object. Defaults:
--iterations 20 --warmup 3 --threads <cores> --in-flight 1.";

/// What the user asked for.
pub enum Command {
    Render(Render),
    Probe {
        input: String,
    },
    Bench(Bench),
    #[cfg(feature = "server")]
    Serve(crate::serve::Serve),
    Help,
}

pub struct Render {
    pub input: String,
    pub out: PathBuf,
    pub crop: Option<CropBox>,
    pub content_type: Option<String>,
    pub policy: Policy,
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    let (cmd, rest) = args.split_first().ok_or("no command given")?;
    match cmd.as_str() {
        "render" => parse_render(rest).map(Command::Render),
        "probe" => match rest {
            [input] => Ok(Command::Probe {
                input: input.clone(),
            }),
            _ => Err("probe takes exactly one INPUT".into()),
        },
        "bench" => parse_bench(rest).map(Command::Bench),
        #[cfg(feature = "server")]
        "serve" => crate::serve::parse(rest).map(Command::Serve),
        #[cfg(not(feature = "server"))]
        "serve" => Err("this avatar was built without the server: \
                        cargo build --release --features server"
            .into()),
        "-h" | "--help" | "help" => Ok(Command::Help),
        other => Err(format!("unknown command {other:?}")),
    }
}

fn parse_render(args: &[String]) -> Result<Render, String> {
    let mut input = None;
    let mut out = None;
    let mut crop = None;
    let mut content_type = None;
    let mut policy = Policy::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--crop" => {
                let v = value("--crop")?;
                let parts = number_list::<u32>("--crop", &v)?;
                let [x, y, w] = parts[..] else {
                    return Err(format!("--crop takes X,Y,W, got {v:?}"));
                };
                crop = Some(CropBox { x, y, w });
            }
            "--content-type" => content_type = Some(value("--content-type")?),
            "--sizes" => policy.sizes = number_list("--sizes", &value("--sizes")?)?,
            "--min-side" => policy.min_side = number("--min-side", &value("--min-side")?)?,
            "--max-side" => policy.max_side = number("--max-side", &value("--max-side")?)?,
            "--max-frames" => policy.max_frames = number("--max-frames", &value("--max-frames")?)?,
            "--quality" => policy.jpeg_quality = number("--quality", &value("--quality")?)?,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ if input.is_none() => input = Some(arg.clone()),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    Ok(Render {
        input: input.ok_or("render needs an INPUT")?,
        out: out.ok_or("render needs --out DIR")?,
        crop,
        content_type,
        policy,
    })
}

fn parse_bench(args: &[String]) -> Result<Bench, String> {
    let mut b = Bench {
        dir: String::new(),
        iterations: 20,
        warmup: 3,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        in_flight: 1,
    };
    let mut dir = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--iterations" => b.iterations = number("--iterations", &value("--iterations")?)?,
            "--warmup" => b.warmup = number("--warmup", &value("--warmup")?)?,
            "--threads" => b.threads = number("--threads", &value("--threads")?)?,
            "--in-flight" => b.in_flight = number("--in-flight", &value("--in-flight")?)?,
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}")),
            _ if dir.is_none() => dir = Some(arg.clone()),
            extra => return Err(format!("unexpected argument {extra:?}")),
        }
    }
    if b.iterations == 0 || b.threads == 0 || b.in_flight == 0 {
        return Err("--iterations, --threads and --in-flight must be at least 1".into());
    }
    b.dir = dir.ok_or("bench needs a DIR")?;
    Ok(b)
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag}: {v:?} is not a valid number"))
}

fn number_list<T: std::str::FromStr>(flag: &str, v: &str) -> Result<Vec<T>, String> {
    v.split(',').map(|p| number(flag, p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_every_render_flag() {
        let Ok(Command::Render(r)) = parse(&args(
            "render in.jpg --out d --crop 1,2,600 --content-type image/png --sizes 64,32 \
             --min-side 10 --max-side 99 --max-frames 3 --quality 70",
        )) else {
            panic!("did not parse");
        };
        assert_eq!(r.input, "in.jpg");
        assert_eq!(r.crop, Some(CropBox { x: 1, y: 2, w: 600 }));
        assert_eq!(r.content_type.as_deref(), Some("image/png"));
        let p = r.policy;
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
            "render a.jpg --out d --bogus 1",
            "render a.jpg b.jpg --out d",
            "probe",
            "frobnicate",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?} parsed");
        }
    }
}
