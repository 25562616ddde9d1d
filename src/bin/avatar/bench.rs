//! `avatar bench`: the full job on every image of a folder, outputs kept in memory.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use avatar_engine::{process, Policy, Upload};

use crate::json::Json;

/// What to measure.
pub struct Bench {
    pub dir: String,
    /// Timed jobs per input and per job in flight. Default 20.
    pub iterations: usize,
    /// Untimed jobs per input first (at least one is run, to check the input and
    /// count its output bytes). Default 3.
    pub warmup: usize,
    /// Threads in the engine's rayon pool. Default: all cores.
    pub threads: usize,
    /// Jobs run at once (each from its own thread, sharing the pool). Default 1.
    pub in_flight: usize,
    /// The policy every job runs under. Default: `Policy::default()`.
    pub policy: Policy,
}

pub fn run(b: &Bench) -> Result<Json, String> {
    let inputs = read_inputs(&b.dir)?;
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(b.threads)
            .build()
            .map_err(|e| format!("cannot start {} threads: {e}", b.threads))?,
    );
    let policy = Arc::new(b.policy.clone());
    let mut results = Vec::new();
    for (name, bytes) in &inputs {
        let job = {
            let (pool, policy, bytes) = (Arc::clone(&pool), Arc::clone(&policy), Arc::clone(bytes));
            // A refusal is timed too: what a rejected upload costs is part of the
            // measure (the adversarial GIFs of `examples/gif_bombs.rs`).
            move || -> Result<(f64, Result<usize, String>), String> {
                let start = Instant::now();
                let result = pool.install(|| process(&policy, &Upload::new(&bytes)));
                let ms = start.elapsed().as_secs_f64() * 1e3;
                match result {
                    Err(e) => Ok((ms, Err(e.code().to_string()))),
                    Ok(avatar) if avatar.renditions.len() != policy.sizes.len() => {
                        Err("wrong number of renditions".into())
                    }
                    Ok(avatar) => Ok((
                        ms,
                        Ok(avatar.renditions.iter().map(|r| r.bytes.len()).sum()),
                    )),
                }
            }
        };
        let mut outcome = Ok(0);
        for _ in 0..b.warmup.max(1) {
            outcome = job().map_err(|e| format!("{name}: {e}"))?.1;
        }
        let (mut times, wall) =
            timed_in_flight(b.in_flight, b.iterations, &job).map_err(|e| format!("{name}: {e}"))?;
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let mut fields = vec![
            ("input", Json::Str(name.clone())),
            ("ms_per_job", Json::Float(median)),
            ("jobs_per_s", Json::Float(times.len() as f64 / wall)),
            ("iters", Json::Num(times.len() as u64)),
        ];
        fields.push(match outcome {
            Ok(bytes) => ("output_bytes", Json::Num(bytes as u64)),
            Err(code) => ("rejected", Json::Str(code)),
        });
        results.push(Json::Obj(fields));
    }
    Ok(Json::Obj(vec![
        ("threads", Json::Num(b.threads as u64)),
        ("in_flight", Json::Num(b.in_flight as u64)),
        ("results", Json::Arr(results)),
        ("peak_rss_kb", Json::Num(peak_rss_kb())),
    ]))
}

/// An input file's name and bytes, shared by the threads that run it.
type Input = (String, Arc<Vec<u8>>);

/// The .jpg, .jpeg, .png and .gif files of `dir` (read whole), by name.
fn read_inputs(dir: &str) -> Result<Vec<Input>, String> {
    let mut inputs: Vec<Input> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {dir}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            matches!(ext.as_str(), "jpg" | "jpeg" | "png" | "gif")
        })
        .map(|p| {
            let bytes =
                std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Ok((file_name(&p), Arc::new(bytes)))
        })
        .collect::<Result<_, String>>()?;
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    if inputs.is_empty() {
        return Err(format!("no .jpg, .png or .gif files in {dir}"));
    }
    Ok(inputs)
}

/// Runs `job` `iterations` times on each of `in_flight` threads at once; every job's
/// milliseconds and the wall-clock seconds of the whole.
fn timed_in_flight(
    in_flight: usize,
    iterations: usize,
    job: &(impl Fn() -> Result<(f64, Result<usize, String>), String> + Sync),
) -> Result<(Vec<f64>, f64), String> {
    let start = Instant::now();
    let times: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..in_flight)
            .map(|_| {
                s.spawn(|| {
                    (0..iterations)
                        .map(|_| job().map(|(ms, _)| ms))
                        .collect::<Result<Vec<f64>, String>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a bench thread panicked".into()))
            })
            .collect::<Result<Vec<Vec<f64>>, String>>()
            .map(|v| v.concat())
    })?;
    let wall = start.elapsed().as_secs_f64();
    Ok((times, wall))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The process's peak resident set (VmHWM), in KiB; 0 where /proc is not available.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
