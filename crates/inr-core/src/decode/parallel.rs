//! Runs tiles of work on a thread pool, with progress reported on the calling
//! thread (GUI hosts such as ParaView may only touch their widgets there) and
//! cancellation between tiles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use once_cell::sync::Lazy;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// A progress callback: receives the fraction done in [0, 1], returns `false`
/// to cancel. Called on the thread that started the decode: once before the
/// work starts (so a cancel already asked for is honoured however fast the
/// decode), about every [`PROGRESS_INTERVAL`], and once with 1.0 at the end.
pub type Progress<'a> = &'a (dyn Fn(f64) -> bool + Sync);

/// How often progress is reported.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Options of a decode. `Default`: all cores, no progress, every scale.
#[derive(Clone, Copy, Default)]
pub struct DecodeOptions<'a> {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Optional progress callback with cancellation.
    pub progress: Option<Progress<'a>>,
    /// Level of detail of multiscale (ECNR) models: 0 sums every scale, `k`
    /// only the coarsest `k` (all when `k` exceeds them). Other families
    /// ignore it.
    pub detail: u32,
    /// Latent interpolation (STSR-INR, docs/format.md section 10.5): every
    /// requested variable decoded with its latent vector and range blended
    /// toward those of another variable. Families without variable
    /// embeddings refuse it.
    pub blend: Option<Blend>,
}

/// A blend of variable embeddings: `(1 - alpha) * own + alpha * with's`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Blend {
    /// The variable blended toward.
    pub with: usize,
    /// 0 gives the requested variable, 1 variable `with`; finite.
    pub alpha: f64,
}

/// The progress of one of several passes of a decode: the pass's fraction
/// `f` reported as `offset + f * share` of the whole, so that the caller
/// sees one rise from 0 to 1 (the last pass's end reports 1.0).
pub fn scaled_progress<'a>(
    progress: Option<Progress<'a>>,
    offset: f64,
    share: f64,
) -> impl Fn(f64) -> bool + Sync + 'a {
    move |f: f64| progress.is_none_or(|p| p((offset + f * share).min(1.0)))
}

/// Thread pools by size, shared by all decoders: building a pool per call
/// would cost more than decoding a small request.
static POOLS: Lazy<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> =
    Lazy::new(|| Mutex::new(HashMap::new()));

/// The threads a decode runs on: `threads`, or one per core for 0.
pub(crate) fn thread_count(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

fn pool(threads: usize) -> Result<Arc<rayon::ThreadPool>> {
    let n = thread_count(threads);
    let mut pools = POOLS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(&n) {
        return Ok(p.clone());
    }
    let p = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("inr-decode-{i}"))
        .build()
        .map_err(|e| Error::InvalidArgument(format!("cannot start {n} threads: {e}")))?;
    let p = Arc::new(p);
    pools.insert(n, p.clone());
    Ok(p)
}

/// Runs `work` on every job, in parallel, with per-thread state made by
/// `init`. Returns `Error::Cancelled` if the progress callback asked to stop.
pub fn run<J, S, I, W>(jobs: Vec<J>, options: &DecodeOptions, init: I, work: W) -> Result<()>
where
    J: Send,
    I: Fn() -> S + Sync + Send,
    W: Fn(&mut S, J) + Sync + Send,
{
    let total = jobs.len().max(1);
    let done = AtomicUsize::new(0);
    let cancel = AtomicBool::new(false);
    let body = || {
        jobs.into_par_iter().for_each_init(&init, |state, job| {
            if !cancel.load(Ordering::Relaxed) {
                work(state, job);
                done.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let pool = pool(options.threads)?;
    if options.progress.is_some_and(|p| !p(0.0)) {
        return Err(Error::Cancelled);
    }
    match options.progress {
        None => pool.install(body),
        Some(progress) => std::thread::scope(|s| {
            let (tx, rx) = mpsc::channel::<()>();
            let pool = &pool;
            s.spawn(move || {
                pool.install(body);
                let _ = tx.send(());
            });
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(PROGRESS_INTERVAL) {
                if !cancel.load(Ordering::Relaxed)
                    && !progress(done.load(Ordering::Relaxed) as f64 / total as f64)
                {
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        }),
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    if let Some(progress) = options.progress {
        progress(1.0);
    }
    Ok(())
}

/// Points per chunk of a long request: bounds the memory that a chunk's
/// intermediate results take (routes, grouped or interleaved values).
pub const CHUNK: usize = 1 << 18;

/// Runs `work(start, len, options)` on the chunks of `n` points, with each
/// chunk's progress scaled into its share of the whole.
pub(crate) fn for_chunks(
    n: usize,
    options: &DecodeOptions,
    mut work: impl FnMut(usize, usize, &DecodeOptions) -> Result<()>,
) -> Result<()> {
    let mut start = 0;
    while start < n {
        let len = CHUNK.min(n - start);
        let scaled = scaled_progress(
            options.progress,
            start as f64 / n as f64,
            len as f64 / n as f64,
        );
        let chunk_options = DecodeOptions {
            progress: options.progress.map(|_| &scaled as Progress),
            ..*options
        };
        work(start, len, &chunk_options)?;
        start += len;
    }
    Ok(())
}
