//! Decoding files of rendered images (the `images` domain, NeRVI): one whole
//! image per time and view, at any parameter values between the stored
//! ones, as float variables or one composited RGBA picture.

use crate::decode::parallel::DecodeOptions;
use crate::decode::{DecodedArray, Decoder};
use crate::error::{Error, Result};
use crate::format::{Association, Domain, InrFile};
use crate::model::nervi::Nervi;

/// The stored collection of an `images` file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageSet {
    pub width: usize,
    pub height: usize,
    /// View parameter names, e.g. `["theta", "phi"]`.
    pub parameters: Vec<String>,
    /// The stored views, `parameters.len()` values each.
    pub views: Vec<f64>,
    /// Per parameter, the `[min, max]` of the stored views: requests are
    /// clamped to it (networks extrapolate poorly).
    pub ranges: Vec<[f64; 2]>,
}

impl ImageSet {
    /// Reads and checks the collection of an `images` file (`None` for
    /// other domains).
    pub(crate) fn read(file: &InrFile) -> Result<Option<ImageSet>> {
        let Domain::Images {
            width,
            height,
            views,
            parameters,
        } = &file.metadata().domain
        else {
            return Ok(None);
        };
        let p = parameters.len();
        if p == 0 || views.count == 0 || views.count % p as u64 != 0 {
            return Err(Error::Invalid(format!(
                "{} view values for {p} parameters (at least one view of one value each)",
                views.count
            )));
        }
        let values = views.read_f64(&file.read_section(views.section)?)?;
        if values.iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid("non-finite view parameter".into()));
        }
        let ranges = (0..p)
            .map(|i| {
                let column = values.iter().skip(i).step_by(p);
                let lo = column.clone().fold(f64::INFINITY, |a, &b| a.min(b));
                [lo, column.fold(f64::NEG_INFINITY, |a, &b| a.max(b))]
            })
            .collect();
        Ok(Some(ImageSet {
            width: *width as usize,
            height: *height as usize,
            parameters: parameters.clone(),
            views: values,
            ranges,
        }))
    }

    /// Number of stored views.
    pub fn view_count(&self) -> usize {
        self.views.len() / self.parameters.len()
    }

    /// Stored view `v`.
    pub fn view(&self, v: usize) -> &[f64] {
        let p = self.parameters.len();
        &self.views[v * p..(v + 1) * p]
    }
}

/// What image to decode.
#[derive(Clone, Debug, Default)]
pub struct ImageRequest {
    /// Time; `None`: the first step.
    pub time: Option<f64>,
    /// One value per view parameter, in the file's order; clamped to the
    /// stored range of each.
    pub view: Vec<f64>,
    /// Variable indices; empty: all variables.
    pub variables: Vec<usize>,
}

/// A decoded image: `height` rows of `width` pixels, the top row first.
#[derive(Clone, Debug)]
pub struct DecodedImage {
    pub width: usize,
    pub height: usize,
    /// Per variable, pixel after pixel, components interleaved, physical units.
    pub arrays: Vec<DecodedArray>,
}

impl Decoder {
    /// The stored collection of an `images` file.
    pub fn image_set(&self) -> Option<&ImageSet> {
        self.images.as_ref()
    }

    /// The collection and its model, or why this file has none.
    fn images_model(&self) -> Result<(&ImageSet, &Nervi)> {
        match (self.images.as_ref(), self.model.get::<Nervi>()) {
            (Some(set), Some(model)) => Ok((set, model)),
            _ => Err(Error::Unsupported(format!(
                "this {} file holds a field, not images: decode points or grids",
                self.metadata().domain.kind_name()
            ))),
        }
    }

