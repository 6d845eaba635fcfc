//! Reading Cinema databases (NeRVI's training data): a database written here
//! with real PNG files reads back exactly; bad indexes, paths and images are
//! refused with a message that names the problem.

use std::path::Path;

use inr_encode::cinema::{read, MAX_PIXEL_BYTES};

fn write_png(path: &Path, w: u32, h: u32, color: png::ColorType, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(data).unwrap();
}

/// An RGBA image whose pixels depend on `seed`.
fn rgba(w: usize, h: usize, seed: u8) -> Vec<u8> {
    (0..w * h * 4)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

fn database(dir: &Path, csv: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("data.csv"), csv).unwrap();
}

#[test]
fn a_database_reads_back_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("sweep.cdb");
    let (w, h) = (5, 3);
    write_png(
        &db.join("image/a.png"),
        5,
        3,
        png::ColorType::Rgba,
        &rgba(w, h, 1),
    );
    write_png(
        &db.join("image/b.png"),
        5,
        3,
        png::ColorType::Rgba,
        &rgba(w, h, 2),
    );
    let rgb: Vec<u8> = (0..w * h * 3).map(|i| i as u8).collect();
    write_png(&db.join("image/c.png"), 5, 3, png::ColorType::Rgb, &rgb);
    let gray: Vec<u8> = (0..w * h).map(|i| 10 * i as u8).collect();
    write_png(&db.join("d.png"), 5, 3, png::ColorType::Grayscale, &gray);
    database(
        &db,
        "time,iso,theta,phi,FILE\n\
         2.0,20,-180,-45,image/a.png\n\
         2.0,40,-180,-45,image/b.png\n\
         5.0,20,-60,45.5,image/c.png\n\
         5.0,40,-60,45.5,d.png\n",
    );
    let c = read(&db, MAX_PIXEL_BYTES).unwrap();
    assert_eq!(c.parameters, ["time", "iso", "theta", "phi"]);
    assert_eq!((c.width, c.height), (5, 3));
    assert_eq!(c.views[2], [5.0, 20.0, -60.0, 45.5]);
    assert_eq!(c.pixels[0], rgba(w, h, 1));
    assert_eq!(c.pixels[1], rgba(w, h, 2));
    // RGB gets an opaque alpha; gray is copied to every color channel.
    let want: Vec<u8> = rgb
        .chunks(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    assert_eq!(c.pixels[2], want);
    let want: Vec<u8> = gray.iter().flat_map(|&g| [g, g, g, 255]).collect();
    assert_eq!(c.pixels[3], want);
}

/// The error message of reading a database with this index and one good
/// 4 x 4 image `ok.png`.
fn refusal(csv: &str, max_bytes: u64) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("bad.cdb");
    write_png(
        &db.join("ok.png"),
        4,
        4,
        png::ColorType::Rgba,
        &rgba(4, 4, 0),
    );
    write_png(
        &db.join("small.png"),
        2,
        4,
        png::ColorType::Rgba,
        &rgba(2, 4, 0),
    );
    std::fs::write(db.join("junk.png"), b"\x89PNG\r\n\x1a\nthis is no PNG").unwrap();
    std::fs::write(tmp.path().join("outside.png"), b"").unwrap();
    database(&db, csv);
    match read(&db, max_bytes) {
        Ok(c) => panic!("read {} images from {csv:?}", c.pixels.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_databases_are_refused_with_the_reason() {
    let cases: &[(&str, &str)] = &[
        ("time,theta\n1,2\n", "no FILE column"),
        ("FILE\nok.png\n", "no parameter column"),
        ("theta,FILE\n", "lists no image"),
        (
            "theta,FILE\nx,ok.png\n",
            "row 2: theta = \"x\" is not a finite number",
        ),
        ("theta,FILE\nNaN,ok.png\n", "not a finite number"),
        (
            "theta,FILE\n1,ok.png\n1,ok.png\n",
            "row 3: the same parameters as an earlier row",
        ),
        (
            "theta,FILE\n1,../outside.png\n",
            "is not a path inside the database",
        ),
        (
            "theta,FILE\n1,/etc/passwd\n",
            "is not a path inside the database",
        ),
        ("theta,FILE\n1,missing.png\n", "missing.png"),
        (
            "theta,FILE\n1,ok.png\n2,small.png\n",
            "2 x 4, not 4 x 4 as the first image",
        ),
        ("theta,FILE\n1,junk.png\n", "not a readable PNG"),
        ("theta,FILE\n1,ok.png,extra\n", "data.csv"),
    ];
    for (csv, want) in cases {
        let got = refusal(csv, MAX_PIXEL_BYTES);
        assert!(got.contains(want), "{csv:?}: {got:?} does not say {want:?}");
    }
    // Two 4 x 4 RGBA images are 128 bytes of pixels.
    let got = refusal("theta,FILE\n1,ok.png\n2,ok.png\n", 127);
    assert!(got.contains("need 128 bytes of pixels, above 127"), "{got}");
}

#[test]
fn a_missing_database_says_which_file() {
    let tmp = tempfile::tempdir().unwrap();
    let err = read(&tmp.path().join("none.cdb"), MAX_PIXEL_BYTES).unwrap_err();
    assert!(err.to_string().contains("none.cdb/data.csv"), "{err}");
}
