//! Nearest palette colour with a bounded cost per query, whatever the palette.
//!
//! RGB space is cut into 16³ cubes of 16 levels. A cube, built the first time a
//! colour falls in it, lists the palette colours that can be nearest to *some* point
//! inside it: those no further (at their closest) than the best entry's farthest
//! distance. A query scans only its cube's list, so the result is the exact nearest
//! (ties to the lower palette index), as a scan of the whole palette would give.
//!
//! A crafted palette can make many entries about equally near a whole region (255
//! colours on a sphere around mid grey, or sharing one channel value). A cube whose
//! list is longer than [`MAX_CANDIDATES`] is split into eight, and those again, down
//! to cubes of [`MIN_SIDE`] levels; there a longer list is cut to the
//! [`MAX_CANDIDATES`] entries nearest the cube's centre. Such a cube's answer may
//! then be up to the cube's diagonal (7 levels) further than the true nearest; no
//! palette quantised from a real picture comes near that, and the cost of a query is
//! at most a descent of three levels and [`MAX_CANDIDATES`] distances.

/// Most palette entries a query examines.
pub const MAX_CANDIDATES: usize = 24;

/// Side (in 8-bit levels) of the top-level cubes.
const TOP_SIDE: u8 = 16;

/// Side of the smallest cubes, below which a long list is cut instead of split.
pub const MIN_SIDE: u8 = 4;

/// A palette entry as a candidate: red, green, blue and its palette index.
type Entry = [u8; 4];

/// A cube: its candidates (`lists[start..start + len]`) and, if split, where its
/// eight children are found in `slots` (ordered by the red, green, blue halves as
/// bits 2, 1, 0).
#[derive(Clone, Copy)]
struct Node {
    start: u32,
    len: u32,
    /// [`LEAF`], or the index in `slots` of the first child.
    children: u32,
}

/// A node that is not split.
const LEAF: u32 = u32::MAX;

/// A cube whose node is not yet built, in `top` and in `slots`.
const UNBUILT: u32 = u32::MAX;

pub(crate) struct Nearest {
    /// Every palette entry: the candidates of a top-level cube are drawn from it.
    all: Vec<Entry>,
    /// Node index of each top-level cube, or [`UNBUILT`].
    top: Vec<u32>,
    /// Node index of each child of a split cube, or [`UNBUILT`].
    slots: Vec<u32>,
    nodes: Vec<Node>,
    /// The candidate lists of every node, one after another.
    lists: Vec<Entry>,
    /// Working space for a list being built.
    scratch: Vec<Entry>,
    /// Entries examined so far, for tests of the bound.
    #[cfg(test)]
    pub examined: u64,
}

/// Squared Euclidean distance between an entry's colour and `c`.
#[inline]
fn dist2(e: &Entry, c: [u8; 3]) -> u32 {
    (0..3).map(|k| u32::from(e[k].abs_diff(c[k])).pow(2)).sum()
}

impl Nearest {
    /// An index over `colours` (at most 256); cubes are built as queries reach them.
    pub fn new(colours: &[[u8; 3]]) -> Self {
        let cubes = (256 / usize::from(TOP_SIDE)).pow(3);
        Nearest {
            all: colours
                .iter()
                .zip(0..=u8::MAX)
                .map(|(c, i)| [c[0], c[1], c[2], i])
                .collect(),
            top: vec![UNBUILT; cubes],
            slots: Vec::new(),
            nodes: Vec::new(),
            lists: Vec::new(),
            scratch: Vec::new(),
            #[cfg(test)]
            examined: 0,
        }
    }

