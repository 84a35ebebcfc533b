//! A latency histogram with bounded memory: log-linear buckets (64 per power of two, so every
//! value is kept within 1.6%), in microseconds.

/// Sub-buckets per power of two.
const SUB: u64 = 64;
/// Enough powers of two for about 2^40 µs (12 days).
const BUCKETS: usize = (SUB as usize) * 40;

/// Counts of microsecond values, mergeable across tasks.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let log = 63 - u64::from(v.leading_zeros()); // >= 6
    let shift = log - 6; // keep the top 7 bits: v >> shift is in [64, 128)
    let sub = (v >> shift) - SUB;
    (((shift + 1) * SUB + sub) as usize).min(BUCKETS - 1)
}

fn lowest(i: usize) -> u64 {
    let i = i as u64;
    if i < SUB {
        return i;
    }
    (i % SUB + SUB) << (i / SUB - 1)
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            total: 0,
            max: 0,
        }
    }

    /// Records one value in microseconds.
    pub fn record(&mut self, micros: u64) {
        self.counts[index(micros)] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
        self.max = self.max.max(other.max);
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value recorded (exact).
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The value at quantile `q` (0.0..=1.0), to within 1.6%; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return lowest(i).min(self.max);
            }
        }
        self.max
    }

    /// `{"p50", "p99", "max"}` in microseconds, for the results line.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "p50": self.quantile(0.50),
            "p99": self.quantile(0.99),
            "max": self.max(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in 0..1_000_000u64 {
            let i = index(v);
            assert!(i >= last, "{v}");
            last = i;
            let lo = lowest(i);
            assert!(lo <= v, "{v} {lo}");
            assert!((v - lo) as f64 <= v as f64 * 0.016 + 1.0, "{v} {lo}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::new();
        for v in 1..=1000 {
            h.record(v);
        }
        assert_eq!(h.count(), 1000);
        assert_eq!(h.quantile(0.5), 500);
        assert!((980..=990).contains(&h.quantile(0.99)));
        assert_eq!(h.max(), 1000);
        let mut g = Histogram::new();
        g.record(5000);
        h.merge(&g);
        assert_eq!(h.max(), 5000);
        assert_eq!(Histogram::new().quantile(0.5), 0);
    }
}
