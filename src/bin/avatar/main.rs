//! `avatar`: the engine from the command line. See `avatar --help`.

mod args;
mod bench;
mod json;
#[cfg(feature = "server")]
mod serve;

use std::fs;
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use avatar_engine::{probe, process, Avatar, Error, Rendition, SourceInfo, Upload};

use args::{Cli, Command, Render};
use clap::Parser;
use json::Json;

/// How a run ended: exit 0 (answered ok), 1 (rejected), or 2 (usage or I/O).
enum Outcome {
    Ok(Json),
    Rejected(Error),
    Usage(String),
    /// Finished with nothing more to print (the server after shutdown).
    #[cfg_attr(not(feature = "server"), allow(dead_code))]
    Done,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // `--help` and `--version` on stdout, exit 0; usage errors on stderr, exit 2.
        Err(e) => {
            if e.use_stderr() {
                eprint!("avatar: {}", e.render());
            } else {
                print!("{}", e.render());
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    // A panic is reported as JSON below, never as a backtrace on the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(|| run(cli.command))).unwrap_or_else(|_| {
        Outcome::Rejected(Error::new(
            avatar_engine::ErrorKind::Internal,
            "the avatar command panicked",
        ))
    });
    match outcome {
        Outcome::Ok(json) => {
            println!("{}", json.render());
            ExitCode::SUCCESS
        }
        Outcome::Rejected(r) => {
            let json = Json::Obj(vec![
                ("ok", Json::Bool(false)),
                ("error", Json::Str(r.code().into())),
                ("detail", Json::Str(r.detail().into())),
            ]);
            println!("{}", json.render());
            ExitCode::from(1)
        }
        Outcome::Done => ExitCode::SUCCESS,
        Outcome::Usage(msg) => {
            eprintln!("avatar: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Outcome {
    match command {
        Command::Probe { input } => {
            let limit = avatar_engine::Policy::default().max_input_bytes;
            match read_input(&input, limit) {
                Err(msg) => Outcome::Usage(msg),
                Ok(bytes) => match probe(&bytes) {
                    Ok(info) => Outcome::Ok(probe_json(&info)),
                    Err(r) => Outcome::Rejected(r),
                },
            }
        }
        Command::Render(r) => render(&r),
        Command::Bench(b) => match bench::run(&b.bench()) {
            Ok(json) => Outcome::Ok(json),
            Err(msg) => Outcome::Usage(msg),
        },
        #[cfg(feature = "server")]
        Command::Serve(s) => match serve::run(s) {
            Ok(()) => Outcome::Done,
            Err(msg) => Outcome::Usage(msg),
        },
    }
}

fn render(r: &Render) -> Outcome {
    let policy = r.policy.policy();
    let bytes = match read_input(&r.input, policy.max_input_bytes) {
        Ok(b) => b,
        Err(msg) => return Outcome::Usage(msg),
    };
    let mut upload = Upload::new(&bytes);
    upload.content_type = r.content_type.as_deref();
    upload.crop = r.crop;
    let avatar = match process(&policy, &upload) {
        Ok(a) => a,
        Err(rej) => return Outcome::Rejected(rej),
    };
    match write_renditions(&avatar, &r.out) {
        Ok(written) => Outcome::Ok(render_json(&avatar, &written)),
        Err(msg) => Outcome::Usage(msg),
    }
}

/// Reads a file or standard input (`-`), at most `limit + 1` bytes so an oversized
/// input is refused by the engine without being held whole.
fn read_input(input: &str, limit: usize) -> Result<Vec<u8>, String> {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut bytes = Vec::new();
    let result = if input == "-" {
        io::stdin().lock().take(cap).read_to_end(&mut bytes)
    } else {
        fs::File::open(input).and_then(|f| f.take(cap).read_to_end(&mut bytes))
    };
    result.map_err(|e| format!("cannot read {input}: {e}"))?;
    Ok(bytes)
}

/// Written files: one per rendition, then one per still poster.
struct Written {
    renditions: Vec<PathBuf>,
    posters: Vec<PathBuf>,
}

/// Writes every rendition as `DIR/<size>.<ext>` and every poster as
/// `DIR/<size>.still.<ext>`, each through a temporary file and a rename, so a reader
/// never sees a half-written file.
fn write_renditions(avatar: &Avatar, dir: &Path) -> Result<Written, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(Written {
        renditions: write_all(&avatar.renditions, dir, "")?,
        posters: write_all(&avatar.posters, dir, ".still")?,
    })
}

fn write_all(renditions: &[Rendition], dir: &Path, infix: &str) -> Result<Vec<PathBuf>, String> {
    renditions
        .iter()
        .map(|r| {
            let path = dir.join(format!("{}{infix}.{}", r.size, r.format.extension()));
            let tmp = dir.join(format!(".{}.{}.tmp", r.size, std::process::id()));
            let write = || -> io::Result<()> {
                let mut f = fs::File::create(&tmp)?;
                f.write_all(&r.bytes)?;
                f.sync_all()?;
                fs::rename(&tmp, &path)
            };
            write().map_err(|e| {
                let _ = fs::remove_file(&tmp);
                format!("cannot write {}: {e}", path.display())
            })?;
            Ok(path)
        })
        .collect()
}

fn source_fields(info: &SourceInfo) -> Vec<(&'static str, Json)> {
    vec![
        ("format", Json::Str(info.format.name().into())),
        ("width", Json::Num(info.width.into())),
        ("height", Json::Num(info.height.into())),
        ("frames", Json::Num(info.frames.into())),
    ]
}

fn probe_json(info: &SourceInfo) -> Json {
    let mut fields = vec![("ok", Json::Bool(true))];
    fields.extend(source_fields(info));
    fields.extend([
        ("stored_width", Json::Num(info.stored_width.into())),
        ("stored_height", Json::Num(info.stored_height.into())),
        (
            "orientation",
            Json::Num(info.orientation.exif_value().into()),
        ),
        ("has_alpha", Json::Bool(info.has_alpha)),
    ]);
    Json::Obj(fields)
}

fn renditions_json(renditions: &[Rendition], paths: &[PathBuf]) -> Json {
    Json::Arr(
        renditions
            .iter()
            .zip(paths)
            .map(|(r, p)| {
                Json::Obj(vec![
                    ("size", Json::Num(r.size.into())),
                    ("format", Json::Str(r.format.name().into())),
                    ("frames", Json::Num(r.frames.into())),
                    ("path", Json::Str(p.display().to_string())),
                    ("bytes", Json::Num(r.bytes.len() as u64)),
                ])
            })
            .collect(),
    )
}

fn render_json(avatar: &Avatar, written: &Written) -> Json {
    let mut fields = vec![
        ("ok", Json::Bool(true)),
        ("source", Json::Obj(source_fields(&avatar.source))),
        ("animated", Json::Bool(avatar.is_animated())),
        (
            "renditions",
            renditions_json(&avatar.renditions, &written.renditions),
        ),
    ];
    if !avatar.posters.is_empty() {
        fields.push((
            "posters",
            renditions_json(&avatar.posters, &written.posters),
        ));
    }
    Json::Obj(fields)
}
