//! The NeRVI encoder: the libtorch network and the pure-Rust decoder agree on
//! the written file; a small Cinema database of a moving disc is learned
//! (better than its mean image), reported and written as a file that
//! decodes; databases that are not a full product of times and views are
//! refused.

use std::path::Path;
use std::time::Duration;

use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use inr_core::decode::{DecodeOptions, Decoder, ImageRequest};
use inr_encode::cinema::Collection;
use inr_encode::nervi::data::ImageSet;
use inr_encode::nervi::net::{quantize, NerviNet};
use inr_encode::nervi::{self, file, NerviOptions, NerviShape};
use inr_encode::Size;

/// libtorch's generator and thread count belong to the process: tests that
/// train take turns.
fn libtorch() -> std::sync::MutexGuard<'static, ()> {
    static LIBTORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LIBTORCH.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(2);
    guard
}

/// A disc at azimuth `theta` (degrees) around the centre, its color set by
/// `phi`, its radius by `t`, on a transparent background: RGBA8.
fn disc(size: usize, t: f64, theta: f64, phi: f64) -> Vec<u8> {
    let (s, a) = (size as f64, theta.to_radians());
    let (cx, cy) = (s / 2.0 + s / 4.0 * a.cos(), s / 2.0 + s / 4.0 * a.sin());
    let r = s / 8.0 * (1.0 + 0.5 * t);
    let mut px = vec![0u8; size * size * 4];
    for y in 0..size {
        for x in 0..size {
            let d = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt();
            if d < r {
                let p = &mut px[(y * size + x) * 4..][..4];
                let shade = 1.0 - 0.5 * d / r;
                p.copy_from_slice(&[
                    (255.0 * shade * (0.5 + phi / 90.0)) as u8,
                    (200.0 * shade) as u8,
                    (255.0 * (0.5 - phi / 90.0)) as u8,
                    255,
                ]);
            }
        }
    }
    px
}

/// (t, theta, phi) of 2 steps x 8 azimuths x 2 elevations.
fn sweep() -> Vec<[f64; 3]> {
    let mut v = Vec::new();
    for t in [0.0, 1.0] {
        for i in 0..8 {
            for phi in [-30.0, 30.0] {
                v.push([t, -180.0 + 45.0 * i as f64, phi]);
            }
        }
    }
    v
}

fn collection(size: usize) -> Collection {
    let views = sweep();
    Collection {
        parameters: vec!["time".into(), "theta".into(), "phi".into()],
        width: size,
        height: size,
        pixels: views.iter().map(|v| disc(size, v[0], v[1], v[2])).collect(),
        views: views.iter().map(|v| v.to_vec()).collect(),
    }
}

fn write_png(path: &Path, size: usize, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), size as u32, size as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(data).unwrap();
}

/// The sweep as a Cinema database in `dir`, rows in a shuffled order.
fn database(dir: &Path, size: usize) {
    let mut csv = String::from("phi,time,theta,FILE\n");
    let views = sweep();
    for i in (0..views.len()).rev() {
        let [t, theta, phi] = views[i];
        let name = format!("image/{i}.png");
        write_png(&dir.join(&name), size, &disc(size, t, theta, phi));
        csv += &format!("{phi},{t},{theta},{name}\n");
    }
    std::fs::write(dir.join("data.csv"), csv).unwrap();
}

#[test]
fn the_network_and_the_decoder_agree_on_the_written_file() {
    let _lt = libtorch();
    tch::manual_seed(3);
    let set = ImageSet::new(&collection(16), Device::Cpu).unwrap();
    assert_eq!(
        (set.times.clone(), set.parameters.clone()),
        (vec![0.0, 1.0], vec!["theta".to_string(), "phi".into()])
    );
    assert_eq!(set.views.len(), 16);
    let shape = NerviShape::new([16, 16], 3, 2, 8, 8).unwrap();
    let vs = VarStore::new(Device::Cpu);
    let net = NerviNet::new(&vs, shape);
    quantize(&vs, 9);
    let model = net
        .export(set.input_scale.clone(), set.input_shift.clone())
        .unwrap();
    let bytes = file::write(&set, model, &NerviOptions::default()).unwrap();
    let d = Decoder::from_bytes(bytes).unwrap();
    let out = tch::no_grad(|| (net.forward(&set.inputs) + 1.0) * 0.5);
    let mut worst: f64 = 0.0;
    for s in 0..2 {
        for (v, view) in set.views.iter().enumerate() {
            let req = ImageRequest {
                time: Some(set.times[s]),
                view: view.clone(),
                variables: vec![0, 1],
            };
            let img = d.decode_image(&req, &DecodeOptions::default()).unwrap();
            let want = out.get((s * 16 + v) as i64); // [4, H, W]
            let want = Vec::<f32>::try_from(want.permute([1, 2, 0]).contiguous().view(-1)).unwrap();
            for p in 0..256 {
                for c in 0..3 {
                    worst =
                        worst.max((img.arrays[0].values[p * 3 + c] - want[p * 4 + c]).abs() as f64);
                }
                worst = worst.max((img.arrays[1].values[p] - want[p * 4 + 3]).abs() as f64);
            }
        }
    }
    assert!(worst < 1e-4, "decoder vs libtorch: {worst}");
}