    /// The index of the palette colour nearest `c` (Euclidean; ties to the lower
    /// index); 0 for an empty palette.
    pub fn find(&mut self, c: [u8; 3]) -> u8 {
        if self.all.is_empty() {
            return 0;
        }
        let shift = TOP_SIDE.trailing_zeros();
        let per = 256 >> shift;
        let cube = (usize::from(c[0] >> shift) * per + usize::from(c[1] >> shift)) * per
            + usize::from(c[2] >> shift);
        let mut side = TOP_SIDE;
        let mut lo = c.map(|v| v & !(TOP_SIDE - 1));
        let mut node = self.top[cube];
        if node == UNBUILT {
            node = self.build(None, lo, side);
            self.top[cube] = node;
        }
        loop {
            let n = self.nodes[node as usize];
            if n.children == LEAF {
                return self.scan(n, c);
            }
            side /= 2;
            let half = c.map(|v| v & side != 0);
            for (l, h) in lo.iter_mut().zip(half) {
                *l += side * u8::from(h);
            }
            let octant =
                usize::from(half[0]) << 2 | usize::from(half[1]) << 1 | usize::from(half[2]);
            let slot = n.children as usize + octant;
            if self.slots[slot] == UNBUILT {
                self.slots[slot] = self.build(Some(n), lo, side);
            }
            node = self.slots[slot];
        }
    }

    fn scan(&mut self, n: Node, c: [u8; 3]) -> u8 {
        let list = &self.lists[n.start as usize..(n.start + n.len) as usize];
        #[cfg(test)]
        {
            self.examined += list.len() as u64;
        }
        // Distance (< 2^18) above the index: the least key is the nearest entry, ties
        // going to the lower index.
        let key = |e: &Entry| dist2(e, c) << 8 | u32::from(e[3]);
        list.iter().map(key).min().map_or(0, |k| k as u8)
    }

