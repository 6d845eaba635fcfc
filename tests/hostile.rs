//! Hostile input: every truncation and every single-byte change of a small
//! valid file, checksum-correct fuzzing of the metadata and the sections, and
//! crafted files whose checksums pass so that the limits and the validation
//! are what is tested. The reader must answer each with an error (or, where
//! the change hits bytes no checksum covers, with the very same decode) and
//! never panic, hang or allocate what the file only declares.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use inr::decode::{DecodeOptions, Decoder, GridRequest, ImageRequest};
use inr::format::header::HEADER_LEN;
use inr::format::{Compression, FileBuilder, Header, InrFile, Metadata, WeightEncoding};
use inr::Error;
use inr_testkit::synthetic::SyntheticSpec;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// files

/// The small file: 3 variables (5 components), time axis, width 8, one block.
fn spec() -> SyntheticSpec {
    let mut s = SyntheticSpec::small(1);
    s.width = 8;
    s.blocks = 1;
    s
}

/// The small file with compressed (as the synthetic builder writes) or plain metadata.
fn small_file(compress_metadata: bool) -> Vec<u8> {
    let spec = spec();
    let (model, bytes) = spec.build().unwrap();
    if compress_metadata {
        return bytes;
    }
    let metadata = InrFile::from_bytes(bytes).unwrap().metadata().clone();
    let mut b = FileBuilder::new();
    b.compress_metadata = false;
    let s = b.new_section("weights", Compression::Zstd);
    let model_value = model.write(&mut b, s, spec.encoding).unwrap();
    b.to_bytes(Metadata {
        model: model_value,
        ..metadata
    })
    .unwrap()
}

type Decoded = Vec<Vec<u32>>;

/// A small grid decode of all variables, as bits; for an images file, the
/// image of its first stored view.
fn decode(d: &Decoder) -> inr::Result<Decoded> {
    let options = DecodeOptions {
        threads: 1,
        ..Default::default()
    };
    if let Some(set) = d.image_set() {
        let req = ImageRequest {
            view: set.view(0).to_vec(),
            ..Default::default()
        };
        let img = d.decode_image(&req, &options)?;
        return Ok(bits(&img.arrays));
    }
    let req = GridRequest {
        dims: Some([3, 3, 3]),
        ..Default::default()
    };
    let g = d.decode_grid(
        &req,
        &DecodeOptions {
            threads: 1,
            ..Default::default()
        },
    )?;
    Ok(bits(&g.arrays))
}

fn bits(arrays: &[inr::decode::DecodedArray]) -> Decoded {
    (arrays.iter())
        .map(|a| a.values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn reference(bytes: &[u8]) -> Decoded {
    decode(&Decoder::from_bytes(bytes.to_vec()).unwrap()).unwrap()
}

/// The error variant's name, from its Debug form.
fn kind(e: &Error) -> String {
    let d = format!("{e:?}");
    d.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------------------
// the mutation harness

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Rejected,
    SameDecode,
    /// Opened and decoded to something else (allowed only where the checksums
    /// were recomputed, i.e. the change is a different valid file).
    OtherDecode,
}

/// Opens and decodes `bytes`, catching panics. `Err` describes a violation.
fn try_case(
    open: impl FnOnce() -> inr::Result<Decoder>,
    reference: &Decoded,
    must_match: bool,
) -> Result<Outcome, String> {
    let r = catch_unwind(AssertUnwindSafe(|| -> Result<Outcome, String> {
        match open() {
            Err(e) => {
                if e.to_string().trim().is_empty() {
                    return Err(format!("empty error message for {e:?}"));
                }
                Ok(Outcome::Rejected)
            }
            Ok(d) => match decode(&d) {
                Ok(got) if got == *reference => Ok(Outcome::SameDecode),
                Ok(_) if !must_match => Ok(Outcome::OtherDecode),
                Ok(_) => Err("opened, but decodes to other values".into()),
                Err(e) if !must_match => {
                    if e.to_string().trim().is_empty() {
                        return Err(format!("empty error message for {e:?}"));
                    }
                    Ok(Outcome::Rejected)
                }
                Err(e) => Err(format!("opened, but the decode fails: {e}")),
            },
        }
    }));
    match r {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("PANIC: {msg}"))
        }
    }
}

#[derive(Default)]
struct Tally {
    rejected: usize,
    same: usize,
    other: usize,
    failures: Vec<String>,
}

impl Tally {
    fn add(&mut self, label: impl FnOnce() -> String, r: Result<Outcome, String>) {
        match r {
            Ok(Outcome::Rejected) => self.rejected += 1,
            Ok(Outcome::SameDecode) => self.same += 1,
            Ok(Outcome::OtherDecode) => self.other += 1,
            Err(e) => self.failures.push(format!("{}: {e}", label())),
        }
    }

    fn check(&self, what: &str) {
        println!(
            "{what}: {} rejected, {} same decode, {} other decode",
            self.rejected, self.same, self.other
        );
        assert!(
            self.failures.is_empty(),
            "{what}: {} failures, first ones:\n{}",
            self.failures.len(),
            self.failures
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

fn mutate_every_byte(bytes: &[u8], what: &str) {
    let reference = reference(bytes);
    let start = Instant::now();
    let mut tally = Tally::default();
    for n in 0..bytes.len() {
        let cut = bytes[..n].to_vec();
        tally.add(
            || format!("truncated to {n} bytes"),
            try_case(|| Decoder::from_bytes(cut), &reference, true),
        );
    }
    for &(name, f) in &PATTERNS[..2] {
        for offset in 0..bytes.len() {
            let mut m = bytes.to_vec();
            m[offset] = f(m[offset]);
            tally.add(
                || format!("byte {offset} {name}"),
                try_case(|| Decoder::from_bytes(m), &reference, true),
            );
        }
    }
    println!(
        "{what}: {} bytes, {} cases in {:?}",
        bytes.len(),
        3 * bytes.len(),
        start.elapsed()
    );
    tally.check(what);
    // Only the padding in front of the sections is not covered by a checksum.
    let table = InrFile::from_bytes(bytes.to_vec())
        .unwrap()
        .metadata()
        .sections
        .clone();
    let meta_end = HEADER_LEN as u64 + u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    let mut uncovered = table[0].offset - meta_end;
    for w in table.windows(2) {
        uncovered += w[1].offset - (w[0].offset + w[0].stored_length);
    }
    assert_eq!(
        tally.same as u64,
        2 * uncovered,
        "{what}: changes that still decode"
    );
}

#[test]
fn every_truncation_and_byte_change_is_rejected_or_harmless() {
    let bytes = small_file(true);
    println!("small file (compressed metadata): {} bytes", bytes.len());
    mutate_every_byte(&bytes, "compressed metadata");
}

#[test]
fn every_truncation_and_byte_change_is_rejected_or_harmless_plain_metadata() {
    let bytes = small_file(false);
    println!("small file (plain metadata): {} bytes", bytes.len());
    mutate_every_byte(&bytes, "plain metadata");
}

#[test]
fn every_truncation_of_a_file_on_disk_is_rejected() {
    let bytes = small_file(true);
    let reference = reference(&bytes);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.inr");
    let mut tally = Tally::default();
    for n in 0..=bytes.len() {
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&bytes[..n]).unwrap();
        drop(f);
        tally.add(
            || format!("file truncated to {n} bytes"),
            try_case(|| Decoder::open(&path), &reference, true),
        );
    }
    tally.check("truncated files on disk");
    assert_eq!(tally.same, 1, "only the whole file opens");
    let missing = Decoder::open(dir.path().join("missing.inr")).err().unwrap();
    assert_eq!(kind(&missing), "Io");
    assert!(missing.to_string().contains("missing.inr"));
}

// ---------------------------------------------------------------------------
// crafting files with correct checksums

/// A section to place in a crafted file: its stored bytes, declared length and compression.
#[derive(Clone)]
struct Raw {
    name: String,
    stored: Vec<u8>,
    length: u64,
    compression: Compression,
}

impl Raw {
    fn plain(name: &str, bytes: Vec<u8>) -> Raw {
        Raw {
            name: name.into(),
            length: bytes.len() as u64,
            stored: bytes,
            compression: Compression::None,
        }
    }
}

/// The metadata (as JSON) and sections of a valid file, to modify and reassemble.
fn parts(bytes: &[u8]) -> (Value, Vec<Raw>) {
    let file = InrFile::from_bytes(bytes.to_vec()).unwrap();
    let meta = serde_json::to_value(file.metadata()).unwrap();
    let raws = file
        .metadata()
        .sections
        .iter()
        .map(|s| Raw {
            name: s.name.clone(),
            stored: bytes[s.offset as usize..(s.offset + s.stored_length) as usize].to_vec(),
            length: s.length,
            compression: s.compression,
        })
        .collect();
    (meta, raws)
}

/// A file with plain metadata (padded with spaces) followed by `sections`,
/// with correct checksums and a section table describing the sections, which
/// `patch` may then falsify.
fn assemble_with(meta: &Value, sections: &[Raw], patch: impl Fn(&mut Vec<Value>)) -> Vec<u8> {
    let mut meta = meta.clone();
    let mut room = 0usize;
    loop {
        let mut offset = (HEADER_LEN + room).div_ceil(8) as u64 * 8;
        let mut table: Vec<Value> = sections
            .iter()
            .map(|s| {
                let e = json!({
                    "name": s.name,
                    "offset": offset,
                    "stored_length": s.stored.len(),
                    "length": s.length,
                    "compression": s.compression,
                    "crc32": crc32fast::hash(&s.stored),
                });
                offset = (offset + s.stored.len() as u64).div_ceil(8) * 8;
                e
            })
            .collect();
        patch(&mut table);
        meta["sections"] = Value::Array(table);
        let mut text = serde_json::to_vec(&meta).unwrap();
        if text.len() > room {
            room = text.len() + 32;
            continue;
        }
        text.resize(room, b' '); // JSON whitespace
        let mut out = plain_header(&text).to_vec();
        out.extend_from_slice(&text);
        for s in sections {
            out.resize(out.len().div_ceil(8) * 8, 0);
            out.extend_from_slice(&s.stored);
        }
        return out;
    }
}

fn assemble(meta: &Value, sections: &[Raw]) -> Vec<u8> {
    assemble_with(meta, sections, |_| {})
}

/// `meta` changed by `f`, assembled with `sections`.
fn with_meta(meta: &Value, sections: &[Raw], f: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut m = meta.clone();
    f(&mut m);
    assemble(&m, sections)
}

/// Replaces text in the (plain, padded) metadata of an assembled file and
/// fixes the checksums: for what `serde_json::Value` cannot write.
fn edit_json(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&bytes[HEADER_LEN..HEADER_LEN + len]).unwrap();
    assert!(text.contains(from), "{from:?} not in the metadata");
    let mut new = text.replacen(from, to, 1).into_bytes();
    if new.len() > len {
        assert!(
            new[len..].iter().all(|&b| b == b' '),
            "no room for the edit"
        );
    }
    new.resize(len, b' ');
    let mut out = plain_header(&new).to_vec();
    out.extend_from_slice(&new);
    out.extend_from_slice(&bytes[HEADER_LEN + len..]);
    out
}

fn plain_header(metadata: &[u8]) -> [u8; HEADER_LEN] {
    Header {
        major: 1,
        minor: 0,
        metadata_compression: Compression::None,
        metadata_stored_len: metadata.len() as u64,
        metadata_len: metadata.len() as u64,
        metadata_crc32: crc32fast::hash(metadata),
    }
    .to_bytes()
}

/// A header and stored metadata only, with the given declarations.
fn header_file(stored: &[u8], compression: Compression, stored_len: u64, len: u64) -> Vec<u8> {
    let h = Header {
        major: 1,
        minor: 0,
        metadata_compression: compression,
        metadata_stored_len: stored_len,
        metadata_len: len,
        metadata_crc32: crc32fast::hash(stored),
    };
    let mut out = h.to_bytes().to_vec();
    out.extend_from_slice(stored);
    out
}

fn plain_metadata_file(json: &[u8]) -> Vec<u8> {
    header_file(
        json,
        Compression::None,
        json.len() as u64,
        json.len() as u64,
    )
}

/// Crafted files, each with the error variants that fit.
#[derive(Default)]
struct Cases(Vec<(String, Vec<u8>, &'static [&'static str])>);