#[test]
fn a_moving_disc_is_learned_and_written() {
    let _lt = libtorch();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("disc.cdb");
    database(&db, 32);
    let opts = NerviOptions {
        size: Size::Width(32),
        mlp_width: 32,
        levels: 3,
        lr: 5e-4,
        steps: 2000,
        patience: 0,
        max_time: Some(Duration::from_secs(90)),
        ..Default::default()
    };
    let mut steps = 0;
    let report = nervi::encode(&db, &opts, &mut |p| steps = p.step).unwrap();
    assert!(steps > 0);
    assert_eq!((report.images, report.size), (32, [32, 32]));
    assert_eq!(report.raw_bytes, 32 * 32 * 32 * 4);
    // The mean composite over all images is the baseline to beat.
    let set = ImageSet::new(&collection(32), Device::Cpu).unwrap();
    let all = Tensor::arange(32, (Kind::Int64, Device::Cpu));
    let (color, _) = set.targets(&all, [1.0; 3]);
    let mean = color.mean_dim([0i64].as_slice(), true, Kind::Float);
    let mse = (&color - mean)
        .square()
        .mean(Kind::Double)
        .double_value(&[]);
    let baseline = 10.0 * (1.0 / mse).log10();
    let q = report.file;
    println!(
        "file {q:?}, network {:?}, mean image {baseline:.2} dB, {} steps",
        report.network, report.train.steps
    );
    assert!(
        q.psnr > baseline + 3.0,
        "PSNR {} vs the mean image's {baseline}",
        q.psnr
    );
    assert!(q.ssim > 0.5 && q.ssim <= 1.0, "SSIM {}", q.ssim);
    assert!(
        (q.psnr - report.network.psnr).abs() < 1.5,
        "quantization cost {} -> {}",
        report.network.psnr,
        q.psnr
    );
    let d = Decoder::from_bytes(report.bytes).unwrap();
    let set = d.image_set().unwrap();
    assert_eq!((set.width, set.height, set.view_count()), (32, 32, 16));
    assert_eq!(d.metadata().time.as_ref().unwrap().values, [0.0, 1.0]);
}

#[test]
fn databases_that_are_not_a_product_of_times_and_views_are_refused() {
    let mut c = collection(8);
    c.views.pop();
    c.pixels.pop();
    let e = ImageSet::new(&c, Device::Cpu).err().unwrap();
    assert!(e.to_string().contains("not every combination"), "{e}");
    let mut c = collection(8);
    c.views[1] = c.views[0].clone();
    let e = ImageSet::new(&c, Device::Cpu).err().unwrap();
    assert!(e.to_string().contains("two images"), "{e}");
    let mut c = collection(8);
    c.parameters = vec!["time".into()];
    c.views = c.views.iter().map(|v| vec![v[0]]).collect();
    let e = ImageSet::new(&c, Device::Cpu).err().unwrap();
    assert!(e.to_string().contains("no view parameter"), "{e}");
    let tmp = tempfile::tempdir().unwrap();
    let bad = NerviOptions {
        background: [2.0, 0.0, 0.0],
        ..Default::default()
    };
    let e = nervi::encode(tmp.path(), &bad, &mut |_| ()).err().unwrap();
    assert!(e.to_string().contains("background"), "{e}");
}

#[test]
fn an_error_bounded_file_holds_every_stored_pixel_within_the_bound() {
    let _lt = libtorch();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("disc.cdb");
    database(&db, 16);
    let bound = 0.02;
    let opts = NerviOptions {
        size: Size::Width(8),
        mlp_width: 8,
        levels: 2,
        steps: 20,
        patience: 0,
        bound: Some(inr_encode::bound::ErrorBound::Absolute(bound)),
        ..Default::default()
    };
    let report = nervi::encode(&db, &opts, &mut |_| {}).unwrap();
    let c = report.corrections.clone().unwrap();
    assert!(c.network_error > bound, "the network alone met the bound");
    assert!(c.corrected > 0 && c.file_error <= bound);
    // Independently: every stored pixel against the rendered images.
    let d = Decoder::from_bytes(report.bytes).unwrap();
    // The database's order of parameters (phi, theta), as the file's.
    let c = inr_encode::cinema::read(&db, inr_encode::cinema::MAX_PIXEL_BYTES).unwrap();
    let set = ImageSet::new(&c, Device::Cpu).unwrap();
    assert_eq!(d.image_set().unwrap().view(3), &set.views[3][..]);
    assert_eq!(
        d.metadata().corrections.as_ref().unwrap().bound,
        [vec![bound; 3], vec![bound]]
    );
    let mut worst: f64 = 0.0;
    for s in 0..2 {
        for (v, view) in set.views.iter().enumerate() {
            let req = ImageRequest {
                time: Some(set.times[s]),
                view: view.clone(),
                variables: vec![0, 1],
            };
            let img = d.decode_image(&req, &DecodeOptions::default()).unwrap();
            let index = Tensor::from_slice(&[(s * 16 + v) as i64]);
            let (color, mask) = set.targets(&index, [1.0; 3]);
            let color =
                Vec::<f32>::try_from(color.squeeze().permute([1, 2, 0]).contiguous().view(-1))
                    .unwrap();
            let mask = Vec::<f32>::try_from(mask.contiguous().view(-1)).unwrap();
            for p in 0..256 {
                for k in 0..3 {
                    let e = (img.arrays[0].values[p * 3 + k] - color[p * 3 + k]).abs();
                    worst = worst.max(e as f64);
                }
                worst = worst.max((img.arrays[1].values[p] - mask[p]).abs() as f64);
            }
        }
    }
    assert!(
        worst <= bound * (1.0 + 1e-5),
        "largest error {worst} > {bound}"
    );
}
