//! The coordinates of a rectilinear domain, read from their sections when a
//! decode needs them (docs/format.md, sections 8.2 and 13, step 8).

use crate::error::{Error, Result};
use crate::format::metadata::Domain;
use crate::format::reader::InrFile;
use crate::format::tensor::slice;

impl InrFile {
    /// The x, y and z coordinates of a rectilinear domain, checked finite and
    /// strictly increasing; `None` for other domains.
    pub fn rectilinear_axes(&self) -> Result<Option<[Vec<f64>; 3]>> {
        let Domain::Rectilinear { x, y, z, .. } = &self.metadata().domain else {
            return Ok(None);
        };
        let mut axes: [Vec<f64>; 3] = Default::default();
        for (a, r) in [x, y, z].into_iter().enumerate() {
            // The metadata's validation made these f64 with one per point.
            let bytes = self.read_section(r.section)?;
            let raw = slice(&bytes, r.offset, r.count * 8, "rectilinear coordinates")?;
            axes[a] = raw
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            if axes[a].iter().any(|v| !v.is_finite()) || axes[a].windows(2).any(|w| w[0] >= w[1]) {
                return Err(Error::Invalid(format!(
                    "rectilinear axis {a} is not finite and strictly increasing"
                )));
            }
        }
        Ok(Some(axes))
    }
}
