//! How compressible a file's corrections are: per block, the order-0
//! entropy of the integer units as stored, after a Lorenzo prediction, after
//! a cubic multilevel interpolation (SZ3's predictor), and after the
//! previous time step's units; then the bytes the file stores.
//!
//! `cargo run --release -p inr-core --example corrections_entropy -- FILE.inr`

use std::collections::HashMap;

use inr_core::corrections::Field;
use inr_core::decode::Decoder;

/// Bytes at the order-0 entropy of `v`.
fn entropy_bytes(v: &[i64]) -> f64 {
    let mut counts: HashMap<i64, u64> = HashMap::new();
    for &x in v {
        *counts.entry(x).or_default() += 1;
    }
    let n = v.len() as f64;
    let bits: f64 = counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    bits * n / 8.0
}

/// The units at every site of a `dims` lattice.
fn units(f: &Field, n: usize) -> Vec<i64> {
    match f {
        Field::Zero => vec![0; n],
        Field::Dense(k) => k.clone(),
        Field::Sparse(e) => {
            let mut k = vec![0; n];
            e.iter().for_each(|&(s, u)| k[s as usize] = u);
            k
        }
    }
}

/// Residuals of the 3-D Lorenzo predictor.
fn lorenzo(k: &[i64], [nx, ny, _]: [usize; 3]) -> Vec<i64> {
    (0..k.len())
        .map(|q| {
            let (i, j, l) = (q % nx, (q / nx) % ny, q / (nx * ny));
            let at = |di, dj, dl| {
                if i < di || j < dj || l < dl {
                    0
                } else {
                    k[q - di - nx * (dj + ny * dl)]
                }
            };
            k[q] - (at(1, 0, 0) + at(0, 1, 0) + at(0, 0, 1)
                - at(1, 1, 0)
                - at(1, 0, 1)
                - at(0, 1, 1)
                + at(1, 1, 1))
        })
        .collect()
}

/// Residuals of multilevel interpolation, coarse to fine: at each stride
/// `h`, along x, then y, then z, the sites halfway between known ones,
/// predicted by cubic (or linear, or nearest at borders) interpolation.
fn interpolation(k: &[i64], dims: [usize; 3]) -> Vec<i64> {
    let [nx, ny, nz] = dims;
    let index = |p: [usize; 3]| p[0] + nx * (p[1] + ny * p[2]);
    let mut out = vec![k[0]];
    let mut h = dims.iter().max().unwrap().next_power_of_two();
    while h >= 1 {
        for axis in 0..3 {
            if dims[axis] <= h {
                continue;
            }
            // Along `axis` the odd multiples of h; before it multiples of h, after it of 2h.
            let stride = |a: usize| if a < axis { h } else { 2 * h };
            let first = |a: usize| if a == axis { h } else { 0 };
            let mut p = [first(0), first(1), first(2)];
            while p[2] < nz {
                p[1] = first(1);
                while p[1] < ny {
                    p[0] = first(0);
                    while p[0] < nx {
                        let at = |o: isize| {
                            let c = p[axis] as isize + o * h as isize;
                            (c >= 0 && (c as usize) < dims[axis]).then(|| {
                                let mut q = p;
                                q[axis] = c as usize;
                                k[index(q)]
                            })
                        };
                        let predicted = match (at(-3), at(-1), at(1), at(3)) {
                            (Some(a), Some(b), Some(c), Some(d)) => {
                                (-a + 9 * b + 9 * c - d + 8).div_euclid(16)
                            }
                            (_, Some(b), Some(c), _) => (b + c + 1).div_euclid(2),
                            (_, Some(b), None, _) => b,
                            _ => 0,
                        };
                        out.push(k[index(p)] - predicted);
                        p[0] += if axis == 0 { 2 * h } else { stride(0) };
                    }
                    p[1] += if axis == 1 { 2 * h } else { stride(1) };
                }
                p[2] += if axis == 2 { 2 * h } else { stride(2) };
            }
        }
        h /= 2;
    }
    out
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: corrections_entropy FILE.inr");
        std::process::exit(2);
    };
    let d = Decoder::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let Some(c) = d.corrections() else {
        eprintln!("{path} has no corrections");
        std::process::exit(1);
    };
    let mut previous: HashMap<(usize, usize), Vec<i64>> = HashMap::new();
    let totals = &mut [0f64; 4];
    println!("step variable comp  sites  nonzero  units  lorenzo  interpolation  time-delta  (bytes at order-0 entropy)");
    for s in 0..c.meta.sections.len() {
        for v in 0..d.metadata().variables.len() {
            let dims = c.lattice(v);
            let n = dims.iter().product();
            let fields = c
                .fields(d.file(), s, v, 0)
                .unwrap_or_else(|e| panic!("{e}"));
            for (ci, f) in fields.iter().enumerate() {
                let k = units(f, n);
                let e = [
                    entropy_bytes(&k),
                    entropy_bytes(&lorenzo(&k, dims)),
                    entropy_bytes(&interpolation(&k, dims)),
                    previous.get(&(v, ci)).map_or(f64::NAN, |p| {
                        entropy_bytes(&k.iter().zip(p).map(|(a, b)| a - b).collect::<Vec<_>>())
                    }),
                ];
                for (t, x) in totals.iter_mut().zip(e) {
                    *t += if x.is_nan() { e[0] } else { x };
                }
                let nonzero = k.iter().filter(|&&u| u != 0).count();
                println!(
                    "{s:4} {v:8} {ci:4} {n:6} {nonzero:8} {:6.0} {:8.0} {:14.0} {:11.0}",
                    e[0], e[1], e[2], e[3]
                );
                previous.insert((v, ci), k);
            }
        }
    }
    let stored: u64 = (c.meta.sections.iter())
        .map(|&i| d.metadata().sections[i as usize].stored_length)
        .sum();
    println!(
        "total: units {:.0}, lorenzo {:.0}, interpolation {:.0}, time-delta {:.0}; stored {stored} bytes",
        totals[0], totals[1], totals[2], totals[3]
    );
}
