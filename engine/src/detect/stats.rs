//! Tail probabilities for counts.
//!
//! Per-minute API calls are counts, mostly tiny ones: a Gaussian z-score on them fires all
//! the time. We ask instead "how likely is a count this high?" under a Poisson model or,
//! when the baseline varies more than a Poisson would (daily rhythm, bursts of batch work),
//! a negative binomial with the baseline's own mean and variance.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection keeps the approximation accurate near zero.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = C[1..].iter().enumerate().fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// A count distribution fitted to a baseline's mean and variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CountModel {
    Poisson { mean: f64 },
    /// Negative binomial with `r` successes and success probability `p` (mean r(1-p)/p).
    NegativeBinomial { r: f64, p: f64 },
}

impl CountModel {
    /// Poisson when the variance is (nearly) the mean, negative binomial when it is larger.
    /// `min_mean` keeps an all-zero baseline from making any single call "impossible".
    pub fn fit(mean: f64, variance: f64, min_mean: f64) -> CountModel {
        let mean = mean.max(min_mean);
        if variance > mean * 1.1 {
            let r = mean * mean / (variance - mean);
            CountModel::NegativeBinomial { r, p: r / (r + mean) }
        } else {
            CountModel::Poisson { mean }
        }
    }

    fn ln_pmf(self, k: f64) -> f64 {
        match self {
            CountModel::Poisson { mean } => k * mean.ln() - mean - ln_gamma(k + 1.0),
            CountModel::NegativeBinomial { r, p } => {
                ln_gamma(k + r) - ln_gamma(r) - ln_gamma(k + 1.0) + r * p.ln() + k * (1.0 - p).ln()
            }
        }
    }

    /// ln P(X >= x), for x above the mean (the only case detection asks about).
    ///
    /// Sums the terms after the first by their ratio to the one before (no ln Γ per term),
    /// closing with the geometric bound once they shrink steadily: this runs once per
    /// candidate minute, for busy APIs every minute of their peak hours.
    pub fn ln_upper_tail(self, x: u32) -> f64 {
        let first = self.ln_pmf(x as f64);
        let ratio = |k: f64| match self {
            CountModel::Poisson { mean } => mean / (k + 1.0),
            CountModel::NegativeBinomial { r, p } => (k + r) / (k + 1.0) * (1.0 - p),
        };
        let (mut sum, mut term) = (1.0, 1.0); // terms relative to the first
        for k in x..x + 2000 {
            let q = ratio(k as f64);
            term *= q;
            sum += term;
            if term < 1e-12 * sum {
                break;
            }
            if q < 1.0 && ratio(k as f64 + 1.0) <= q {
                // The ratios keep falling from here, so the rest is below a geometric series.
                if term * q / (1.0 - q) < 1e-12 * sum {
                    break;
                }
            }
        }
        first + sum.ln()
    }

    /// ln P(X <= x), for x below the mean (drops below the baseline).
    pub fn ln_lower_tail(self, x: u32) -> f64 {
        let last = self.ln_pmf(x as f64);
        let ratio_down = |k: f64| match self {
            CountModel::Poisson { mean } => k / mean,
            CountModel::NegativeBinomial { r, p } => k / ((k - 1.0 + r) * (1.0 - p)),
        };
        let (mut sum, mut term) = (1.0, 1.0);
        for k in (1..=x).rev() {
            term *= ratio_down(k as f64);
            sum += term;
            if term < 1e-12 * sum {
                break;
            }
        }
        last + sum.ln()
    }

    /// The model's mean.
    pub fn mean(self) -> f64 {
        match self {
            CountModel::Poisson { mean } => mean,
            CountModel::NegativeBinomial { r, p } => r * (1.0 - p) / p,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!((ln_gamma(1.0)).abs() < 1e-12);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
        assert!((ln_gamma(101.0) - 363.739_375_555_563_5).abs() < 1e-9);
    }

    #[test]
    fn poisson_tail_matches_the_closed_form() {
        // P(X >= 3 | mean 1) = 1 - e^-1 (1 + 1 + 1/2)
        let exact = 1.0 - (-1f64).exp() * 2.5;
        let got = CountModel::Poisson { mean: 1.0 }.ln_upper_tail(3).exp();
        assert!((got - exact).abs() < 1e-12, "{got} vs {exact}");
    }

    #[test]
    fn tails_match_direct_sums_of_the_pmf() {
        for model in [CountModel::Poisson { mean: 3.5 }, CountModel::fit(4.0, 30.0, 0.0)] {
            let upper: f64 = (12..3000).map(|k| model.ln_pmf(k as f64).exp()).sum();
            assert!((model.ln_upper_tail(12) - upper.ln()).abs() < 1e-9, "{model:?}");
            let lower: f64 = (0..=1).map(|k| model.ln_pmf(k as f64).exp()).sum();
            assert!((model.ln_lower_tail(1) - lower.ln()).abs() < 1e-9, "{model:?}");
        }
    }

    #[test]
    fn over_dispersed_baselines_make_bursts_less_surprising() {
        let poisson = CountModel::fit(10.0, 10.0, 0.0);
        let bursty = CountModel::fit(10.0, 100.0, 0.0);
        assert!(matches!(bursty, CountModel::NegativeBinomial { .. }));
        assert!(bursty.ln_upper_tail(40) > poisson.ln_upper_tail(40) + 10.0);
    }
}