    /// The network's inputs `(t, p_1 .. p_P)` for a request: time as
    /// [`Decoder::effective_time`], each view parameter clamped.
    pub fn image_inputs(&self, time: Option<f64>, view: &[f64]) -> Result<Vec<f64>> {
        let (set, _) = self.images_model()?;
        if view.len() != set.parameters.len() || view.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "a view needs {} finite values ({}), got {view:?}",
                set.parameters.len(),
                set.parameters.join(", ")
            )));
        }
        let mut c = Vec::with_capacity(view.len() + 1);
        if self.metadata().time.is_some() {
            c.push(self.effective_time(time)?);
        }
        c.extend(
            view.iter()
                .zip(&set.ranges)
                .map(|(v, r)| v.clamp(r[0], r[1])),
        );
        Ok(c)
    }

    /// Decodes one image for the variables of `req`.
    pub fn decode_image(
        &self,
        req: &ImageRequest,
        options: &DecodeOptions,
    ) -> Result<DecodedImage> {
        let (set, model) = self.images_model()?;
        let c = self.image_inputs(req.time, &req.view)?;
        let variables = self.requested(&req.variables)?;
        let pixels = set.width * set.height;
        let fixes = self.image_fixes(set, &c, &variables, options)?;
        let channels = model.eval(&c, options)?;
        let meta = self.metadata();
        let mut arrays: Vec<DecodedArray> = variables
            .iter()
            .map(|&v| {
                let var = &meta.variables[v];
                let first: usize = meta.variables[..v]
                    .iter()
                    .map(|w| w.components as usize)
                    .sum();
                let n = var.components as usize;
                let mut values = vec![0.0f32; pixels * n];
                for (c, r) in var.range.iter().enumerate() {
                    let (half, mid) = (0.5 * (r[1] - r[0]), 0.5 * (r[0] + r[1]));
                    let plane = &channels[(first + c) * pixels..][..pixels];
                    for (p, &y) in plane.iter().enumerate() {
                        values[p * n + c] = (y as f64 * half + mid) as f32;
                    }
                }
                DecodedArray {
                    variable: v,
                    name: var.name.clone(),
                    components: n,
                    association: Association::Point,
                    values,
                }
            })
            .collect();
        let mut outs: Vec<&mut [f32]> = arrays.iter_mut().map(|a| &mut a.values[..]).collect();
        fixes.apply(&mut outs);
        Ok(DecodedImage {
            width: set.width,
            height: set.height,
            arrays,
        })
    }

    /// The corrections of an image at network inputs `c`: those of the
    /// stored view it is, at a stored time.
    fn image_fixes(
        &self,
        set: &ImageSet,
        c: &[f64],
        variables: &[usize],
        options: &DecodeOptions,
    ) -> Result<super::correct::Fixes<'static>> {
        let timed = self.metadata().time.is_some();
        let t = if timed { c[0] } else { 0.0 };
        let params = &c[usize::from(timed)..];
        let Some(view) = (0..set.view_count()).find(|&v| set.view(v) == params) else {
            return Ok(Default::default());
        };
        let len = set.width * set.height;
        let map = move |_| Some(super::correct::SiteMap::Range { start: 0, len });
        self.fixes(t, view, variables, options, &map)
    }

    /// The file's composite (section 10.6) as 8-bit RGBA, the top row first:
    /// `mask × color + (1 - mask) × background`, each clamped to [0, 1],
    /// alpha 255; a one-component color is gray.
    pub fn decode_rgba(
        &self,
        time: Option<f64>,
        view: &[f64],
        options: &DecodeOptions,
    ) -> Result<Vec<u8>> {
        let (_, model) = self.images_model()?;
        let Some(comp) = &model.composite else {
            return Err(Error::Unsupported(
                "this file names no composite (color, mask): decode its variables".into(),
            ));
        };
        let req = ImageRequest {
            time,
            view: view.to_vec(),
            variables: vec![comp.color, comp.mask],
        };
        let img = self.decode_image(&req, options)?;
        let (color, mask) = (&img.arrays[0], &img.arrays[1]);
        let n = color.components;
        let mut rgba = vec![255u8; img.width * img.height * 4];
        for (p, px) in rgba.chunks_exact_mut(4).enumerate() {
            let m = mask.values[p].clamp(0.0, 1.0);
            for (c, dst) in px[..3].iter_mut().enumerate() {
                let (k, bg) = if n == 1 {
                    (0, comp.background[0])
                } else {
                    (c, comp.background[c])
                };
                let v =
                    m * color.values[p * n + k].clamp(0.0, 1.0) + (1.0 - m) * bg.clamp(0.0, 1.0);
                *dst = (v * 255.0).round() as u8;
            }
        }
        Ok(rgba)
    }
}
