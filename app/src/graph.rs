//! The insight graph, drawn on the server with plotters as an SVG: calls per minute of the
//! API (and, for an error-rate insight, the error's line), the baseline level, and each
//! insight of the series as a shaded band.
//!
//! Honest at every span: a graph wider than 720 minutes groups minutes into steps and draws
//! each step's *busiest minute*, so an insight's peak reads the same at 3 hours and at a week
//! (an average would draw 78 calls in one minute as 5.6 at a week), and the legend says so.
//! Time ticks fall on round times (every 5, 10, 15 or 30 minutes, 1, 2, 3, 6 or 12 hours, or
//! days) in the zone the person shows times in; each step with calls has a hover title with
//! its time and count.
//!
//! Plotters draws the axes, the y ticks and the lines; the bands, time ticks, hover areas and
//! legend are written as SVG at the coordinates plotters computed, so they carry classes the
//! page and tests can use.

use plotters::prelude::*;

use engine::time::{format_minute, Minute};

#[derive(Clone)]
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
    /// The zone of the time axis and titles.
    pub zone: crate::format::Zone,
}

/// The two drawings of each graph: wide for screens, narrow for phones, where the wide one
/// shrunk to 360 px would have 4 px text. The page shows one of them by a CSS media query.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Size {
    Wide,
    Narrow,
}

impl Size {
    fn pixels(self) -> (u32, u32) {
        match self {
            Size::Wide => (960, 260),
            Size::Narrow => (480, 300),
        }
    }

    /// At most this many time ticks fit.
    fn max_ticks(self) -> i64 {
        match self {
            Size::Wide => 7,
            Size::Narrow => 4,
        }
    }
}
const CALLS: RGBColor = RGBColor(9, 114, 211);
const ERRORS: RGBColor = RGBColor(209, 50, 18);
const BASELINE: RGBColor = RGBColor(95, 107, 122);

/// Per-step peaks: the busiest minute of each `bucket` minutes.
fn bucketed(counts: &[(Minute, u32)], from: Minute, to: Minute, bucket: i64) -> Vec<(Minute, f64)> {
    let buckets = ((to - from) + bucket - 1) / bucket;
    let mut peaks = vec![0u32; buckets as usize];
    for &(m, c) in counts {
        if m >= from && m < to {
            let slot = &mut peaks[((m - from) / bucket) as usize];
            *slot = (*slot).max(c);
        }
    }
    peaks.iter().enumerate().map(|(i, p)| (from + i as i64 * bucket, *p as f64)).collect()
}

/// Round tick times for a span: the smallest step that gives at most `max_ticks` ticks.
fn time_ticks(from: Minute, to: Minute, max_ticks: i64) -> (i64, Vec<Minute>) {
    const STEPS: [i64; 12] = [1, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880];
    let span = to - from;
    let step = STEPS.iter().copied().find(|s| span / s <= max_ticks).unwrap_or(10080);
    let first = (from + step - 1).div_euclid(step) * step;
    (step, (0..).map(|i| first + i * step).take_while(|m| *m < to).collect())
}

