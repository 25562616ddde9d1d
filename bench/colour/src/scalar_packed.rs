//! One table load per input channel gives that channel's contribution to all three
//! outputs (three 21-bit fixed-point fields of a u64, biased to stay non-negative), so
//! the matrix is two additions; each output field then indexes an encode table that
//! already holds the bias and the clamp.

use crate::{srgb_encode, Pieces};

/// Linear light in the fields: 1.0 = `Q`.
const Q: f64 = 4096.0;
const FIELD: u32 = 21;
const MASK: u64 = (1 << FIELD) - 1;

pub struct Kernel {
    columns: Box<[[u64; 256]; 3]>,
    encode: [Vec<u8>; 3],
}

impl Kernel {
    pub fn new(p: &Pieces) -> Kernel {
        let mut bias = [[0i64; 3]; 3];
        let mut top = [0i64; 3];
        for ((row, bias), top) in p.matrix.iter().zip(&mut bias).zip(&mut top) {
            for (m, bias) in row.iter().zip(bias) {
                let scaled = (*m as f64 * Q).round() as i64;
                *bias = (-scaled).max(0);
                *top += scaled.max(0) + *bias;
            }
        }
        let mut columns = Box::new([[0u64; 256]; 3]);
        for (k, column) in columns.iter_mut().enumerate() {
            for (entry, lin) in column.iter_mut().zip(p.lin[k]) {
                for (c, (row, bias)) in p.matrix.iter().zip(&bias).enumerate() {
                    let field = (row[k] as f64 * lin as f64 * Q).round() as i64 + bias[k];
                    assert!((0..1 << FIELD).contains(&field), "a field overflows");
                    *entry |= (field as u64) << (FIELD * c as u32);
                }
            }
        }
        let encode = std::array::from_fn(|c| {
            let b: i64 = bias[c].iter().sum();
            (0..=top[c] + 2)
                .map(|i| (srgb_encode((i - b) as f64 / Q) * 255.0).round() as u8)
                .collect()
        });
        Kernel { columns, encode }
    }

    pub fn run(&self, src: &[u8], dst: &mut [u8]) {
        let [c0, c1, c2] = &*self.columns;
        let [e0, e1, e2] = &self.encode;
        for (s, d) in src.chunks_exact(3).zip(dst.chunks_exact_mut(3)) {
            let sum = c0[s[0] as usize] + c1[s[1] as usize] + c2[s[2] as usize];
            d[0] = e0[((sum & MASK) as usize).min(e0.len() - 1)];
            d[1] = e1[(((sum >> FIELD) & MASK) as usize).min(e1.len() - 1)];
            d[2] = e2[((sum >> (2 * FIELD)) as usize).min(e2.len() - 1)];
        }
    }
}
