//! Scalar k-means quantization of weights (the "trained quantization" step of
//! deep compression): values are replaced by indices into a small codebook.

/// A quantized tensor: codebook values and one index per input value.
pub struct Quantized {
    pub codebook: Vec<f32>,
    pub indices: Vec<u32>,
}

/// Lloyd's algorithm in one dimension. Initial centroids are quantiles of the
/// sorted values (deterministic, and they put more levels where weights are
/// dense, as the weight distributions of trained networks are peaked). In 1-D
/// the nearest centroid is found by binary search over the sorted codebook.
pub fn kmeans_1d(values: &[f32], max_levels: usize) -> Quantized {
    let mut sorted: Vec<f32> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f32::total_cmp);
    sorted.dedup();
    if sorted.len() <= max_levels {
        // Few distinct values: the codebook is exact.
        let indices = values.iter().map(|v| nearest(&sorted, *v)).collect();
        return Quantized {
            codebook: if sorted.is_empty() { vec![0.0] } else { sorted },
            indices,
        };
    }
    let k = max_levels.max(1);
    let mut centroids: Vec<f32> = (0..k)
        .map(|i| sorted[(i * (sorted.len() - 1)) / (k - 1).max(1)])
        .collect();
    for _ in 0..30 {
        let mut sum = vec![0f64; k];
        let mut count = vec![0usize; k];
        for &v in values.iter().filter(|v| v.is_finite()) {
            let i = nearest(&centroids, v) as usize;
            sum[i] += v as f64;
            count[i] += 1;
        }
        let mut moved = false;
        for i in 0..k {
            if count[i] > 0 {
                let c = (sum[i] / count[i] as f64) as f32;
                moved |= c != centroids[i];
                centroids[i] = c;
            }
        }
        centroids.sort_by(f32::total_cmp);
        if !moved {
            break;
        }
    }
    let indices = values.iter().map(|v| nearest(&centroids, *v)).collect();
    Quantized {
        codebook: centroids,
        indices,
    }
}

/// Index of the codebook entry closest to `v` (codebook sorted ascending).
pub fn nearest(codebook: &[f32], v: f32) -> u32 {
    if codebook.is_empty() || !v.is_finite() {
        return 0;
    }
    let i = codebook.partition_point(|&c| c < v);
    if i == 0 {
        return 0;
    }
    if i == codebook.len() {
        return (codebook.len() - 1) as u32;
    }
    if (v - codebook[i - 1]) <= (codebook[i] - v) {
        (i - 1) as u32
    } else {
        i as u32
    }
}