fn tick_label(minute: Minute, step: i64, span: i64) -> String {
    let t = format_minute(minute);
    if step >= 1440 {
        t[5..10].to_owned()
    } else if span > 1440 || t[11..16] == *"00:00" {
        format!("{} {}", &t[5..10], &t[11..16])
    } else {
        t[11..16].to_owned()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The wide drawing.
pub fn render(input: &GraphInput) -> String {
    render_sized(input, Size::Wide)
}

pub fn render_sized(input: &GraphInput, size: Size) -> String {
    let (width, height) = size.pixels();
    // The narrow drawing stacks its legend, one entry a line.
    let entries = 2 + i32::from(input.error_code.is_some());
    let legend_height = if size == Size::Narrow { 18 * entries + 6 } else { 24 };
    let span = (input.to - input.from).max(1);
    let bucket = (span / 720).max(1);
    let calls = bucketed(&input.calls, input.from, input.to, bucket);
    let errors = input.errors.as_ref().map(|e| bucketed(e, input.from, input.to, bucket));
    let top = calls.iter().chain(errors.iter().flatten()).map(|(_, v)| *v).fold(input.baseline, f64::max).max(1.0);
    let peak = top * 1.1;

    let mut svg = String::new();
    let mut under = Vec::new();
    let mut over = Vec::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin_top(legend_height as u32)
            .margin_right(16)
            .x_label_area_size(26)
            .y_label_area_size(48)
            .build_cartesian_2d(input.from..input.to, 0f64..peak)
            .expect("the graph's ranges are not empty");
        // Whole counts on the axis once they are large enough to need no decimals.
        let decimals = if top >= 5.0 { 0 } else { 1 };
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            // Time ticks are drawn below, at round times; plotters' own would fall anywhere.
            .x_labels(2)
            .x_label_formatter(&|_| String::new())
            .y_labels(5)
            // Five gridlines across the plot, not twenty faint ones per division.
            .light_line_style(TRANSPARENT)
            .y_label_formatter(&|v| format!("{v:.decimals$}"))
            .draw();

        let (_, bottom) = chart.backend_coord(&(input.from, 0.0));
        let (_, top_y) = chart.backend_coord(&(input.from, peak));
        // Round times on the zone's clock: ticks are found in local minutes, drawn in UTC ones.
        let off = input.zone.offset_minutes as i64;
        let local = |m: Minute| format_minute(m + off)[..16].replace('T', " ");
        let zone = input.zone.label();
        let (step, ticks) = time_ticks(input.from + off, input.to + off, size.max_ticks());
        for local_minute in ticks {
            let minute = local_minute - off;
            let (x, _) = chart.backend_coord(&(minute, 0.0));
            under.push(format!(
                r#"<line class="tick" x1="{x}" y1="{top_y}" x2="{x}" y2="{bottom}" stroke="rgb(128,128,128)" stroke-opacity="0.18"/><text class="tick-label" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                bottom + 16,
                tick_label(local_minute, step, span)
            ));
        }
        for &(start, end) in &input.bands {
            let (x0, y0) = chart.backend_coord(&(start.max(input.from), peak));
            let (x1, y1) = chart.backend_coord(&(end.min(input.to), 0.0));
            // A one-minute insight in a week-long graph must still be visible.
            let (x0, width) = if x1 - x0 < 6 { ((x0 + x1) / 2 - 3, 6) } else { (x0, x1 - x0) };
            under.push(format!(
                r##"<rect class="band" x="{x0}" y="{y0}" width="{width}" height="{}" fill="#ff9900" fill-opacity="0.3"><title>insight {} to {} {zone}</title></rect>"##,
                y1 - y0,
                local(start),
                &local(end)[11..],
            ));
        }
        // Errors first and wider, calls on top and narrower: where every call is an error
        // the two lines coincide, and both stay visible.
        if let Some(errors) = &errors {
            let _ = chart.draw_series(LineSeries::new(errors.iter().copied(), ERRORS.stroke_width(4)));
        }
        let _ = chart.draw_series(LineSeries::new(calls.iter().copied(), CALLS.stroke_width(if errors.is_some() { 1 } else { 2 })));
        let _ = chart.draw_series(LineSeries::new([(input.from, input.baseline), (input.to, input.baseline)], BASELINE.stroke_width(1)));

        // Hover: each step with calls, as a full-height strip with its time and counts.
        for (i, &(minute, value)) in calls.iter().enumerate() {
            let error_value = errors.as_ref().map(|e| e[i].1).unwrap_or(0.0);
            if value == 0.0 && error_value == 0.0 {
                continue;
            }
            let (x0, _) = chart.backend_coord(&(minute, 0.0));
            let (x1, _) = chart.backend_coord(&((minute + bucket).min(input.to), 0.0));
            let when = if bucket == 1 {
                format!("{} {zone}", local(minute))
            } else {
                format!("{} to {} {zone}, busiest minute", local(minute), &local(minute + bucket)[11..])
            };
            let mut text = format!("{when}: {value} call{}", if value == 1.0 { "" } else { "s" });
            if let Some(code) = input.errors.as_ref().and(input.error_code.as_ref()) {
                text.push_str(&format!(", {error_value} {code}"));
            }
            over.push(format!(
                r#"<rect class="hover" x="{x0}" y="{top_y}" width="{}" height="{}" fill="transparent"><title>{}</title></rect>"#,
                (x1 - x0).max(2),
                bottom - top_y,
                escape(&text)
            ));
        }

        // The legend, above the plot.
        let (left, _) = chart.backend_coord(&(input.from, peak));
        let per = if bucket == 1 { "per minute".to_owned() } else { format!("per minute (busiest minute of each {bucket} minutes)") };
        let mut legend = vec![(CALLS, format!("calls {per}"))];
        if let Some(code) = &input.error_code {
            legend.push((ERRORS, format!("{code} {per}")));
        }
        legend.push((BASELINE, format!("baseline {:.4} per minute", input.baseline)));
        let (mut x, mut y) = (left, 12);
        for (color, text) in legend {
            over.push(format!(
                r#"<rect x="{x}" y="{}" width="12" height="3" fill="rgb({},{},{})"/><text x="{}" y="{y}" class="legend">{}</text>"#,
                y - 6, color.0, color.1, color.2, x + 16, escape(&text)
            ));
            match size {
                Size::Wide => x += 28 + 7 * text.len() as i32,
                Size::Narrow => y += 18,
            }
        }
        let _ = root.present();
    }
    let svg = svg.replacen("<svg ", r#"<svg class="graph" role="img" aria-label="calls per minute with the insight shaded" preserveAspectRatio="xMinYMin meet" "#, 1);
    // Ticks and bands go under the lines (right after the background, before what plotters
    // drew); hover areas and the legend on top.
    let close = svg.rfind("</svg>").unwrap_or(svg.len());
    let first_shape = svg.find("<line").unwrap_or(close);
    format!("{}{}{}{}</svg>", &svg[..first_shape], under.join(""), &svg[first_shape..close], over.join(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_series_the_band_and_the_labels() {
        let input = GraphInput {
            from: 1000,
            to: 1180,
            calls: vec![(1010, 2), (1090, 67), (1091, 40)],
            errors: Some(vec![(1090, 25)]),
            error_code: Some("ThrottlingException".into()),
            baseline: 0.008,
            bands: vec![(1090, 1092)],
            zone: crate::format::Zone::UTC,
        };
        let svg = render(&input);
        assert!(svg.starts_with("<svg class=\"graph\""));
        assert_eq!(svg.matches("class=\"band\"").count(), 1);
        assert!(svg.contains("ThrottlingException per minute"));
        // Minute 1000 is 16:40 UTC: a 3-hour graph has ticks every 30 minutes from 17:00.
        let ticks: Vec<&str> = svg.match_indices("class=\"tick-label\"").map(|(i, _)| {
            let text = &svg[i..];
            &text[text.find('>').unwrap() + 1..text.find("</text>").unwrap()]
        }).collect();
        assert_eq!(ticks, ["17:00", "17:30", "18:00", "18:30", "19:00", "19:30"]);
        // Hover titles for each minute with calls, with the error count.
        assert!(svg.contains("<title>1970-01-01 18:10 UTC: 67 calls, 25 ThrottlingException</title>"), "{svg}");
        assert_eq!(svg.matches("class=\"hover\"").count(), 3);
        // In UTC+05:30 the same graph ticks on round local times and titles say the zone.
        let india = render(&GraphInput { zone: crate::format::Zone::parse("330").unwrap(), ..input.clone() });
        assert!(india.contains(">22:30</text>") && india.contains("1970-01-01 23:40 UTC+05:30: 67 calls"), "{india}");
        assert!(svg.matches("<polyline").count() >= 3, "calls, errors and baseline lines");
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn the_phone_drawing_is_narrow_with_fewer_ticks_and_a_stacked_legend() {
        let input = GraphInput {
            from: 1000,
            to: 1180,
            calls: vec![(1090, 67)],
            errors: Some(vec![(1090, 25)]),
            error_code: Some("ThrottlingException".into()),
            baseline: 0.008,
            bands: vec![],
            zone: crate::format::Zone::UTC,
        };
        let svg = render_sized(&input, Size::Narrow);
        assert!(svg.contains(r#"viewBox="0 0 480 300""#), "{}", &svg[..300]);
        assert!(svg.matches("class=\"tick-label\"").count() <= 4);
        let legend_rows: std::collections::BTreeSet<&str> =
            svg.match_indices("class=\"legend\"").map(|(i, _)| { let before = &svg[..i]; let y = before.rfind(" y=\"").unwrap(); &before[y..] }).collect();
        assert_eq!(legend_rows.len(), 3, "calls, errors and baseline on their own lines");
    }

    #[test]
    fn long_spans_draw_each_steps_busiest_minute() {
        // 78 calls in one minute stays 78 at a week (720 steps of 14 minutes).
        let points = bucketed(&[(0, 10), (1, 78), (20, 3)], 0, 10080, 14);
        assert_eq!(points.len(), 720);
        assert_eq!((points[0].1, points[1].1, points[2].1), (78.0, 3.0, 0.0));
    }

    #[test]
    fn time_ticks_fall_on_round_times() {
        // 3 hours from 10:37: every 30 minutes from 11:00.
        let from = 27_999_360 + 37; // 27_999_360 is a midnight (a multiple of 1440)
        let (step, ticks) = time_ticks(from, from + 180, 7);
        assert_eq!(step, 30);
        assert!(ticks.iter().all(|m| m % 30 == 0) && ticks.len() == 6, "{ticks:?}");
        let (step, ticks) = time_ticks(from, from + 10080, 7);
        assert_eq!((step, ticks.len()), (1440, 7), "a week: a tick each midnight");
        assert_eq!(tick_label(27_999_360, 1440, 10080).len(), 5, "days read MM-DD");
    }
}
