//! The insight graph, drawn on the server with plotters as an SVG: calls per minute of the
//! API (and, for an error-rate insight, the error's line), the baseline level, and each
//! insight of the series as a shaded band.
//!
//! Plotters draws the axes, ticks and lines; the bands and the legend are written as SVG
//! at the coordinates plotters computed, so they carry classes the page and tests can use.

use plotters::prelude::*;

use engine::time::{format_minute, Minute};

pub struct GraphInput {
    /// `[from, to)` in minutes.
    pub from: Minute,
    pub to: Minute,
    /// Non-zero per-minute counts of the calls.
    pub calls: Vec<(Minute, u32)>,
    /// For error-rate insights, the error's per-minute counts.
    pub errors: Option<Vec<(Minute, u32)>>,
    pub error_code: Option<String>,
    /// The baseline average of the insight shown.
    pub baseline: f64,
    /// Every insight of this series in the window: `(start, end)`.
    pub bands: Vec<(Minute, Minute)>,
}

const WIDTH: u32 = 960;
const HEIGHT: u32 = 260;
const CALLS: RGBColor = RGBColor(9, 114, 211);
const ERRORS: RGBColor = RGBColor(209, 50, 18);
const BASELINE: RGBColor = RGBColor(95, 107, 122);

/// Per-bucket averages (calls per minute), so a week stays a readable, light line.
fn bucketed(counts: &[(Minute, u32)], from: Minute, to: Minute, bucket: i64) -> Vec<(Minute, f64)> {
    let buckets = ((to - from) + bucket - 1) / bucket;
    let mut sums = vec![0u64; buckets as usize];
    for &(m, c) in counts {
        if m >= from && m < to {
            sums[((m - from) / bucket) as usize] += c as u64;
        }
    }
    sums.iter().enumerate().map(|(i, s)| (from + i as i64 * bucket, *s as f64 / bucket as f64)).collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

pub fn render(input: &GraphInput) -> String {
    let span = (input.to - input.from).max(1);
    let bucket = (span / 720).max(1);
    let calls = bucketed(&input.calls, input.from, input.to, bucket);
    let errors = input.errors.as_ref().map(|e| bucketed(e, input.from, input.to, bucket));
    let peak = calls
        .iter()
        .chain(errors.iter().flatten())
        .map(|(_, v)| *v)
        .fold(input.baseline, f64::max)
        .max(1.0)
        * 1.1;

    let mut svg = String::new();
    let mut labels = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(24)
            .margin_right(16)
            .x_label_area_size(26)
            .y_label_area_size(48)
            .build_cartesian_2d(input.from..input.to, 0f64..peak)
            .expect("the graph's ranges are not empty");
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(6)
            .y_labels(5)
            .x_label_formatter(&|m| {
                let t = format_minute(*m);
                format!("{} {}", &t[5..10], &t[11..16])
            })
            .y_label_formatter(&|v| format!("{v:.1}"))
            .light_line_style(RGBAColor(128, 128, 128, 0.15))
            .draw();

        for &(start, end) in &input.bands {
            let (x0, y0) = chart.backend_coord(&(start.max(input.from), peak));
            let (x1, y1) = chart.backend_coord(&(end.min(input.to), 0.0));
            // A one-minute insight in a week-long graph must still be visible.
            let (x0, width) = if x1 - x0 < 6 { ((x0 + x1) / 2 - 3, 6) } else { (x0, x1 - x0) };
            labels.push(format!(
                r##"<rect class="band" x="{x0}" y="{y0}" width="{width}" height="{}" fill="#ff9900" fill-opacity="0.3"><title>insight {} to {}</title></rect>"##,
                y1 - y0,
                format_minute(start),
                format_minute(end)
            ));
        }
        let _ = chart.draw_series(LineSeries::new(calls.iter().copied(), CALLS.stroke_width(2)));
        if let Some(errors) = &errors {
            let _ = chart.draw_series(LineSeries::new(errors.iter().copied(), ERRORS.stroke_width(2)));
        }
        let _ = chart.draw_series(LineSeries::new([(input.from, input.baseline), (input.to, input.baseline)], BASELINE.stroke_width(1)));

        // The legend, above the plot.
        let (left, _) = chart.backend_coord(&(input.from, peak));
        let mut legend = vec![(CALLS, "calls per minute".to_owned())];
        if let Some(code) = &input.error_code {
            legend.push((ERRORS, format!("{code} per minute")));
        }
        legend.push((BASELINE, format!("baseline {:.4}", input.baseline)));
        let mut x = left;
        for (color, text) in legend {
            labels.push(format!(
                r#"<rect x="{x}" y="6" width="12" height="3" fill="rgb({},{},{})"/><text x="{}" y="12" class="legend">{}</text>"#,
                color.0, color.1, color.2, x + 16, escape(&text)
            ));
            x += 28 + 7 * text.len() as i32;
        }
        let _ = root.present();
    }
    let svg = svg.replacen("<svg ", r#"<svg class="graph" role="img" aria-label="calls per minute with the insight shaded" preserveAspectRatio="xMinYMin meet" "#, 1);
    // Bands go under the lines: right after the background, before what plotters drew.
    let close = svg.rfind("</svg>").unwrap_or(svg.len());
    let (bands, texts): (Vec<_>, Vec<_>) = labels.into_iter().partition(|l| l.starts_with("<rect class=\"band\""));
    let first_shape = svg.find("<line").unwrap_or(close);
    format!("{}{}{}{}</svg>", &svg[..first_shape], bands.join(""), &svg[first_shape..close], texts.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_series_the_band_and_the_labels() {
        let svg = render(&GraphInput {
            from: 1000,
            to: 1180,
            calls: vec![(1010, 2), (1090, 67), (1091, 40)],
            errors: Some(vec![(1090, 25)]),
            error_code: Some("ThrottlingException".into()),
            baseline: 0.008,
            bands: vec![(1090, 1092)],
        });
        assert!(svg.starts_with("<svg class=\"graph\""));
        assert_eq!(svg.matches("class=\"band\"").count(), 1);
        assert!(svg.contains("ThrottlingException per minute"));
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(texts.iter().any(|t| t.starts_with("01-01 1")), "time ticks read as dates and times");
        assert!(
            !texts.iter().any(|t| t.len() >= 4 && t.chars().all(|c| c.is_ascii_digit())),
            "not as raw minute numbers"
        );
        assert!(svg.matches("<polyline").count() >= 3, "calls, errors and baseline lines");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn long_spans_are_averaged_into_buckets() {
        let points = bucketed(&[(0, 10), (1, 20)], 0, 10080, 14);
        assert_eq!(points.len(), 720);
        assert!((points[0].1 - 30.0 / 14.0).abs() < 1e-9);
    }
}
