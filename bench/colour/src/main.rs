//! Converts one 1024² RGB picture from Display P3 to sRGB, 8 bits in and out, on one
//! thread, with moxcms, with the engine's own kernel (`src/colour/matrix_kernel.rs`,
//! used where the CPU has AVX-512 VBMI) and with three kernels that were tried on the
//! way and lost: prints the median of 31 runs per kernel in 3 interleaved rounds, and
//! each kernel's error against a float reference.
//!
//! Every kernel takes the same parsed profile pieces moxcms builds its own transform
//! from (the profile's 8-bit linearisation tables and its matrix to sRGB), so they
//! differ only in how the per-pixel work is done.

#[cfg(target_arch = "x86_64")]
mod avx512;
mod scalar_packed;

use std::time::Instant;

use moxcms::{ColorProfile, Layout, TransformOptions};

/// What every kernel is built from: the source profile's linearisation of each
/// channel (256 entries, 0..=1) and its matrix from linear source RGB to linear sRGB.
pub struct Pieces {
    pub lin: [[f32; 256]; 3],
    pub matrix: [[f32; 3]; 3],
}

/// The sRGB encoding of linear `v` (clamped to 0..=1), 0..=1.
pub fn srgb_encode(v: f64) -> f64 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.0031308 {
        12.92 * v
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..31)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[15]
}

fn main() {
    let pixels = 1024 * 1024;
    // Every byte value in every channel, in no order: the kernels' tables are small
    // enough that a photo's content does not change their cost.
    let mut state = 12345u32;
    let src: Vec<u8> = (0..pixels * 3)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 24) as u8
        })
        .collect();

    let p3 = ColorProfile::new_display_p3();
    let srgb = ColorProfile::new_srgb();
    let moxcms = p3
        .create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
        .expect("moxcms builds a Display P3 transform");
    let lin = [
        *p3.build_r_linearize_table::<u8, 256, 8>(false).unwrap(),
        *p3.build_g_linearize_table::<u8, 256, 8>(false).unwrap(),
        *p3.build_b_linearize_table::<u8, 256, 8>(false).unwrap(),
    ];
    let m = p3.transform_matrix(&srgb);
    let pieces = Pieces {
        lin,
        matrix: std::array::from_fn(|c| std::array::from_fn(|k| m.v[c][k] as f32)),
    };

    let packed = scalar_packed::Kernel::new(&pieces);
    type Run<'a> = Box<dyn Fn(&[u8], &mut [u8]) + 'a>;
    let mut kernels: Vec<(&str, Run)> = vec![
        (
            "moxcms 0.9.2 (8-bit, fixed point, AVX2)",
            Box::new(|s, d| moxcms.transform(s, d).unwrap()),
        ),
        ("scalar packed tables", Box::new(|s, d| packed.run(s, d))),
    ];
    #[cfg(target_arch = "x86_64")]
    let (gather, poly) = (
        avx512::gather::Kernel::new(&pieces),
        avx512::poly::Kernel::new(&pieces),
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vbmi")
    {
        // SAFETY: the CPU has AVX-512 F, BW and VBMI (checked above).
        kernels.push((
            "AVX-512 gathers",
            Box::new(move |s, d| unsafe { gather.run(s, d) }),
        ));
        kernels.push((
            "AVX-512 permutes + polynomial",
            Box::new(move |s, d| unsafe { poly.run(s, d) }),
        ));
    }
    if kernels.len() == 2 {
        println!("no AVX-512 VBMI here: its two kernels are left out");
    }
    match avatar_engine::stages::matrix_kernel(&p3) {
        Some(kernel) => kernels.push((
            "the engine's kernel (AVX-512 VBMI)",
            Box::new(move |s, d| assert_eq!(kernel(s, d), s.len())),
        )),
        None => println!("the engine's own kernel is not used on this CPU"),
    }

    let mut outputs = vec![vec![0u8; pixels * 3]; kernels.len()];
    let mut medians = vec![Vec::new(); kernels.len()];
    for _round in 0..3 {
        for (i, (_, run)) in kernels.iter().enumerate() {
            medians[i].push(median_ms(|| run(&src, &mut outputs[i])));
        }
    }

    println!("1024² Display P3 -> sRGB, one thread, median of 31 runs per round:");
    for (i, (name, _)) in kernels.iter().enumerate() {
        let rounds: Vec<String> = medians[i].iter().map(|ms| format!("{ms:.2}")).collect();
        let (worst, off) = against_float(&src, &outputs[i], &pieces);
        println!(
            "  {name:40} {} ms   worst {worst:.2} levels from float, {:.2}% not correctly rounded",
            rounds.join(" / "),
            off * 100.0
        );
    }
}

/// The worst distance of `out` from the float conversion of `src`, in output levels,
/// and the share of samples that are not the float result rounded.
fn against_float(src: &[u8], out: &[u8], pieces: &Pieces) -> (f64, f64) {
    let mut worst = 0f64;
    let mut off = 0usize;
    for (s, o) in src.chunks_exact(3).zip(out.chunks_exact(3)) {
        let lin: [f64; 3] = std::array::from_fn(|k| pieces.lin[k][s[k] as usize] as f64);
        for (m, &o) in pieces.matrix.iter().zip(o) {
            let linear = m[0] as f64 * lin[0] + m[1] as f64 * lin[1] + m[2] as f64 * lin[2];
            let exact = srgb_encode(linear) * 255.0;
            worst = worst.max((o as f64 - exact).abs());
            off += usize::from(o as f64 != exact.round());
        }
    }
    (worst, off as f64 / src.len() as f64)
}
