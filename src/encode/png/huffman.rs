//! Length-limited canonical Huffman codes for deflate (RFC 1951 §3.2.2).

/// Code lengths, at most `max_len` bits, for symbols with frequencies `freqs` (0 = the
/// symbol is not used and gets no code). The code is always complete: a lone used
/// symbol is paired with a dummy so strict inflaters (zlib refuses incomplete code-length
/// codes) accept it.
pub(in crate::encode) fn lengths(freqs: &[u32], max_len: usize) -> Vec<u8> {
    let mut out = vec![0u8; freqs.len()];
    // Leaves in ascending frequency (ties by symbol, so the result is deterministic).
    let mut leaves: Vec<(u32, usize)> = freqs
        .iter()
        .enumerate()
        .filter(|&(_, &f)| f > 0)
        .map(|(s, &f)| (f, s))
        .collect();
    if leaves.len() < 2 {
        let used = leaves.first().map_or(0, |&(_, s)| s);
        out[used] = 1;
        out[usize::from(used == 0)] = 1;
        return out;
    }
    leaves.sort_unstable();
    let n = leaves.len();

    // Huffman's construction with two queues: leaves in order, and internal nodes,
    // which are created in non-decreasing weight order.
    let mut weight: Vec<u64> = leaves.iter().map(|&(f, _)| u64::from(f)).collect();
    let mut parent = vec![0usize; 2 * n - 1];
    let (mut next_leaf, mut next_internal) = (0, n);
    for node in n..2 * n - 1 {
        let mut take = || {
            let leaf_first = next_leaf < n
                && (next_internal >= node || weight[next_leaf] <= weight[next_internal]);
            if leaf_first {
                next_leaf += 1;
                next_leaf - 1
            } else {
                next_internal += 1;
                next_internal - 1
            }
        };
        let (a, b) = (take(), take());
        weight.push(weight[a] + weight[b]);
        parent[a] = node;
        parent[b] = node;
    }
    let mut depth = vec![0usize; 2 * n - 1];
    for i in (0..2 * n - 2).rev() {
        depth[i] = depth[parent[i]] + 1;
    }

    // Codes per length, then limited as T.81 K.3's Adjust_BITS does: take two codes
    // from the longest length, give one back a length shorter, and split a shorter
    // leaf into two. The Kraft sum stays exactly 1.
    let mut count = vec![0usize; n.max(max_len) + 1];
    for &d in &depth[..n] {
        count[d] += 1;
    }
    for i in (max_len + 1..count.len()).rev() {
        while count[i] > 0 {
            let mut j = i - 2;
            while count[j] == 0 {
                j -= 1;
            }
            count[i] -= 2;
            count[i - 1] += 1;
            count[j + 1] += 2;
            count[j] -= 1;
        }
    }
    // The least frequent symbols get the longest codes.
    let mut leaves = leaves.iter();
    for len in (1..=max_len).rev() {
        for _ in 0..count[len] {
            let &(_, symbol) = leaves.next().expect("as many lengths as leaves");
            out[symbol] = len as u8;
        }
    }
    out
}

/// Canonical codes for `lengths`, bit-reversed for deflate's least-significant-first
/// bit order.
pub(super) fn codes(lengths: &[u8]) -> Vec<u16> {
    let mut count = [0u16; 16];
    for &l in lengths {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for len in 1..16 {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    lengths
        .iter()
        .map(|&l| {
            if l == 0 {
                return 0;
            }
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            c.reverse_bits() >> (16 - l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft(lengths: &[u8]) -> f64 {
        lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 0.5f64.powi(i32::from(l)))
            .sum()
    }

    #[test]
    fn complete_and_within_the_limit() {
        // Fibonacci frequencies make the deepest unlimited tree: 30 symbols would need
        // 29 bits.
        let mut fib = vec![1u32, 1];
        while fib.len() < 30 {
            fib.push(fib[fib.len() - 1] + fib[fib.len() - 2]);
        }
        for max in [7, 15] {
            let l = lengths(&fib, max);
            assert!(l.iter().all(|&l| (1..=max as u8).contains(&l)), "{l:?}");
            assert_eq!(kraft(&l), 1.0);
            // More frequent, never longer.
            assert!(l.windows(2).all(|w| w[0] >= w[1]), "{l:?}");
        }
        // Unlimited trees are plain Huffman: 1, 1, 2 → lengths 2, 2, 1.
        assert_eq!(lengths(&[1, 1, 2], 15), [2, 2, 1]);
    }

    #[test]
    fn one_or_no_symbol_still_gets_a_complete_code() {
        assert_eq!(lengths(&[0, 0, 5, 0], 15), [1, 0, 1, 0]);
        assert_eq!(lengths(&[9, 0, 0], 7), [1, 1, 0]);
        assert_eq!(lengths(&[0, 0], 7), [1, 1]);
    }

    #[test]
    fn canonical_codes_follow_rfc_1951() {
        // RFC 1951 §3.2.2's example: lengths (3, 3, 3, 3, 3, 2, 4, 4) give codes
        // 010 011 100 101 110 00 1110 1111, here bit-reversed.
        let c = codes(&[3, 3, 3, 3, 3, 2, 4, 4]);
        let want = [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        let lens = [3, 3, 3, 3, 3, 2, 4, 4];
        for i in 0..8 {
            assert_eq!(
                c[i],
                (want[i] as u16).reverse_bits() >> (16 - lens[i]),
                "{i}"
            );
        }
    }
}
