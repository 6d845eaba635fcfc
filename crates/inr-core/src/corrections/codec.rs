//! One block of corrections: the integer multiples of the step at every
//! site of one component of one variable (and view), in site order, stored
//! the smallest of three ways (format section 10.9).

use crate::error::{Error, Result};

/// Largest magnitude of a correction: its product with the step stays exact
/// in binary64.
pub const MAX_UNITS: i64 = 1 << 52;

/// How a block's payload is coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// Every site has zero: no payload.
    Zero = 0,
    /// One zigzag varint per site.
    Dense = 1,
    /// The count, the gaps between corrected sites, then their values.
    Sparse = 2,
    /// One zigzag varint per site of the residual of a Lorenzo prediction
    /// over the site lattice.
    Lorenzo = 3,
}

/// The corrections of one block, as the decoder applies them.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Zero,
    /// One value per site.
    Dense(Vec<i64>),
    /// (site, value) of the nonzero sites, sites increasing.
    Sparse(Vec<(u64, i64)>),
}

/// Appends the block of `units` (sites of a `dims` lattice, x fastest):
/// the coding whose zstd-compressed payload is smallest.
pub fn encode_block(units: &[i64], dims: [usize; 3], out: &mut Vec<u8>) {
    let nonzero = units.iter().filter(|&&u| u != 0).count();
    if nonzero == 0 {
        put_varint(out, Coding::Zero as u64);
        put_varint(out, 0);
        return;
    }
    let candidates = [
        (Coding::Dense, dense(units)),
        (Coding::Sparse, sparse(units, nonzero)),
        (Coding::Lorenzo, dense(&lorenzo_residuals(units, dims))),
    ];
    let packed = |b: &Vec<u8>| zstd::bulk::compress(b, 9).map_or(b.len(), |c| c.len());
    let (coding, payload) = candidates
        .into_iter()
        .min_by_key(|(_, b)| packed(b))
        .expect("three candidates");
    put_varint(out, coding as u64);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(&payload);
}

/// Skips one block at `*pos`.
pub fn skip_block(bytes: &[u8], pos: &mut usize) -> Result<()> {
    block_at(bytes, pos).map(|_| ())
}

/// Reads the block at `*pos` for `sites` sites of a `dims` lattice.
pub fn decode_block(bytes: &[u8], pos: &mut usize, dims: [usize; 3]) -> Result<Field> {
    let sites = dims.iter().product::<usize>();
    let (coding, payload) = block_at(bytes, pos)?;
    let field = match coding {
        Coding::Zero if payload.is_empty() => Field::Zero,
        Coding::Zero => return Err(invalid("a zero block with a payload")),
        Coding::Dense => Field::Dense(read_units(payload, sites)?),
        Coding::Lorenzo => Field::Dense(lorenzo_restore(read_units(payload, sites)?, dims)?),
        Coding::Sparse => Field::Sparse(read_sparse(payload, sites)?),
    };
    check_magnitudes(&field)?;
    Ok(field)
}

/// The coding and payload of the block at `*pos`; moves past it.
fn block_at<'a>(bytes: &'a [u8], pos: &mut usize) -> Result<(Coding, &'a [u8])> {
    let coding = match get_varint(bytes, pos)? {
        0 => Coding::Zero,
        1 => Coding::Dense,
        2 => Coding::Sparse,
        3 => Coding::Lorenzo,
        c => return Err(invalid(&format!("block coding {c}"))),
    };
    let len = get_varint(bytes, pos)?;
    let end = pos
        .checked_add(usize::try_from(len).unwrap_or(usize::MAX))
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| Error::Truncated("corrections: a block runs past its section".into()))?;
    let payload = &bytes[*pos..end];
    *pos = end;
    Ok((coding, payload))
}

fn dense(units: &[i64]) -> Vec<u8> {
    let mut b = Vec::with_capacity(units.len());
    for &u in units {
        put_varint(&mut b, zigzag(u));
    }
    b
}

fn sparse(units: &[i64], nonzero: usize) -> Vec<u8> {
    let mut b = Vec::new();
    put_varint(&mut b, nonzero as u64);
    let mut next = 0u64;
    for (site, _) in units.iter().enumerate().filter(|(_, &u)| u != 0) {
        put_varint(&mut b, site as u64 - next);
        next = site as u64 + 1;
    }
    for &u in units.iter().filter(|&&u| u != 0) {
        put_varint(&mut b, zigzag(u));
    }
    b
}

/// `units` less their Lorenzo prediction from the preceding neighbors
/// (missing neighbors count as zero).
fn lorenzo_residuals(units: &[i64], dims: [usize; 3]) -> Vec<i64> {
    (0..units.len())
        .map(|q| units[q].wrapping_sub(lorenzo_prediction(units, dims, q)))
        .collect()
}

/// Inverse of [`lorenzo_residuals`], in place.
fn lorenzo_restore(mut units: Vec<i64>, dims: [usize; 3]) -> Result<Vec<i64>> {
    for q in 0..units.len() {
        let p = lorenzo_prediction(&units, dims, q);
        units[q] = units[q].wrapping_add(p);
        if units[q].unsigned_abs() > MAX_UNITS as u64 {
            return Err(invalid("a correction beyond 2^52 steps"));
        }
    }
    Ok(units)
}

/// The 3-D Lorenzo predictor at site `q`: the inclusion-exclusion sum of
/// the seven neighbors that precede it.
fn lorenzo_prediction(units: &[i64], [nx, ny, _]: [usize; 3], q: usize) -> i64 {
    let (i, j, l) = (q % nx, (q / nx) % ny, q / (nx * ny));
    let at = |di: usize, dj: usize, dl: usize| -> i64 {
        if i < di || j < dj || l < dl {
            0
        } else {
            units[q - di - nx * (dj + ny * dl)]
        }
    };
    at(1, 0, 0)
        .wrapping_add(at(0, 1, 0))
        .wrapping_add(at(0, 0, 1))
        .wrapping_sub(at(1, 1, 0))
        .wrapping_sub(at(1, 0, 1))
        .wrapping_sub(at(0, 1, 1))
        .wrapping_add(at(1, 1, 1))
}