impl Cases {
    fn add(&mut self, label: &str, bytes: Vec<u8>, kinds: &'static [&'static str]) {
        self.0.push((label.to_string(), bytes, kinds));
    }

    /// Runs every case: each must be rejected with one of its variants,
    /// quickly, with a message, and without a panic.
    fn run(self) {
        let mut failures = Vec::new();
        for (label, bytes, kinds) in self.0 {
            let start = Instant::now();
            let r = catch_unwind(AssertUnwindSafe(|| match Decoder::from_bytes(bytes) {
                Err(e) => Err(e),
                Ok(d) => Ok(decode(&d).map(|_| ()).map_err(|e| e.to_string())),
            }));
            let elapsed = start.elapsed();
            match r {
                Err(_) => failures.push(format!("{label}: PANIC")),
                Ok(Ok(r)) => failures.push(format!("{label}: accepted (decode: {r:?})")),
                Ok(Err(e)) if e.to_string().trim().is_empty() => {
                    failures.push(format!("{label}: empty message {e:?}"))
                }
                Ok(Err(e)) if !kinds.contains(&kind(&e).as_str()) => {
                    failures.push(format!("{label}: {} instead of {kinds:?}: {e}", kind(&e)))
                }
                Ok(Err(e)) => println!("ok  {label}: {e}"),
            }
            if elapsed > Duration::from_secs(3) {
                failures.push(format!("{label}: took {elapsed:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} crafted files mishandled:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Decoded bytes of the weights section (section 0) of the small file.
fn weights_raw(raws: &[Raw]) -> Vec<u8> {
    zstd::stream::decode_all(&raws[0].stored[..]).unwrap()
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Streams `n` copies of `byte` through zstd, then `tail`, without holding them in memory.
fn zstd_repeat(byte: u8, n: usize, tail: &[u8]) -> Vec<u8> {
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    let chunk = vec![byte; 1 << 20];
    for _ in 0..n / chunk.len() {
        enc.write_all(&chunk).unwrap();
    }
    enc.write_all(&chunk[..n % chunk.len()]).unwrap();
    enc.write_all(tail).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------------------
// checksum-correct fuzzing

/// A single-byte change.
type Pattern = (&'static str, fn(u8) -> u8);

const PATTERNS: [Pattern; 4] = [
    ("xor 0xFF", |b| b ^ 0xFF),
    ("+1", |b| b.wrapping_add(1)),
    ("-> '9'", |_| b'9'),
    ("-> '-'", |_| b'-'),
];

#[test]
fn metadata_byte_changes_with_recomputed_checksums_never_panic() {
    // every byte of the JSON text, metadata and header CRCs recomputed
    let bytes = small_file(false);
    let reference = reference(&bytes);
    let meta_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let start = Instant::now();
    let mut tally = Tally::default();
    for (name, f) in PATTERNS {
        for offset in HEADER_LEN..HEADER_LEN + meta_len {
            let mut m = bytes.clone();
            m[offset] = f(m[offset]);
            let crc = crc32fast::hash(&m[HEADER_LEN..HEADER_LEN + meta_len]);
            m[32..36].copy_from_slice(&crc.to_le_bytes());
            let hcrc = crc32fast::hash(&m[0..36]);
            m[36..40].copy_from_slice(&hcrc.to_le_bytes());
            tally.add(
                || format!("metadata byte {offset} {name}"),
                try_case(|| Decoder::from_bytes(m), &reference, false),
            );
        }
    }
    println!(
        "metadata text fuzz: {meta_len} bytes of JSON, {} cases in {:?}",
        4 * meta_len,
        start.elapsed()
    );
    tally.check("metadata text with fixed checksums");
}

#[test]
fn section_byte_changes_with_recomputed_checksums_never_panic() {
    // the weights section, zstd-compressed, and the same weights stored plain
    // with codebook quantization (codebook, indices and mask all exposed)
    let (meta, raws) = parts(&small_file(true));
    let (model, _) = spec().build().unwrap();
    let mut b = FileBuilder::new();
    let s = b.new_section("weights", Compression::None);
    let enc = WeightEncoding::Codebook {
        bits: 4,
        prune_zeros: true,
    };
    let mut codebook_meta = meta.clone();
    codebook_meta["model"] = model.write(&mut b, s, enc).unwrap();
    let typed: Metadata = serde_json::from_value(codebook_meta.clone()).unwrap();
    let plain_codebook = InrFile::from_bytes(b.to_bytes(typed).unwrap())
        .unwrap()
        .read_section(0)
        .unwrap();
    let variants = [
        ("zstd f32 weights", meta, raws[0].clone()),
        (
            "plain codebook weights",
            codebook_meta,
            Raw::plain("weights", plain_codebook),
        ),
    ];
    for (what, meta, raw) in variants {
        let base = assemble(&meta, std::slice::from_ref(&raw));
        let reference = reference(&base);
        let start = Instant::now();
        let mut tally = Tally::default();
        for (name, f) in PATTERNS {
            for offset in 0..raw.stored.len() {
                let mut r = raw.clone();
                r.stored[offset] = f(r.stored[offset]);
                let m = assemble(&meta, &[r]);
                tally.add(
                    || format!("{what}: byte {offset} {name}"),
                    try_case(|| Decoder::from_bytes(m), &reference, false),
                );
            }
        }
        println!(
            "{what}: {} bytes, {} cases in {:?}",
            raw.stored.len(),
            4 * raw.stored.len(),
            start.elapsed()
        );
        tally.check(what);
    }
}

// ---------------------------------------------------------------------------
// crafted files: absurd sizes

#[test]
fn absurd_sizes_fail_fast_without_allocating() {
    let base_bytes = small_file(true);
    let (meta, raws) = parts(&base_bytes);
    assert_eq!(
        reference(&assemble(&meta, &raws)),
        reference(&base_bytes),
        "reassembly is faithful"
    );
    let real_json = serde_json::to_vec(&meta).unwrap();
    let z = zstd::bulk::compress(&real_json, 3).unwrap();
    let weights = weights_raw(&raws);
    let mut cases = Cases::default();

    // --- header and metadata
    cases.add(
        "metadata length 2^60",
        header_file(&real_json, Compression::None, 1 << 60, 1 << 60),
        &["LimitExceeded"],
    );
    cases.add(
        "metadata decoded length 2^60",
        header_file(&z, Compression::Zstd, z.len() as u64, 1 << 60),
        &["LimitExceeded"],
    );
    cases.add(
        "metadata stored length u64::MAX",
        header_file(&z, Compression::Zstd, u64::MAX, 100),
        &["LimitExceeded"],
    );
    cases.add(
        "metadata of 60 MiB declared in a file of a few KiB",
        header_file(&real_json, Compression::None, 60 << 20, 60 << 20),
        &["Truncated"],
    );
    let spaces = zstd_repeat(b' ', 60 << 20, &real_json);
    cases.add(
        "metadata zstd bomb (60 MiB of spaces) declared 100 bytes",
        header_file(&spaces, Compression::Zstd, spaces.len() as u64, 100),
        &["Invalid"],
    );
    cases.add(
        "metadata declared 64 MiB, real JSON a few KiB",
        header_file(&z, Compression::Zstd, z.len() as u64, 64 << 20),
        &["Invalid"],
    );

    // --- sections
    for (label, len, kinds) in [
        (
            "section declaring length 2^40",
            1u64 << 40,
            &["LimitExceeded"] as &'static [&'static str],
        ),
        (
            "section declaring u64::MAX bytes",
            u64::MAX,
            &["LimitExceeded"],
        ),
        (
            "section declaring 4 GiB (the limit), real content short",
            4 << 30,
            &["Invalid"],
        ),
    ] {
        let mut r = raws.clone();
        r[0].length = len;
        cases.add(label, assemble(&meta, &r), kinds);
    }
    let zeros = zstd_repeat(0, 64 << 20, &[]);
    println!("64 MiB of zeros compress to {} bytes", zeros.len());
    let mut bomb = raws.clone();
    bomb[0] = Raw {
        name: "weights".into(),
        stored: zeros.clone(),
        length: 16,
        compression: Compression::Zstd,
    };
    cases.add(
        "zstd bomb: 64 MiB of zeros declared 16 bytes",
        assemble(&meta, &bomb),
        &["Invalid"],
    );
    bomb[0].length = weights.len() as u64;
    cases.add(
        "zstd bomb: 64 MiB of zeros declared as the weights' length",
        assemble(&meta, &bomb),
        &["Invalid"],
    );
    let one_mib = zstd::bulk::compress(&vec![7u8; 1 << 20], 3).unwrap();
    bomb[0] = Raw {
        name: "weights".into(),
        stored: one_mib,
        length: 64 << 20,
        compression: Compression::Zstd,
    };
    cases.add(
        "section declared 64 MiB, real content 1 MiB",
        assemble(&meta, &bomb),
        &["Invalid"],
    );
    let mut coords = raws.clone();
    coords.push(Raw {
        name: "coordinates".into(),
        stored: zeros,
        length: 64,
        compression: Compression::Zstd,
    });
    let axis = |n: u64| json!({"section": 1, "offset": 0, "count": n, "dtype": "f64"});
    cases.add(
        "zstd bomb in the rectilinear coordinates",
        with_meta(&meta, &coords, |m| {
            m["domain"] = json!({"kind": "rectilinear", "dims": [4, 2, 2], "x": axis(4), "y": axis(2), "z": axis(2)});
        }),
        &["Invalid"],
    );
    cases.add(
        "rectilinear axis of 2^24 points in 32 bytes",
        with_meta(&meta, &[raws[0].clone(), Raw::plain("c", f64_bytes(&[0.0, 1.0, 2.0, 3.0]))], |m| {
            m["domain"] = json!({"kind": "rectilinear", "dims": [1 << 24, 1, 1], "x": axis(1 << 24), "y": axis(1), "z": axis(1)});
        }),
        &["OutOfBounds"],
    );

    // --- tensors and models: 2^28 elements is within the limits, but not in the file
    let big = 1u64 << 14;
    let f32_at = |offset: u64| json!({"kind": "f32", "section": 0, "offset": offset});
    let first_layer = |weight: Value, bias: Value, extra: Option<Raw>| {
        let mut r = raws.clone();
        r.extend(extra);
        with_meta(&meta, &r, |m| {
            m["model"]["layers"][0]["weight"] = weight;
            m["model"]["layers"][0]["bias"] = bias;
        })
    };
    cases.add(
        "tensor of shape [2^20, 2^20]",
        first_layer(
            json!({"shape": [1u64 << 20, 1u64 << 20], "encoding": f32_at(0)}),
            json!({"shape": [1u64 << 20], "encoding": f32_at(0)}),
            None,
        ),
        &["LimitExceeded", "Shape"],
    );
    cases.add(
        "tensor of shape [2^32, 2^32, 2^32] (the element count overflows)",
        first_layer(
            json!({"shape": [1u64 << 32, 1u64 << 32, 1u64 << 32], "encoding": f32_at(0)}),
            json!({"shape": [8], "encoding": f32_at(0)}),
            None,
        ),
        &["LimitExceeded", "Shape"],
    );
    cases.add(
        "f32 tensor of 2^28 elements in a 1 KiB section",
        first_layer(
            json!({"shape": [big, big], "encoding": f32_at(0)}),
            json!({"shape": [big], "encoding": f32_at(0)}),
            None,
        ),
        &["OutOfBounds"],
    );
    cases.add(
        "f16 tensor of 2^28 elements in a 1 KiB section",
        first_layer(
            json!({"shape": [big, big], "encoding": {"kind": "f16", "section": 0, "offset": 0}}),
            json!({"shape": [big], "encoding": f32_at(0)}),
            None,
        ),
        &["OutOfBounds"],
    );
    let tiny = Raw::plain("codebook", f32_bytes(&[0.25, -0.5, 1.0, 0.0]));
    cases.add(
        "codebook tensor of 2^28 elements without a mask and without the indices",
        first_layer(
            json!({"shape": [big, big], "encoding": {"kind": "codebook", "bits": 1,
                "codebook": {"section": 1, "offset": 0}, "codebook_len": 2,
                "indices": {"section": 1, "offset": 8}}}),
            json!({"shape": [big], "encoding": f32_at(0)}),
            Some(tiny.clone()),
        ),
        &["OutOfBounds"],
    );
    cases.add(
        "codebook tensor of 2^28 elements with a mask, without the mask",
        first_layer(
            json!({"shape": [big, big], "encoding": {"kind": "codebook", "bits": 16,
                "codebook": {"section": 1, "offset": 0}, "codebook_len": 4,
                "indices": {"section": 1, "offset": 0}, "mask": {"section": 1, "offset": 0}}}),
            json!({"shape": [big], "encoding": f32_at(0)}),
            Some(tiny),
        ),
        &["OutOfBounds"],
    );
    cases.add(
        "five tensors of 2^28 elements (over the parameter limit)",
        with_meta(&meta, &raws, |m| {
            let t = json!({"shape": [big, big], "encoding": f32_at(0)});
            let l = &mut m["model"]["layers"];
            for (i, name) in [
                (0, "weight"),
                (1, "weight1"),
                (1, "weight2"),
                (1, "bias1"),
                (2, "weight"),
            ] {
                l[i][name] = t.clone();
            }
        }),
        &["LimitExceeded"],
    );
    cases.add(
        "2000 layers",
        with_meta(&meta, &raws, |m| {
            let l = m["model"]["layers"].as_array().unwrap().clone();
            let mut layers = vec![l[0].clone()];
            layers.extend(std::iter::repeat_n(l[1].clone(), 2000));
            layers.push(l[2].clone());
            m["model"]["layers"] = Value::Array(layers);
        }),
        &["Invalid", "LimitExceeded"],
    );

    // --- domain, variables, time
    let dims = |d: [u64; 3]| with_meta(&meta, &raws, |m| m["domain"]["dims"] = json!(d));
    cases.add(
        "dims [2^30, 2^30, 2^30]",
        dims([1 << 30; 3]),
        &["Invalid", "LimitExceeded"],
    );
    cases.add(
        "dims [2^24, 2^24, 2^24] (each at the axis limit)",
        dims([1 << 24; 3]),
        &["LimitExceeded"],
    );
    cases.add(
        "dims [2^24, 2^24, 2^8] (over the grid limit)",
        dims([1 << 24, 1 << 24, 1 << 8]),
        &["LimitExceeded"],
    );
    cases.add(
        "dims [u64::MAX; 3]",
        dims([u64::MAX; 3]),
        &["Invalid", "LimitExceeded"],
    );
    cases.add(
        "a variable with 10^6 components",
        with_meta(&meta, &raws, |m| {
            m["variables"][0]["components"] = json!(1_000_000)
        }),
        &["Invalid"],
    );
    cases.add(
        "a variable with u32::MAX components",
        with_meta(&meta, &raws, |m| {
            m["variables"][1]["components"] = json!(u32::MAX)
        }),
        &["Invalid"],
    );
    cases.add(
        "5000 variables",
        with_meta(&meta, &raws, |m| {
            let v = m["variables"][0].clone();
            let vars = (0..5000).map(|i| {
                let mut v = v.clone();
                v["name"] = json!(format!("v{i}"));
                v
            });
            m["variables"] = Value::Array(vars.collect());
        }),
        &["Invalid"],
    );
    cases.add(
        "a time axis of 2^20 + 1 steps",
        with_meta(&meta, &raws, |m| {
            m["time"]["values"] =
                Value::Array((0..(1 << 20) + 1).map(|i| json!(i as f64)).collect())
        }),
        &["Invalid"],
    );

    // run them all under one peak-memory measurement (resetting the peak
    // where the kernel allows it; other tests run in parallel, so allow slack)
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = vm_hwm_kib();
    let start = Instant::now();
    let n = cases.0.len();
    cases.run();
    let after = vm_hwm_kib();
    println!(
        "{n} absurd sizes in {:?}; peak RSS {before:?} -> {after:?} KiB (peak reset: {reset})",
        start.elapsed()
    );
    if let (Some(b), Some(a)) = (before, after) {
        assert!(
            a.saturating_sub(b) < 200 << 10,
            "peak RSS grew by {} MiB",
            (a - b) >> 10
        );
    }
}

// ---------------------------------------------------------------------------
// crafted files: contradictions

#[test]
fn contradictory_files_are_rejected() {
    let base_bytes = small_file(true);
    let (meta, raws) = parts(&base_bytes);
    let weights = weights_raw(&raws);
    let real_json = serde_json::to_vec(&meta).unwrap();
    let z = zstd::bulk::compress(&real_json, 3).unwrap();
    let mut cases = Cases::default();

    // --- header
    cases.add("empty file", Vec::new(), &["Truncated"]);
    cases.add(
        "the first 4 magic bytes",
        base_bytes[..4].to_vec(),
        &["Truncated"],
    );
    cases.add("magic only", base_bytes[..8].to_vec(), &["Truncated"]);
    cases.add(
        "not an .inr file",
        b"P6\n640 480\n255\n".repeat(8),
        &["BadMagic"],
    );
    cases.add(
        "a short file that is not .inr",
        b"GIF".to_vec(),
        &["BadMagic"],
    );
    let mut m = base_bytes.clone();
    m[36] ^= 1;
    cases.add("header checksum", m, &["ChecksumMismatch"]);
    let mut m = base_bytes.clone();
    m[HEADER_LEN + 5] ^= 1;
    cases.add("metadata checksum", m, &["ChecksumMismatch"]);
    let mut h = header_file(
        &z,
        Compression::Zstd,
        z.len() as u64,
        real_json.len() as u64,
    );
    h[12] = 7;
    let crc = crc32fast::hash(&h[..36]);
    h[36..40].copy_from_slice(&crc.to_le_bytes());
    cases.add("unknown metadata compression code", h, &["Unsupported"]);
    let n = real_json.len() as u64;
    cases.add(
        "plain metadata with differing stored and decoded lengths",
        header_file(&real_json, Compression::None, n, n + 1),
        &["Invalid"],
    );
    cases.add(
        "compressed metadata declared shorter than it is",
        header_file(&z, Compression::Zstd, z.len() as u64, n - 1),
        &["Invalid"],
    );
    cases.add(
        "metadata that is not zstd",
        header_file(&real_json, Compression::Zstd, n, n),
        &["Invalid"],
    );
    cases.add("empty metadata", plain_metadata_file(&[]), &["Invalid"]);
    cases.add(
        "metadata that is not UTF-8 JSON",
        plain_metadata_file(&[0xC3, 0x28, 1, 2]),
        &["Invalid"],
    );
    cases.add(
        "metadata that is a JSON array",
        plain_metadata_file(b"[1,2,3]"),
        &["Invalid"],
    );
    cases.add(
        "metadata followed by garbage",
        plain_metadata_file(&[&real_json[..], b" x"].concat()),
        &["Invalid"],
    );
    let deep = format!(
        "{{\"model\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    cases.add(
        "metadata nested 100000 deep",
        plain_metadata_file(deep.as_bytes()),
        &["Invalid"],
    );
    for field in ["generator", "domain", "variables", "model", "sections"] {
        let mut m = meta.clone();
        m.as_object_mut().unwrap().remove(field);
        cases.add(
            &format!("metadata without {field}"),
            plain_metadata_file(&serde_json::to_vec(&m).unwrap()),
            &["Invalid"],
        );
    }

    // --- the section table
    let table = |f: fn(&mut Vec<Value>)| assemble_with(&meta, &raws, f);
    cases.add(
        "a section pointing beyond the file",
        table(|t| t[0]["offset"] = json!(1u64 << 40)),
        &["OutOfBounds"],
    );
    cases.add(
        "a section whose end overflows u64",
        table(|t| t[0]["offset"] = json!(u64::MAX - 3)),
        &["OutOfBounds"],
    );
    cases.add(
        "a section reaching past the end of the file",
        table(|t| t[0]["stored_length"] = json!(t[0]["stored_length"].as_u64().unwrap() + 1)),
        &["Truncated"],
    );
    cases.add(
        "a section inside the header",
        table(|t| t[0]["offset"] = json!(0)),
        &["OutOfBounds"],
    );
    cases.add(
        "a section inside the metadata",
        table(|t| t[0]["offset"] = json!(HEADER_LEN + 8)),
        &["OutOfBounds"],
    );
    cases.add(
        "a section with a wrong checksum",
        table(|t| t[0]["crc32"] = json!(12345)),
        &["ChecksumMismatch"],
    );
    cases.add(
        "a section with an unknown compression",
        table(|t| t[0]["compression"] = json!("lz4")),
        &["Invalid"],
    );
    cases.add(
        "a section with a negative offset",
        table(|t| t[0]["offset"] = json!(-8)),
        &["Invalid"],
    );
    let mut r = raws.clone();
    r[0] = Raw::plain("weights", weights.clone());
    r[0].length += 8;
    cases.add(
        "a plain section with differing lengths",
        assemble(&meta, &r),
        &["Invalid"],
    );
    let mut r = raws.clone();
    r[0].stored = weights.clone();
    cases.add(
        "a zstd section that is not zstd",
        assemble(&meta, &r),
        &["Invalid"],
    );
    let mut r = raws.clone();
    let half = r[0].stored.len() / 2;
    r[0].stored.truncate(half);
    cases.add(
        "a zstd section cut in half",
        assemble(&meta, &r),
        &["Invalid"],
    );

    // --- models: layer 0 sine [8, 4]; layer 1 residual [8, 8] x 2; layer 2 linear [5, 8]
    let plain = vec![Raw::plain("weights", weights.clone())];
    assert_eq!(
        reference(&assemble(&meta, &plain)),
        reference(&base_bytes),
        "plain weights reassemble"
    );
    let model = |f: fn(&mut Value)| with_meta(&meta, &plain, |m| f(&mut m["model"]));
    cases.add(
        "a layer chain that does not match (head [10, 4])",
        model(|m| {
            m["layers"][2]["weight"]["shape"] = json!([10, 4]);
            m["layers"][2]["bias"]["shape"] = json!([10]);
            m["layers"][2]["bias"]["encoding"]["offset"] = json!(0);
        }),
        &["Shape"],
    );
    cases.add(
        "a residual block whose first layer is narrower ([4, 8])",
        model(|m| {
            m["layers"][1]["weight1"]["shape"] = json!([4, 8]);
            m["layers"][1]["bias1"]["shape"] = json!([4]);
        }),
        &["Shape"],
    );
    cases.add(
        "a residual block whose first layer is wider ([16, 8])",
        model(|m| {
            m["layers"][1]["weight1"]["shape"] = json!([16, 8]);
            m["layers"][1]["weight1"]["encoding"]["offset"] = json!(0);
            m["layers"][1]["bias1"]["shape"] = json!([16]);
            m["layers"][1]["bias1"]["encoding"]["offset"] = json!(0);
        }),
        &["Shape"],
    );
    cases.add(
        "a residual block whose second layer is not square",
        model(|m| {
            m["layers"][1]["weight2"]["shape"] = json!([4, 8]);
            m["layers"][1]["bias2"]["shape"] = json!([4]);
        }),
        &["Shape"],
    );
    cases.add(
        "a first layer of the wrong input width",
        model(|m| m["layers"][0]["weight"]["shape"] = json!([8, 3])),
        &["Shape"],
    );
    cases.add(
        "a bias of the wrong shape",
        model(|m| m["layers"][0]["bias"]["shape"] = json!([7])),
        &["Shape"],
    );
    cases.add(
        "a weight of three dimensions",
        model(|m| m["layers"][0]["weight"]["shape"] = json!([8, 2, 2])),
        &["Shape"],
    );
    cases.add(
        "a weight with a zero dimension",
        model(|m| m["layers"][0]["weight"]["shape"] = json!([8, 0])),
        &["Shape"],
    );
    cases.add(
        "a head of 4 outputs for 5 components",
        model(|m| {
            m["layers"][2]["weight"]["shape"] = json!([4, 8]);
            m["layers"][2]["bias"]["shape"] = json!([4]);
        }),
        &["Shape"],
    );
    cases.add(
        "no linear head",
        model(|m| {
            m["layers"].as_array_mut().unwrap().pop();
        }),
        &["Invalid", "Shape"],
    );
    cases.add(
        "a linear layer in the middle",
        model(|m| {
            let mut mid = m["layers"][2].clone();
            mid["weight"]["shape"] = json!([8, 8]);
            mid["weight"]["encoding"]["offset"] = json!(0);
            mid["bias"]["shape"] = json!([8]);
            mid["bias"]["encoding"]["offset"] = json!(0);
            m["layers"].as_array_mut().unwrap().insert(1, mid);
        }),
        &["Invalid"],
    );
    cases.add(
        "no layers",
        model(|m| m["layers"] = json!([])),
        &["Invalid"],
    );
    cases.add("5 inputs", model(|m| m["inputs"] = json!(5)), &["Shape"]);
    cases.add(
        "one input scale for 4 inputs",
        model(|m| m["input_scale"] = json!([1.0])),
        &["Shape"],
    );
    cases.add(
        "a 3-input model with a 4-wide first layer",
        model(|m| {
            m["inputs"] = json!(3);
            m["input_scale"] = json!([1.0, 1.0, 1.0]);
            m["input_shift"] = json!([0.0, 0.0, 0.0]);
        }),
        &["Shape"],
    );
    cases.add(
        "w0 = 1e9",
        model(|m| m["layers"][0]["w0"] = json!(1e9)),
        &["Invalid"],
    );
    cases.add(
        "w0 missing",
        model(|m| {
            m["layers"][0].as_object_mut().unwrap().remove("w0");
        }),
        &["Invalid"],
    );
    cases.add(
        "an unknown family",
        model(|m| m["family"] = json!("transformer")),
        &["Unsupported"],
    );
    cases.add(
        "another family's name on a residual SIREN",
        model(|m| m["family"] = json!("nervi")),
        &["Invalid"],
    );
    cases.add(
        "no family",
        model(|m| {
            m.as_object_mut().unwrap().remove("family");
        }),
        &["Unsupported"],
    );
    cases.add(
        "a model that is a string",
        model(|m| *m = json!("residual_siren")),
        &["Unsupported", "Invalid"],
    );
    cases.add(
        "a tensor in a section that does not exist",
        model(|m| m["layers"][0]["weight"]["encoding"]["section"] = json!(9)),
        &["OutOfBounds"],
    );
    let last = weights.len() as u64 - 8;
    cases.add(
        "a tensor past the end of its section",
        with_meta(&meta, &plain, |m| {
            m["model"]["layers"][2]["bias"]["encoding"]["offset"] = json!(last)
        }),
        &["OutOfBounds"],
    );
    cases.add(
        "a tensor at offset u64::MAX",
        model(|m| m["layers"][2]["bias"]["encoding"]["offset"] = json!(u64::MAX)),
        &["OutOfBounds"],
    );
    cases.add(
        "an unknown tensor encoding",
        model(|m| m["layers"][0]["weight"]["encoding"]["kind"] = json!("bf16")),
        &["Invalid"],
    );
    let mut nan = weights.clone();
    nan[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    cases.add(
        "a NaN weight",
        assemble(&meta, &[Raw::plain("weights", nan)]),
        &["Invalid"],
    );
    let mut inf = weights.clone();
    let n = inf.len();
    inf[n - 4..].copy_from_slice(&f32::INFINITY.to_le_bytes());
    cases.add(
        "an infinite bias",
        assemble(&meta, &[Raw::plain("weights", inf)]),
        &["Invalid"],
    );
    cases.add(
        "a 4-input model without a time axis",
        with_meta(&meta, &plain, |m| {
            m.as_object_mut().unwrap().remove("time");
        }),
        &["Invalid"],
    );

    // --- codebook tensors: the head bias (5 values) from section 1, where
    // three codebook values are followed by the packed 2-bit indices 0,1,2,3,0
    let codebook = Raw::plain(
        "codebook",
        [f32_bytes(&[0.1, 0.2, 0.3]), vec![0b1110_0100, 0, 0xFF]].concat(),
    );
    let cb = |bits: u64, len: u64, mask: Option<u64>, r: &Raw| {
        let mut e = json!({"kind": "codebook", "bits": bits, "codebook": {"section": 1, "offset": 0},
            "codebook_len": len, "indices": {"section": 1, "offset": 12}});
        if let Some(at) = mask {
            e["mask"] = json!({"section": 1, "offset": at});
        }
        with_meta(&meta, &[plain[0].clone(), r.clone()], |m| {
            m["model"]["layers"][2]["bias"]["encoding"] = e
        })
    };
    let four = Raw::plain(
        "codebook",
        [f32_bytes(&[0.1, 0.2, 0.3, 0.4]), vec![0b1110_0100, 0]].concat(),
    );
    let d = Decoder::from_bytes(cb(2, 4, None, &four)).expect("a valid codebook bias");
    decode(&d).unwrap();
    cases.add(
        "a codebook index beyond the codebook",
        cb(2, 3, None, &codebook),
        &["Invalid"],
    );
    cases.add(
        "a codebook with 0-bit indices",
        cb(0, 1, None, &codebook),
        &["Invalid"],
    );
    cases.add(
        "a codebook with 17-bit indices",
        cb(17, 3, None, &codebook),
        &["Invalid"],
    );
    cases.add(
        "a codebook with 300-bit indices",
        cb(300, 3, None, &codebook),
        &["Invalid"],
    );
    cases.add("an empty codebook", cb(2, 0, None, &codebook), &["Invalid"]);
    cases.add(
        "a codebook longer than 2^bits",
        cb(1, 3, None, &codebook),
        &["Invalid"],
    );
    cases.add(
        "a codebook past its section",
        cb(16, 5000, None, &codebook),
        &["OutOfBounds"],
    );
    cases.add(
        "a mask past its section",
        cb(2, 3, Some(15), &codebook),
        &["OutOfBounds"],
    );
    cases.add(
        "a mask keeping an index beyond the codebook",
        cb(2, 3, Some(14), &codebook),
        &["OutOfBounds", "Invalid"],
    );

    // --- domain
    let with = |f: fn(&mut Value)| with_meta(&meta, &raws, f);
    cases.add(
        "dims with a zero",
        with(|m| m["domain"]["dims"] = json!([4, 0, 4])),
        &["Invalid"],
    );
    cases.add(
        "dims of two entries",
        with(|m| m["domain"]["dims"] = json!([4, 4])),
        &["Invalid"],
    );
    cases.add(
        "negative dims",
        with(|m| m["domain"]["dims"] = json!([4, -4, 4])),
        &["Invalid"],
    );
    cases.add(
        "zero spacing",
        with(|m| m["domain"]["spacing"] = json!([1.0, 0.0, 1.0])),
        &["Invalid"],
    );
    cases.add(
        "negative spacing",
        with(|m| m["domain"]["spacing"] = json!([1.0, -1.0, 1.0])),
        &["Invalid"],
    );
    cases.add(
        "an unknown domain kind",
        with(|m| m["domain"]["kind"] = json!("octree")),
        &["Invalid"],
    );
    let base = assemble(&meta, &raws);
    cases.add(
        "an origin of 1e999",
        edit_json(&base, "\"origin\":[-1.5,", "\"origin\":[1e999,"),
        &["Invalid"],
    );
    cases.add(
        "a spacing of -1e999",
        edit_json(&base, "\"spacing\":[0.5,", "\"spacing\":[-1e999,"),
        &["Invalid"],
    );
    cases.add(
        "a NaN range (not JSON)",
        edit_json(&base, "\"range\":[[-300000.0,", "\"range\":[[NaN,"),
        &["Invalid"],
    );
    cases.add(
        "an infinite time (not JSON)",
        edit_json(&base, "\"values\":[0.0,", "\"values\":[-Infinity,"),
        &["Invalid"],
    );
    cases.add(
        "a duplicate key",
        edit_json(&base, "{\"domain", "{\"generator\":\"a\",\"domain"),
        &["Invalid"],
    );
    let rect = |x: Value, coords: &[f64]| {
        let axis = |count: u64, offset: u64| json!({"section": 1, "offset": offset, "count": count, "dtype": "f64"});
        let r = [
            raws[0].clone(),
            Raw::plain("coordinates", f64_bytes(coords)),
        ];
        with_meta(
            &meta,
            &r,
            |m| m["domain"] = json!({"kind": "rectilinear", "dims": [4, 1, 1], "x": x, "y": axis(1, 0), "z": axis(1, 8)}),
        )
    };
    let x = |section: u64, offset: u64, count: u64, dtype: &str| json!({"section": section, "offset": offset, "count": count, "dtype": dtype});
    let good = [0.0, 1.0, 2.0, 3.0];
    decode(&Decoder::from_bytes(rect(x(1, 0, 4, "f64"), &good)).expect("a valid rectilinear file"))
        .unwrap();
    cases.add(
        "a rectilinear axis in a missing section",
        rect(x(9, 0, 4, "f64"), &good),
        &["OutOfBounds"],
    );
    cases.add(
        "a rectilinear axis with too few coordinates",
        rect(x(1, 0, 3, "f64"), &good),
        &["Shape"],
    );
    cases.add(
        "a rectilinear axis of f32",
        rect(x(1, 0, 4, "f32"), &good),
        &["Shape"],
    );
    cases.add(
        "a rectilinear axis of varints",
        rect(x(1, 0, 4, "delta_varint"), &good),
        &["Shape"],
    );
    cases.add(
        "a rectilinear axis past its section",
        rect(x(1, 8, 4, "f64"), &good),
        &["OutOfBounds"],
    );
    cases.add(
        "a rectilinear axis at offset u64::MAX",
        rect(x(1, u64::MAX, 4, "f64"), &good),
        &["OutOfBounds"],
    );
    cases.add(
        "a rectilinear axis not increasing",
        rect(x(1, 0, 4, "f64"), &[0.0, 2.0, 1.0, 3.0]),
        &["Invalid"],
    );
    cases.add(
        "a rectilinear axis with a repeated value",
        rect(x(1, 0, 4, "f64"), &[0.0, 1.0, 1.0, 3.0]),
        &["Invalid"],
    );
    cases.add(
        "a rectilinear axis with NaN",
        rect(x(1, 0, 4, "f64"), &[0.0, f64::NAN, 2.0, 3.0]),
        &["Invalid"],
    );
    cases.add(
        "a rectilinear axis with infinity",
        rect(x(1, 0, 4, "f64"), &[0.0, 1.0, 2.0, f64::INFINITY]),
        &["Invalid"],
    );
    cases.add(
        "an unstructured mesh with an array in a missing section",
        with(|m| {
            let a = |s: u64| json!({"section": s, "offset": 0, "count": 1, "dtype": "u8"});
            m["domain"] = json!({"kind": "unstructured", "num_points": 1, "num_cells": 1,
                "bounds": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0], "points": a(0), "connectivity": a(0),
                "offsets": a(7), "types": a(0)});
        }),
        &["OutOfBounds"],
    );
    cases.add(
        "an images domain with views in a missing section",
        with(|m| {
            let views = json!({"section": 3, "offset": 0, "count": 1, "dtype": "f64"});
            m["domain"] = json!({"kind": "images", "width": 4, "height": 4, "views": views, "parameters": []});
        }),
        &["OutOfBounds"],
    );

    // --- variables and time
    cases.add(
        "a variable with 0 components",
        with(|m| m["variables"][0]["components"] = json!(0)),
        &["Invalid"],
    );
    cases.add(
        "a variable with 65 components",
        with(|m| m["variables"][0]["components"] = json!(65)),
        &["Invalid"],
    );
    cases.add(
        "a variable with -1 components",
        with(|m| m["variables"][0]["components"] = json!(-1)),
        &["Invalid"],
    );
    cases.add(
        "ranges for fewer components",
        with(|m| m["variables"][1]["range"] = json!([[0.0, 1.0]])),
        &["Shape"],
    );
    cases.add(
        "a range with min > max",
        with(|m| m["variables"][0]["range"] = json!([[1.0, -1.0]])),
        &["Invalid"],
    );
    cases.add(
        "a range with null",
        with(|m| m["variables"][0]["range"] = json!([[null, 1.0]])),
        &["Invalid"],
    );
    cases.add(
        "a range of three numbers",
        with(|m| m["variables"][0]["range"] = json!([[0.0, 1.0, 2.0]])),
        &["Invalid"],
    );
    cases.add(
        "a range given as strings",
        with(|m| m["variables"][0]["range"] = json!([["NaN", "NaN"]])),
        &["Invalid"],
    );
    cases.add(
        "an empty variable name",
        with(|m| m["variables"][0]["name"] = json!("")),
        &["Invalid"],
    );
    cases.add(
        "a 2000-byte variable name",
        with(|m| m["variables"][0]["name"] = json!("n".repeat(2000))),
        &["Invalid"],
    );
    cases.add(
        "2000-byte units",
        with(|m| m["variables"][0]["units"] = json!("u".repeat(2000))),
        &["Invalid"],
    );
    cases.add(
        "duplicate variable names",
        with(|m| m["variables"][1]["name"] = json!("pressure")),
        &["Invalid"],
    );
    cases.add(
        "no variables",
        with(|m| m["variables"] = json!([])),
        &["Invalid"],
    );
    cases.add(
        "an unknown association",
        with(|m| m["variables"][0]["association"] = json!("edge")),
        &["Invalid"],
    );
    cases.add(
        "a time axis that is not increasing",
        with(|m| m["time"]["values"] = json!([0.0, 2.0, 1.0])),
        &["Invalid"],
    );
    cases.add(
        "a time axis with a repeated value",
        with(|m| m["time"]["values"] = json!([0.0, 0.5, 0.5])),
        &["Invalid"],
    );
    cases.add(
        "an empty time axis",
        with(|m| m["time"]["values"] = json!([])),
        &["Invalid"],
    );
    cases.add(
        "a time axis with null",
        with(|m| m["time"]["values"] = json!([0.0, null])),
        &["Invalid"],
    );

    cases.run();
}

// ---------------------------------------------------------------------------
// ECNR files

/// A small ECNR file (docs/format.md, section 10.4): two scales of shared,
/// pruned tables over a 7 x 6 x 5 image with 3 time steps, some blocks
/// empty, in zstd sections.
fn ecnr_file() -> Vec<u8> {
    use inr_testkit::ecnr::{EcnrEncoding, EcnrSpec};
    let mut s = EcnrSpec::small(21);
    s.dims = [7, 6, 5];
    s.times = Some(vec![0.0, 1.0, 2.5]);
    s.block = [2, 3, 2];
    s.factors = vec![2, 1];
    s.latent_dim = 2;
    s.mlps = 2;
    s.width = 4;
    s.sine_layers = 1;
    s.empty = 0.3;
    s.encoding = EcnrEncoding::Shared {
        bits: 3,
        prune: true,
    };
    s.build().unwrap()
}

/// The ECNR file's metadata and its sections stored plain (every byte of
/// the assignments, tables, indices and masks exposed).
fn ecnr_parts() -> (Value, Vec<Raw>) {
    let (meta, raws) = parts(&ecnr_file());
    let plain = raws
        .iter()
        .map(|r| Raw::plain(&r.name, zstd::stream::decode_all(&r.stored[..]).unwrap()))
        .collect();
    (meta, plain)
}

#[test]
fn ecnr_metadata_and_section_byte_changes_never_panic() {
    let (meta, raws) = ecnr_parts();
    let start = Instant::now();
    let tally = fuzz_fixed_checksums(&meta, &raws, 1);
    let sections: usize = raws.iter().map(|r| r.stored.len()).sum();
    println!(
        "ECNR fuzz: {} bytes of JSON and {sections} of sections in {:?}",
        serde_json::to_vec(&meta).unwrap().len(),
        start.elapsed()
    );
    tally.check("ECNR metadata and sections with fixed checksums");
    mutate_every_byte(&ecnr_file(), "ECNR file");
}

/// Every metadata byte and every `step`-th section byte of the file of
/// `meta` and `raws` changed by each pattern, checksums recomputed: each
/// case must fail cleanly or decode as the original does.
fn fuzz_fixed_checksums(meta: &Value, raws: &[Raw], step: usize) -> Tally {
    let bytes = assemble(meta, raws);
    let reference = reference(&bytes);
    let meta_len = u64::from_le_bytes(bytes[16..24].try_into().unwrap()) as usize;
    let mut tally = Tally::default();
    for (name, f) in PATTERNS {
        for offset in HEADER_LEN..HEADER_LEN + meta_len {
            let mut m = bytes.clone();
            m[offset] = f(m[offset]);
            let crc = crc32fast::hash(&m[HEADER_LEN..HEADER_LEN + meta_len]);
            m[32..36].copy_from_slice(&crc.to_le_bytes());
            let hcrc = crc32fast::hash(&m[0..36]);
            m[36..40].copy_from_slice(&hcrc.to_le_bytes());
            tally.add(
                || format!("metadata byte {offset} {name}"),
                try_case(|| Decoder::from_bytes(m), &reference, false),
            );
        }
        for (s, raw) in raws.iter().enumerate() {
            for offset in (0..raw.stored.len()).step_by(step) {
                let mut r = raws.to_vec();
                r[s].stored[offset] = f(r[s].stored[offset]);
                let m = assemble(meta, &r);
                tally.add(
                    || format!("section {s} byte {offset} {name}"),
                    try_case(|| Decoder::from_bytes(m), &reference, false),
                );
            }
        }
    }
    tally
}

#[test]
fn ecnr_contradictions_and_absurd_sizes_are_rejected() {
    let (meta, raws) = ecnr_parts();
    assert_eq!(
        reference(&assemble(&meta, &raws)),
        reference(&ecnr_file()),
        "reassembly is faithful"
    );
    let with = |f: &dyn Fn(&mut Value)| with_meta(&meta, &raws, f);
    let model = |f: &dyn Fn(&mut Value)| with(&|m: &mut Value| f(&mut m["model"]));
    let mut cases = Cases::default();

    // --- the pyramid
    cases.add(
        "a scale's dims not ceil(N / factor)",
        model(&|m| m["scales"][0]["dims"][0] = json!(5)),
        &["Shape"],
    );
    cases.add(
        "a scale's time samples not ceil(N_t / factor)",
        model(&|m| m["scales"][1]["dims"][3] = json!(2)),
        &["Shape"],
    );
    cases.add(
        "a factor that is not a power of two",
        model(&|m| m["scales"][0]["factor"] = json!(3)),
        &["Invalid"],
    );
    cases.add(
        "factors not decreasing",
        model(&|m| m["scales"][0]["factor"] = json!(1)),
        &["Invalid"],
    );
    cases.add(
        "a finest scale of factor 2",
        model(&|m| {
            m["scales"].as_array_mut().unwrap().pop();
        }),
        &["Invalid"],
    );
    cases.add(
        "no scales",
        model(&|m| m["scales"] = json!([])),
        &["Invalid"],
    );
    cases.add(
        "17 scales",
        model(&|m| {
            let last = m["scales"][1].clone();
            let scales: Vec<Value> = (0..17)
                .map(|k| {
                    let mut s = last.clone();
                    s["factor"] = json!(1u64 << (16 - k));
                    s
                })
                .collect();
            m["scales"] = json!(scales);
        }),
        &["Invalid"],
    );
    cases.add(
        "a factor of 2^63",
        model(&|m| m["scales"][0]["factor"] = json!(1u64 << 63)),
        &["Shape"],
    );
    cases.add(
        "a block of 0 samples",
        model(&|m| m["block"] = json!([2, 0, 2])),
        &["Invalid"],
    );
    cases.add(
        "a block of 65537 samples",
        model(&|m| m["block"] = json!([65537, 1, 1])),
        &["Invalid"],
    );
    cases.add(
        "a latent code of 65537 values",
        model(&|m| m["latent_dim"] = json!(65537)),
        &["Invalid"],
    );
    cases.add(
        "a CNN",
        model(&|m| m["cnn"] = json!({"activation": "relu", "layers": []})),
        &["Unsupported"],
    );
    cases.add(
        "a CNN and nothing else",
        model(&|m| *m = json!({"family": "ecnr", "cnn": {}})),
        &["Unsupported"],
    );
    cases.add(
        "sites of an unknown kind",
        model(&|m| m["sites"] = json!("edge")),
        &["Invalid"],
    );
    cases.add(
        "a cell variable in a model of point sites",
        with(&|m| m["variables"][1]["association"] = json!("cell")),
        &["Invalid"],
    );
    cases.add(
        "cell sites with point variables",
        model(&|m| m["sites"] = json!("cell")),
        &["Invalid", "Shape"],
    );
    cases.add(
        "an images domain",
        with(&|m| {
            let views = json!({"section": 0, "offset": 0, "count": 2, "dtype": "f64"});
            m["domain"] = json!({"kind": "images", "width": 7, "height": 6,
                "views": views, "parameters": ["theta"]});
        }),
        &["Invalid", "Unsupported"],
    );

    // --- assignments
    cases.add(
        "an assignment of u8 entries",
        model(&|m| m["scales"][0]["assignment"]["dtype"] = json!("u8")),
        &["Shape"],
    );
    cases.add(
        "an assignment one entry short",
        model(&|m| {
            let n = m["scales"][1]["assignment"]["count"].as_u64().unwrap();
            m["scales"][1]["assignment"]["count"] = json!(n - 1);
        }),
        &["Shape"],
    );
    cases.add(
        "an assignment in a missing section",
        model(&|m| m["scales"][1]["assignment"]["section"] = json!(7)),
        &["OutOfBounds"],
    );
    cases.add(
        "an assignment past its section's end",
        model(&|m| m["scales"][1]["assignment"]["offset"] = json!(1 << 20)),
        &["OutOfBounds"],
    );
    let assignment = |s: usize| {
        let at = &meta["model"]["scales"][s]["assignment"];
        let offset = at["offset"].as_u64().unwrap() as usize;
        (at["section"].as_u64().unwrap() as usize, offset)
    };
    for (label, value) in [
        ("a block assigned to MLP 2 of 2", 2u32),
        ("a block assigned to MLP 0xFFFFFFFE", u32::MAX - 1),
    ] {
        let (s, offset) = assignment(1);
        let mut r = raws.clone();
        r[s].stored[offset + 4..offset + 8].copy_from_slice(&value.to_le_bytes());
        cases.add(label, assemble(&meta, &r), &["Invalid"]);
    }
    cases.add(
        "0 MLPs",
        model(&|m| m["scales"][0]["mlps"] = json!(0)),
        &["Invalid"],
    );
    cases.add(
        "2^21 MLPs",
        model(&|m| m["scales"][0]["mlps"] = json!(1 << 21)),
        &["Invalid"],
    );

    // --- latents
    cases.add(
        "one latent tensor short of the time samples",
        model(&|m| {
            m["scales"][1]["latents"].as_array_mut().unwrap().pop();
        }),
        &["Shape"],
    );
    cases.add(
        "latents with a row more than the non-empty blocks",
        model(&|m| {
            let rows = m["scales"][1]["latents"][0]["shape"][0].as_u64().unwrap();
            m["scales"][1]["latents"][0]["shape"][0] = json!(rows + 1);
        }),
        &["Shape"],
    );
    cases.add(
        "latents with a row less than the non-empty blocks",
        model(&|m| {
            let rows = m["scales"][0]["latents"][1]["shape"][0].as_u64().unwrap();
            m["scales"][0]["latents"][1]["shape"][0] = json!(rows.saturating_sub(1));
        }),
        &["Shape"],
    );
    cases.add(
        "latent codes of the wrong length",
        model(&|m| m["scales"][1]["latents"][2]["shape"][1] = json!(3)),
        &["Shape"],
    );
    cases.add(
        "latents of 2^28 rows in a small section",
        model(&|m| m["scales"][1]["latents"][0]["shape"] = json!([1 << 27, 2])),
        &["Shape", "OutOfBounds"],
    );

    // --- stacked layers
    let layer = |k: usize, f: &'static dyn Fn(&mut Value)| {
        model(&move |m: &mut Value| f(&mut m["scales"][1]["layers"][k]))
    };
    cases.add(
        "a first layer not taking 3 + latent_dim inputs",
        layer(0, &|l| l["weight"]["shape"][2] = json!(6)),
        &["Shape"],
    );
    cases.add(
        "a weight for another number of MLPs",
        layer(1, &|l| l["weight"]["shape"][0] = json!(3)),
        &["Shape"],
    );
    cases.add(
        "a bias of another width",
        layer(0, &|l| l["bias"]["shape"] = json!([2, 5])),
        &["Shape"],
    );
    cases.add(
        "a weight of rank 2",
        layer(0, &|l| l["weight"]["shape"] = json!([4, 5])),
        &["Shape"],
    );
    cases.add(
        "outputs for other variables",
        layer(1, &|l| {
            l["weight"]["shape"][1] = json!(2);
            l["bias"]["shape"][1] = json!(2);
        }),
        &["Shape"],
    );
    cases.add(
        "a linear layer first",
        layer(0, &|l| {
            l["kind"] = json!("linear");
        }),
        &["Invalid"],
    );
    cases.add(
        "a sine layer last",
        layer(1, &|l| {
            l["kind"] = json!("sine");
            l["w0"] = json!(30.0);
        }),
        &["Invalid"],
    );
    cases.add(
        "only a linear layer",
        model(&|m| {
            let last = m["scales"][1]["layers"][1].clone();
            m["scales"][1]["layers"] = json!([last]);
        }),
        &["Invalid"],
    );
    cases.add(
        "w0 = 1e9",
        layer(0, &|l| l["w0"] = json!(1e9)),
        &["Invalid"],
    );
    cases.add(
        "a residual_sine stacked layer",
        layer(0, &|l| l["kind"] = json!("residual_sine")),
        &["Invalid"],
    );
    let (s, _) = assignment(0);
    let mut nan_table = raws.clone();
    let table = meta["model"]["scales"][0]["layers"][0]["weight"]["encoding"]["codebook"].clone();
    let at = table["offset"].as_u64().unwrap() as usize;
    nan_table[s].stored[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    cases.add(
        "NaN in a scale's weight table",
        assemble(&meta, &nan_table),
        &["Invalid"],
    );
    let mut short = raws.clone();
    let half = short[s].stored.len() / 2;
    short[s].stored.truncate(half);
    short[s].length = short[s].stored.len() as u64;
    cases.add(
        "a scale's section cut in half",
        assemble(&meta, &short),
        &["OutOfBounds"],
    );

    // --- absurd sizes: declared, never allocated
    let one_scale = |dims: [u64; 3], block: [u64; 3], count: u64| {
        let (dims, block) = (json!(dims), json!(block));
        with(&move |m: &mut Value| {
            m["domain"]["dims"] = dims.clone();
            m["model"]["block"] = block.clone();
            let mut s = m["model"]["scales"][1].clone();
            let d = &m["domain"]["dims"];
            s["dims"] = json!([d[0], d[1], d[2], 3]);
            s["assignment"]["count"] = json!(count);
            m["model"]["scales"] = json!([s]);
        })
    };
    cases.add(
        "5 x 2^40 blocks",
        one_scale([1 << 24, 1 << 16, 1], [1, 1, 1], 3 << 40),
        &["LimitExceeded"],
    );
    cases.add(
        "2^32 blocks of assignment in a small section",
        one_scale([1 << 16, 1 << 14, 1], [1, 1, 1], 3 << 30),
        &["OutOfBounds"],
    );
    cases.add(
        "a block of 2^24 samples of 3 outputs",
        one_scale([1 << 12, 1 << 12, 1], [1 << 16, 1 << 16, 1], 3),
        &["LimitExceeded"],
    );
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = vm_hwm_kib();
    cases.run();
    let after = vm_hwm_kib();
    println!("peak RSS {before:?} -> {after:?} KiB (peak reset: {reset})");
    if let (Some(b), Some(a)) = (before, after) {
        let grown = a.saturating_sub(b) >> 10;
        assert!(grown < 200, "peak RSS grew by {grown} MiB");
    }
}

fn stsr_spec() -> inr_testkit::stsr::StsrSpec {
    let mut s = inr_testkit::stsr::StsrSpec::small(31);
    s.width = 4;
    s.residual_blocks = 1;
    s.latent_dim = 2;
    s
}

/// An STSR-INR file's metadata and its sections, decompressed.
fn stsr_parts(spec: &inr_testkit::stsr::StsrSpec) -> (Value, Vec<Raw>) {
    let (meta, raws) = parts(&spec.build().unwrap());
    let plain = raws
        .iter()
        .map(|r| Raw::plain(&r.name, zstd::stream::decode_all(&r.stored[..]).unwrap()))
        .collect();
    (meta, plain)
}

#[test]
fn stsr_metadata_and_section_byte_changes_never_panic() {
    let (meta, raws) = stsr_parts(&stsr_spec());
    let tally = fuzz_fixed_checksums(&meta, &raws, 7);
    tally.check("STSR-INR metadata and sections with fixed checksums");
    mutate_every_byte(&stsr_spec().build().unwrap(), "STSR-INR file");
}

/// A change to a model object.
type Edit = Box<dyn Fn(&mut Value)>;

#[test]
fn stsr_contradictions_and_absurd_sizes_are_rejected() {
    let (meta, raws) = stsr_parts(&stsr_spec());
    let edited = |f: &dyn Fn(&mut Value)| with_meta(&meta, &raws, |m| f(&mut m["model"]));
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "heads not dividing",
            Box::new(|m| m["heads"][0] = 2.into()),
            "divide",
        ),
        (
            "zero heads",
            Box::new(|m| m["heads"][1] = 0.into()),
            "heads",
        ),
        (
            "too many heads",
            Box::new(|m| m["heads"] = json!([4096, 4096, 4096])),
            "heads",
        ),
        (
            "grid beyond the samples",
            Box::new(|m| m["head_stride"][0] = 3.into()),
            "fit",
        ),
        (
            "zero stride",
            Box::new(|m| m["head_stride"][2] = 0.into()),
            "stride",
        ),
        (
            "huge stride",
            Box::new(|m| m["head_stride"][2] = u64::MAX.into()),
            "fit",
        ),
        (
            "3 inputs with time",
            Box::new(|m| m["inputs"] = 3.into()),
            "inputs",
        ),
        (
            "no time scale",
            Box::new(|m| m["time_scale"] = Value::Null),
            "time_scale",
        ),
        (
            "latent shape",
            Box::new(|m| m["latents"]["shape"][0] = 2.into()),
            "latents",
        ),
        (
            "zero latent",
            Box::new(|m| m["latent_dim"] = 0.into()),
            "latent_dim",
        ),
        (
            "outputs",
            Box::new(|m| m["outputs"] = 1.into()),
            "components",
        ),
        ("no stages", Box::new(|m| m["stages"] = json!([])), "stages"),
        (
            "no heads layers",
            Box::new(|m| m["head_layers"] = json!([])),
            "head layers",
        ),
        (
            "stage order",
            Box::new(|m| {
                let s = m["stages"][0].clone();
                m["stages"][0] = m["stages"][1].clone();
                m["stages"][1] = s;
            }),
            "chain",
        ),
        (
            "head stack",
            Box::new(|m| m["head_layers"][0]["weight"]["shape"][0] = 5.into()),
            "stacked",
        ),
        (
            "linear stage",
            Box::new(|m| {
                m["stages"][0]["synthesis"]["kind"] = "linear".into();
            }),
            "linear",
        ),
        (
            "missing field",
            Box::new(|m| {
                m.as_object_mut().unwrap().remove("head_grid");
            }),
            "head_grid",
        ),
    ];
    for (name, edit, want) in cases {
        let e = Decoder::from_bytes(edited(&*edit)).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains(want), "{name}: {e}");
    }
    let mut cells = stsr_spec();
    cells.sites = inr::format::Association::Cell;
    let (meta, raws) = stsr_parts(&cells);
    let bytes = with_meta(&meta, &raws, |m| m["model"]["sites"] = "point".into());
    let e = Decoder::from_bytes(bytes).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("sites"), "{e}");
}

fn nervi_spec() -> inr_testkit::nervi::NerviSpec {
    let mut s = inr_testkit::nervi::NerviSpec::small(41);
    s.mlp = vec![6];
    s.reshape = [4, 2, 3];
    s.upscale = vec![(2, 4), (2, 3)];
    s
}

/// A NeRVI file's metadata and its sections, decompressed.
fn nervi_parts() -> (Value, Vec<Raw>) {
    let (meta, raws) = parts(&nervi_spec().build().unwrap());
    let plain = (raws.iter())
        .map(|r| match zstd::stream::decode_all(&r.stored[..]) {
            Ok(b) if r.name == "weights" => Raw::plain(&r.name, b),
            _ => Raw::plain(&r.name, r.stored.clone()),
        })
        .collect();
    (meta, plain)
}

#[test]
fn nervi_metadata_and_section_byte_changes_never_panic() {
    let (meta, raws) = nervi_parts();
    let tally = fuzz_fixed_checksums(&meta, &raws, 5);
    tally.check("NeRVI metadata and sections with fixed checksums");
    mutate_every_byte(&nervi_spec().build().unwrap(), "NeRVI file");
}

#[test]
fn nervi_contradictions_and_absurd_sizes_are_rejected() {
    let (meta, raws) = nervi_parts();
    let edited = |f: &dyn Fn(&mut Value)| with_meta(&meta, &raws, f);
    let model = |f: fn(&mut Value)| -> Edit { Box::new(move |m: &mut Value| f(&mut m["model"])) };
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("inputs", model(|m| m["inputs"] = 2.into()), "inputs"),
        (
            "scales",
            model(|m| m["input_scale"] = json!([1.0])),
            "scales",
        ),
        ("no mlp", model(|m| m["mlp"] = json!([])), "mlp"),
        (
            "reshape",
            model(|m| m["reshape"] = json!([4, 3, 2])),
            "images",
        ),
        (
            "zero reshape",
            model(|m| m["reshape"][0] = 0.into()),
            "reshape",
        ),
        (
            "factor 0",
            model(|m| m["upscale"][0]["factor"] = 0.into()),
            "factor",
        ),
        (
            "factor 17",
            model(|m| m["upscale"][0]["factor"] = 17.into()),
            "factor",
        ),
        (
            "factor 3",
            model(|m| m["upscale"][1]["factor"] = 3.into()),
            "channels",
        ),
        ("no upscale", model(|m| m["upscale"] = json!([])), "images"),
        (
            "head channels",
            model(|m| m["head"]["weight"]["shape"][0] = 3.into()),
            "bias",
        ),
        (
            "even kernel",
            model(|m| m["head"]["weight"]["shape"] = json!([4, 3, 2, 2])),
            "odd k",
        ),
        (
            "kernel 9",
            model(|m| m["head"]["weight"]["shape"] = json!([4, 3, 9, 9])),
            "odd k",
        ),
        (
            "bias shape",
            model(|m| m["head"]["bias"]["shape"] = json!([5])),
            "bias",
        ),
        (
            "levels",
            model(|m| m["encoding"]["levels"] = 33.into()),
            "levels",
        ),
        (
            "base",
            model(|m| m["encoding"]["base"] = json!(-2.0)),
            "base",
        ),
        (
            "unknown encoding",
            model(|m| m["encoding"]["kind"] = "hash".into()),
            "unknown variant",
        ),
        (
            "activation",
            model(|m| m["output_activation"] = "relu".into()),
            "unknown variant",
        ),
        (
            "composite variable",
            model(|m| m["composite"]["color"] = "rgb".into()),
            "composite",
        ),
        (
            "composite background",
            model(|m| m["composite"]["background"] = json!([1.0])),
            "composite",
        ),
        (
            "composite mask of 3 components",
            model(|m| m["composite"]["mask"] = "image".into()),
            "composite",
        ),
        (
            "projected kind without shortcut",
            model(|m| m["mlp"][0]["kind"] = "residual_sine".into()),
            "mlp layer 0",
        ),
        (
            "a linear layer",
            model(|m| m["mlp"][1]["kind"] = "linear".into()),
            "unknown variant",
        ),
        ("w0", model(|m| m["mlp"][1]["w0"] = json!(1e7)), "w0"),
        (
            "image width",
            Box::new(|m: &mut Value| m["domain"]["width"] = 25.into()),
            "images",
        ),
        (
            "no parameters",
            Box::new(|m: &mut Value| m["domain"]["parameters"] = json!([])),
            "parameters",
        ),
        (
            "views not a multiple",
            Box::new(|m: &mut Value| m["domain"]["views"]["count"] = 9.into()),
            "view values",
        ),
        (
            "views of another dtype",
            Box::new(|m: &mut Value| m["domain"]["views"]["dtype"] = "u8".into()),
            "floats",
        ),
        (
            "a cell variable",
            Box::new(|m: &mut Value| m["variables"][1]["association"] = "cell".into()),
            "point data",
        ),
        (
            "another family on images",
            Box::new(|m: &mut Value| m["model"]["family"] = "residual_siren".into()),
            "residual_siren",
        ),
        (
            "nervi on an image domain",
            Box::new(|m: &mut Value| {
                m["domain"] = json!({"kind": "image", "dims": [24, 16, 1],
                    "origin": [0.0, 0.0, 0.0], "spacing": [1.0, 1.0, 1.0]});
            }),
            "images domain",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, edit, want) in cases {
        match Decoder::from_bytes(edited(&*edit)) {
            Err(e) if e.to_string().contains(want) => {}
            Err(e) => wrong.push(format!("{name}: {e}")),
            Ok(_) => wrong.push(format!("{name}: accepted")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Non-finite views are refused.
    let (meta, mut raws) = nervi_parts();
    let views = raws.iter_mut().find(|r| r.name == "views").unwrap();
    views.stored[..8].copy_from_slice(&f64::NAN.to_le_bytes());
    let e = Decoder::from_bytes(assemble(&meta, &raws))
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("non-finite view"), "{e}");
}

#[test]
fn nervi_feature_maps_beyond_the_limit_are_refused_before_allocating() {
    // A 2^24 x 2^24 image from one 1x1 map upscaled 16x six times: the
    // shapes alone must be refused, without reading the declared tensors.
    let (meta, raws) = nervi_parts();
    let bytes = with_meta(&meta, &raws, |m| {
        m["domain"]["width"] = (1u64 << 24).into();
        m["domain"]["height"] = (1u64 << 24).into();
        let model = &mut m["model"];
        model["reshape"] = json!([4, 1, 1]);
        let mlp_out = model["mlp"][1]["weight"]["shape"][1].clone();
        model["mlp"][1]["weight"]["shape"] = json!([4, mlp_out]);
        model["mlp"][1]["bias"]["shape"] = json!([4]);
        let block = json!({"factor": 16, "weight": model["upscale"][0]["weight"].clone(),
            "bias": model["upscale"][0]["bias"].clone()});
        model["upscale"] = Value::Array(vec![block; 6]);
        for u in model["upscale"].as_array_mut().unwrap() {
            u["weight"]["shape"] = json!([1024, 4, 3, 3]);
            u["bias"]["shape"] = json!([1024]);
        }
        model["head"]["weight"]["shape"] = json!([4, 4, 3, 3]);
    });
    let start = Instant::now();
    let e = Decoder::from_bytes(bytes).map(|_| ()).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(
            e,
            Error::LimitExceeded(_) | Error::Shape(_) | Error::OutOfBounds(_)
        ),
        "{e:?}"
    );
}