    /// Builds the node for the cube at `lo` of `side` levels, its candidates drawn from
    /// those of `parent` (a cube containing it) or, for a top-level cube, from the
    /// whole palette. Returns the node's index.
    fn build(&mut self, parent: Option<Node>, lo: [u8; 3], side: u8) -> u32 {
        let from = match parent {
            Some(p) => &self.lists[p.start as usize..(p.start + p.len) as usize],
            None => &self.all[..],
        };
        let hi = lo.map(|l| l + (side - 1));
        // Squared distances from an entry to the cube's nearest and farthest points.
        let near = |e: &Entry| -> u32 {
            (0..3)
                .map(|k| u32::from(lo[k].saturating_sub(e[k]) + e[k].saturating_sub(hi[k])).pow(2))
                .sum()
        };
        let far = |e: &Entry| -> u32 {
            (0..3)
                .map(|k| u32::from(e[k].abs_diff(lo[k]).max(e[k].abs_diff(hi[k]))).pow(2))
                .sum()
        };
        // No point of the cube is further than `bound` from its best entry, so an
        // entry whose nearest point is further can never be the answer.
        let bound = from.iter().map(far).min().unwrap_or(0);
        self.scratch.clear();
        self.scratch
            .extend(from.iter().filter(|e| near(e) <= bound));
        let len = self.scratch.len();
        let children = if len <= MAX_CANDIDATES {
            LEAF
        } else if side > MIN_SIDE {
            // Split: the children are built from this list when first reached.
            self.slots.extend([UNBUILT; 8]);
            (self.slots.len() - 8) as u32
        } else {
            // Smallest cube: keep the entries nearest its centre (doubled coordinates
            // keep the centre integral).
            let centre = lo.map(|l| 2 * u32::from(l) + u32::from(side) - 1);
            let d = |e: &Entry| -> (u32, u8) {
                let d = (0..3)
                    .map(|k| (2 * u32::from(e[k])).abs_diff(centre[k]).pow(2))
                    .sum();
                (d, e[3])
            };
            self.scratch.sort_unstable_by_key(d);
            self.scratch.truncate(MAX_CANDIDATES);
            LEAF
        };
        let start = self.lists.len() as u32;
        self.lists.extend_from_slice(&self.scratch);
        self.nodes.push(Node {
            start,
            len: self.scratch.len() as u32,
            children,
        });
        (self.nodes.len() - 1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic PRNG (xorshift32).
    struct Rng(u32);
    impl Rng {
        fn next(&mut self) -> u8 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            (self.0 >> 24) as u8
        }
    }

    fn brute(colours: &[[u8; 3]], c: [u8; 3]) -> (u32, u8) {
        colours
            .iter()
            .zip(0..=u8::MAX)
            .map(|(e, i)| (dist2(&[e[0], e[1], e[2], i], c), i))
            .min()
            .unwrap()
    }

    /// 255 colours about 110 levels from mid grey: near the centre every entry is
    /// about as near as any other.
    fn shell(rng: &mut Rng) -> Vec<[u8; 3]> {
        let mut v = Vec::new();
        while v.len() < 255 {
            let d = [0, 1, 2].map(|_| f32::from(rng.next()) - 127.5);
            let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            if len > 20.0 {
                v.push(d.map(|x| (128.0 + x / len * 110.0).round() as u8));
            }
        }
        v
    }

    #[test]
    fn ordinary_palettes_give_the_exact_nearest() {
        let mut rng = Rng(0x1234_5678);
        // Random, clustered (a dark photo's shades) and tiny palettes, with ties.
        let random: Vec<[u8; 3]> = (0..255)
            .map(|_| [rng.next(), rng.next(), rng.next()])
            .collect();
        let dark: Vec<[u8; 3]> = (0..255)
            .map(|_| [rng.next() / 6, rng.next() / 5 + 10, rng.next() / 4])
            .collect();
        let grid: Vec<[u8; 3]> = (0..216u32)
            .map(|i| {
                [
                    (i % 6 * 51) as u8,
                    (i / 6 % 6 * 51) as u8,
                    (i / 36 * 51) as u8,
                ]
            })
            .collect();
        let tied = vec![
            [10, 10, 10],
            [10, 10, 10],
            [200, 0, 0],
            [12, 10, 10],
            [8, 10, 10],
        ];
        for palette in [random, dark, grid, tied, vec![[7, 7, 7]]] {
            let mut n = Nearest::new(&palette);
            for _ in 0..20_000 {
                let c = [rng.next(), rng.next(), rng.next()];
                assert_eq!(n.find(c), brute(&palette, c).1, "{c:?}");
                // And near the palette's own colours, where clusters are dense.
                let e = palette[usize::from(rng.next()) % palette.len()];
                let c = e.map(|v| v.saturating_add(rng.next() % 9).saturating_sub(4));
                assert_eq!(n.find(c), brute(&palette, c).1, "{c:?}");
            }
        }
    }

    #[test]
    fn crafted_palettes_cost_at_most_max_candidates_per_query() {
        let mut rng = Rng(0x0BAD_CAFE);
        let one_green: Vec<[u8; 3]> = (0..255).map(|_| [rng.next(), 128, rng.next()]).collect();
        for palette in [shell(&mut rng), one_green] {
            let mut n = Nearest::new(&palette);
            let queries = 50_000u64;
            let mut worst_excess = 0f32;
            for _ in 0..queries {
                // Blends of the palette: near mid grey, or along the shared green.
                let c = [0, 1, 2].map(|k| {
                    if k == 1 && palette[0][1] == 128 {
                        128 + rng.next() % 8
                    } else {
                        108 + rng.next() % 40
                    }
                });
                let got = n.find(c);
                let e = palette[usize::from(got)];
                let d = dist2(&[e[0], e[1], e[2], got], c) as f32;
                let best = brute(&palette, c).0 as f32;
                worst_excess = worst_excess.max(d.sqrt() - best.sqrt());
            }
            assert!(n.examined <= queries * MAX_CANDIDATES as u64);
            assert!(worst_excess <= 27f32.sqrt() + 1e-3, "{worst_excess}");
        }
    }

    #[test]
    fn an_empty_palette_maps_to_zero() {
        assert_eq!(Nearest::new(&[]).find([1, 2, 3]), 0);
    }
}