/// Exactly `sites` zigzag varints filling `payload`.
fn read_units(payload: &[u8], sites: usize) -> Result<Vec<i64>> {
    // A varint takes at least a byte: this bounds the allocation.
    if sites > payload.len() {
        return Err(Error::Shape(format!(
            "corrections: {sites} sites cannot fit in {} bytes",
            payload.len()
        )));
    }
    let mut pos = 0;
    let units = (0..sites)
        .map(|_| get_varint(payload, &mut pos).map(unzigzag))
        .collect::<Result<Vec<_>>>()?;
    ended(payload, pos)?;
    Ok(units)
}

fn read_sparse(payload: &[u8], sites: usize) -> Result<Vec<(u64, i64)>> {
    let mut pos = 0;
    let m = get_varint(payload, &mut pos)?;
    if m > payload.len() as u64 {
        return Err(Error::Shape(format!(
            "corrections: {m} sparse entries in {} bytes",
            payload.len()
        )));
    }
    let mut entries = Vec::with_capacity(m as usize);
    let mut next = 0u64;
    for _ in 0..m {
        let site = next.saturating_add(get_varint(payload, &mut pos)?);
        if site >= sites as u64 {
            return Err(Error::OutOfBounds(format!(
                "corrections: site {site} of {sites}"
            )));
        }
        entries.push((site, 0));
        next = site + 1;
    }
    for e in &mut entries {
        e.1 = unzigzag(get_varint(payload, &mut pos)?);
    }
    ended(payload, pos)?;
    Ok(entries)
}

fn check_magnitudes(field: &Field) -> Result<()> {
    let too_big = |u: &i64| u.unsigned_abs() > MAX_UNITS as u64;
    let bad = match field {
        Field::Zero => false,
        Field::Dense(v) => v.iter().any(too_big),
        Field::Sparse(v) => v.iter().any(|(_, u)| too_big(u)),
    };
    if bad {
        return Err(invalid("a correction beyond 2^52 steps"));
    }
    Ok(())
}

fn ended(payload: &[u8], pos: usize) -> Result<()> {
    if pos != payload.len() {
        return Err(Error::Shape(
            "corrections: bytes left after a block's values".into(),
        ));
    }
    Ok(())
}

fn invalid(what: &str) -> Error {
    Error::Invalid(format!("corrections: {what}"))
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Appends `v` as LEB128.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 value at `*pos`; moves past it.
pub fn get_varint(bytes: &[u8], pos: &mut usize) -> Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let &b = bytes
            .get(*pos)
            .ok_or_else(|| Error::Truncated("corrections: a varint ends early".into()))?;
        *pos += 1;
        if shift == 63 && b > 1 {
            break;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(invalid("a varint longer than 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(units: &[i64], dims: [usize; 3]) -> (Field, usize) {
        let mut b = vec![7u8];
        encode_block(units, dims, &mut b);
        let mut pos = 1;
        let f = decode_block(&b, &mut pos, dims).unwrap();
        assert_eq!(pos, b.len());
        (f, b.len())
    }

    fn expand(f: &Field, n: usize) -> Vec<i64> {
        match f {
            Field::Zero => vec![0; n],
            Field::Dense(v) => v.clone(),
            Field::Sparse(e) => {
                let mut v = vec![0; n];
                e.iter().for_each(|&(s, u)| v[s as usize] = u);
                v
            }
        }
    }

    #[test]
    fn every_coding_round_trips() {
        let dims = [7, 5, 3];
        let n = 105;
        let zeros = vec![0i64; n];
        assert_eq!(round_trip(&zeros, dims), (Field::Zero, 3));
        let mut few = zeros.clone();
        few[3] = -2;
        few[104] = MAX_UNITS;
        let (f, _) = round_trip(&few, dims);
        assert!(matches!(f, Field::Sparse(_)));
        assert_eq!(expand(&f, n), few);
        // A linear ramp is all zeros to Lorenzo but every site is nonzero.
        let ramp: Vec<i64> = (0..n as i64).map(|q| q % 7 + 3 * (q / 7 % 5) - 9).collect();
        let mut b = Vec::new();
        encode_block(&ramp, dims, &mut b);
        assert_eq!(b[0], Coding::Lorenzo as u8);
        assert_eq!(expand(&round_trip(&ramp, dims).0, n), ramp);
        let noise: Vec<i64> = (0..n as i64).map(|q| (q * 7919 % 13) - 6).collect();
        assert_eq!(expand(&round_trip(&noise, dims).0, n), noise);
    }

    #[test]
    fn hostile_blocks_are_refused() {
        let dims = [4, 1, 1];
        for bad in [
            &[9u8, 0][..],              // unknown coding
            &[1, 5, 0, 0][..],          // payload past the end
            &[1, 3, 0, 0, 0][..],       // 3 values for 4 sites
            &[2, 3, 1, 9, 2][..],       // sparse site 9 of 4
            &[0, 1, 0][..],             // zero block with a payload
            &[1, 5, 0, 0, 0, 0, 0][..], // a byte left over
        ] {
            assert!(decode_block(bad, &mut 0, dims).is_err(), "{bad:?}");
        }
        let mut huge = vec![1u8, 13];
        huge.extend([0xff; 9]);
        huge.push(0x01);
        huge.extend([0; 3]);
        assert!(decode_block(&huge, &mut 0, dims).is_err());
    }
}
