//! Server functions for the insights list and the insight page.

use leptos::prelude::*;

use super::AppError;
use crate::model::{EventsPage, GraphView, InsightDetail, InsightExtras, InsightsPage};
use crate::query::InsightsQuery;

pub const PAGE_SIZE: u32 = 25;

/// Graph spans a person can pick, and their length in minutes.
pub const SPANS: [(&str, i64); 8] =
    [("5m", 5), ("30m", 30), ("1h", 60), ("3h", 180), ("12h", 720), ("1d", 1440), ("3d", 4320), ("1w", 10080)];

/// The console's default span for an insight of this many minutes.
pub fn default_span(duration_minutes: i64) -> &'static str {
    match duration_minutes {
        d if d < 240 => "3h",
        d if d < 720 => "12h",
        d if d < 1440 => "1d",
        d if d < 4320 => "3d",
        _ => "1w",
    }
}

#[cfg(feature = "ssr")]
pub mod server {
    //! The store side of the insight pages, also used by the server's downloads.

    use engine::store::{InsightFilter, InsightType, StoredInsight};

    use super::*;
    use crate::api::server::internal;

    /// The engine filter for a list query, given "now" for relative time ranges.
    pub fn filter_for(q: &InsightsQuery, now_ms: i64, zone: crate::format::Zone) -> InsightFilter {
        let text = (!q.q.is_empty()).then(|| q.q.clone());
        let (from, to) = q.time_range_in(now_ms, zone);
        // Trail, event name and source are matched in [`matching`], like "any attribute":
        // every text box filters the same way (case-insensitive, part of the value).
        InsightFilter {
            trail: None,
            insight_type: InsightType::parse(&q.insight_type),
            event_name: None,
            event_source: None,
            event_id: if q.attr == "id" { text.clone() } else { None },
            from: from.map(engine::time::minute_of_millis),
            // An insight starting in the range's last minute is inside it.
            to: to.map(|ms| engine::time::minute_of_millis(ms) + 1),
            triage_state: engine::notify::TriageState::parse(&q.state),
            hide_suppressed: !q.suppressed,
            limit: None,
            offset: 0,
        }
    }

    /// What [`super::get_insight_graph`] draws, and the span it covers (`None` for an unknown
    /// insight); also behind the graph's SVG download, which draws only the wide one.
    pub async fn graph_input(
        store: &dyn engine::Store,
        id: &str,
        span: &str,
        now_ms: i64,
        zone: crate::format::Zone,
    ) -> Result<Option<(&'static str, crate::graph::GraphInput)>, AppError> {
        use engine::store::SeriesQuery;

        let Some(i) = store.get_insight(id).await.map_err(internal)? else {
            return Ok(None);
        };
        let last_minute = engine::time::minute_of_millis(now_ms);
        let end = i.end_minute.unwrap_or(last_minute.max(i.start_minute + 1));
        let span = SPANS
            .iter()
            .find(|(key, _)| *key == span)
            .map(|(key, _)| *key)
            .unwrap_or_else(|| default_span(end - i.start_minute));
        let span_minutes = SPANS.iter().find(|(key, _)| *key == span).map(|(_, m)| *m).unwrap_or(180);
        let (from, to) = graph_window(i.start_minute, end, span_minutes, last_minute + 1);

        let series = |counted: Option<InsightType>, error_code: Option<String>| SeriesQuery {
            trail: Some(i.trail.clone()),
            account: Some(i.key.account.clone()),
            region: Some(i.key.region.clone()),
            event_source: i.key.event_source.clone(),
            event_name: i.key.event_name.clone(),
            error_code,
            counted,
            from,
            to,
        };
        let (calls, errors) = match i.insight_type {
            InsightType::ApiCallRate => (store.series_counts(&series(Some(InsightType::ApiCallRate), None)).await.map_err(internal)?, None),
            InsightType::ApiErrorRate => (
                store.series_counts(&series(None, None)).await.map_err(internal)?,
                Some(store.series_counts(&series(Some(InsightType::ApiErrorRate), i.key.error_code.clone())).await.map_err(internal)?),
            ),
        };
        let bands = same_series(store, &i)
            .await?
            .into_iter()
            .map(|o| (o.start_minute, o.end_minute.unwrap_or(last_minute + 1)))
            .filter(|(s, e)| *e > from && *s < to)
            .collect();
        let input = crate::graph::GraphInput {
            from,
            to,
            calls,
            errors,
            error_code: i.key.error_code.clone(),
            baseline: i.baseline_average,
            bands,
            zone,
        };
        Ok(Some((span, input)))
    }

    /// Every insight of `i`'s type on its series (same trail, account, region, API and error
    /// code), `i` included, newest first: the graph's bands and the "other insights" list.
    pub async fn same_series(store: &dyn engine::Store, i: &StoredInsight) -> Result<Vec<StoredInsight>, AppError> {
        let filter = InsightFilter {
            trail: Some(i.trail.clone()),
            insight_type: Some(i.insight_type),
            event_name: Some(i.key.event_name.clone()),
            event_source: Some(i.key.event_source.clone()),
            ..Default::default()
        };
        Ok(store.list_insights(&filter).await.map_err(internal)?.into_iter().filter(|o| o.key == i.key).collect())
    }

    /// Without an attribute, the text matches event name, source, error code or ID, loosely.
    pub fn loose_match(i: &StoredInsight, text: &str) -> bool {
        let text = text.to_lowercase();
        [Some(&i.key.event_name), Some(&i.key.event_source), i.key.error_code.as_ref(), Some(&i.shared_event_id)]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(&text))
    }

    /// Every insight matching the list query, newest first.
    pub async fn matching(
        store: &dyn engine::Store,
        q: &InsightsQuery,
        now_ms: i64,
        zone: crate::format::Zone,
    ) -> Result<Vec<StoredInsight>, AppError> {
        let all = store.list_insights(&filter_for(q, now_ms, zone)).await.map_err(internal)?;
        let contains = |value: &str, part: &str| part.is_empty() || value.to_lowercase().contains(&part.trim().to_lowercase());
        Ok(all
            .into_iter()
            .filter(|i| contains(&i.trail, &q.trail))
            .filter(|i| match q.attr.as_str() {
                "" => q.q.is_empty() || loose_match(i, &q.q),
                "name" => contains(&i.key.event_name, &q.q),
                "source" => contains(&i.key.event_source, &q.q),
                _ => true,
            })
            .collect())
    }

    /// The CSV download: the list's columns, one row per insight. Written by the `csv` crate
    /// (quoting per RFC 4180), with every cell that a spreadsheet would take for a formula
    /// neutralised (see [`neutralise_formula`]): eventName and the other values come from
    /// the logs, which an attacker can write.
    pub fn to_csv(insights: &[StoredInsight]) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = [
            "shared_event_id", "trail", "insight_type", "event_source", "event_name", "error_code", "account", "region",
            "start_time", "end_time", "duration_minutes", "baseline_average", "insight_average",
        ];
        // Writing to a Vec cannot fail; a failure would be a bug in the csv crate.
        writer.write_record(header).expect("CSV into memory");
        for i in insights {
            let row = crate::api::server::row(i);
            let fields = [
                row.id, row.trail, row.insight_type, row.event_source, row.event_name,
                row.error_code.unwrap_or_default(), row.account, row.region, row.start_time,
                row.end_time.unwrap_or_default(),
                row.duration_minutes.map(|d| d.to_string()).unwrap_or_default(),
                row.baseline_average.to_string(), row.insight_average.to_string(),
            ];
            writer.write_record(fields.iter().map(|f| neutralise_formula(f).into_owned())).expect("CSV into memory");
        }
        let bytes = writer.into_inner().expect("CSV into memory");
        String::from_utf8(bytes).expect("the cells are UTF-8 strings")
    }

    /// OWASP's advice against CSV injection: a cell starting with `=`, `+`, `-`, `@`, a tab
    /// or a carriage return is prefixed with a single quote, so a spreadsheet shows it as
    /// text instead of running it (`=HYPERLINK(...)`, `=cmd|...`).
    pub fn neutralise_formula(cell: &str) -> std::borrow::Cow<'_, str> {
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{cell}").into()
        } else {
            cell.into()
        }
    }

    /// The JSON download: `{"Records":[...]}` of the Start and End records, as AWS delivers them.
    pub fn to_records_json(insights: &[StoredInsight]) -> String {
        let records: Vec<&str> = insights
            .iter()
            .flat_map(|i| std::iter::once(i.start_record.as_str()).chain(i.end_record.as_deref()))
            .collect();
        format!("{{\"Records\":[{}]}}", records.join(","))
    }
}

/// The page to show for a requested page of `total` rows: a page past the end (even
/// `?page=4294967295`, whose offset overflowed) shows the last page, so the arithmetic on
/// the page number here and in the view stays within `pages * PAGE_SIZE`.
#[cfg(feature = "ssr")]
fn page_within(requested: u32, total: usize) -> u32 {
    let pages = total.div_ceil(PAGE_SIZE as usize).clamp(1, u32::MAX as usize) as u32;
    requested.clamp(1, pages)
}

/// One page of the insights matching the list's filters.
#[server]
pub async fn list_insights(query: InsightsQuery) -> Result<InsightsPage, AppError> {
    let state = crate::api::server::state()?;
    let now = crate::api::server::now_ms();
    if let (Some(from), Some(to)) = query.time_range_in(now, crate::api::server::request_zone()) {
        if from > to {
            return Err(AppError::invalid(format!(
                "From ({}) is later than To ({}): swap them to see insights between the two.",
                query.from, query.to
            )));
        }
    }
    let all = server::matching(state.store.as_ref(), &query, now, crate::api::server::request_zone()).await?;
    let trails = state.store.list_trails().await.map_err(crate::api::server::internal)?;
    let page = page_within(query.page, all.len());
    let start = (page as usize - 1) * PAGE_SIZE as usize;
    Ok(InsightsPage {
        rows: all.iter().skip(start).take(PAGE_SIZE as usize).map(crate::api::server::row).collect(),
        total: all.len() as u64,
        page,
        page_size: PAGE_SIZE,
        trails: trails.into_iter().map(|t| t.name).collect(),
    })
}

/// One insight by its sharedEventID; `None` when there is no such insight.
#[server]
pub async fn get_insight(id: String) -> Result<Option<InsightDetail>, AppError> {
    use crate::api::server::{internal, pretty, row, state};
    let state = state()?;
    let Some(i) = state.store.get_insight(&id).await.map_err(internal)? else {
        return Ok(None);
    };
    let (start_record, start_event_id) = pretty(&i.start_record);
    let end = i.end_record.as_deref().map(pretty);
    Ok(Some(InsightDetail {
        row: row(&i),
        start_event_id,
        end_event_id: end.as_ref().map(|(_, id)| id.clone()),
        start_record,
        end_record: end.map(|(json, _)| json),
    }))
}

/// The graph of one insight over `span` (one of [`SPANS`]; anything else gets AWS's default
/// for the insight's length): the API's calls per minute (for an error-rate insight, also the
/// error's), the baseline, and every insight of the series as a band. The window is centred
/// on the insight and never runs past now.
#[server]
pub async fn get_insight_graph(id: String, span: String) -> Result<Option<GraphView>, AppError> {
    let state = crate::api::server::state()?;
    let found = server::graph_input(state.store.as_ref(), &id, &span, crate::api::server::now_ms(), crate::api::server::request_zone()).await?;
    Ok(found.map(|(span, input)| GraphView {
        span: span.to_owned(),
        svg: crate::graph::render_sized(&input, crate::graph::Size::Wide),
        svg_narrow: crate::graph::render_sized(&input, crate::graph::Size::Narrow),
    }))
}

/// `[from, to)` of a graph of `span` minutes around an insight of `[start, end)`: centred on
/// the insight (all of it when longer than the span), shifted back so that it ends by `limit`
/// (now): a wide span must not draw the future as a flat zero line.
pub fn graph_window(start: i64, end: i64, span: i64, limit: i64) -> (i64, i64) {
    let length = end - start;
    let from = start - (span - length).max(0) / 2;
    let to = from + span.max(length + 2);
    let shift = (to - limit.max(end + 1)).max(0);
    (from - shift, to - shift)
}

/// The attributions and related insights of one insight.
#[server]
pub async fn get_insight_extras(id: String) -> Result<Option<InsightExtras>, AppError> {
    use crate::api::server::{internal, row, state};
    use crate::model::AttributionView;

    let state = state()?;
    let store = state.store.as_ref();
    let Some(i) = store.get_insight(&id).await.map_err(internal)? else {
        return Ok(None);
    };
    let related = server::same_series(store, &i).await?;
    // Attributions come from the End record when there is one (the whole insight), else Start:
    // the insight's top values and the baseline's ("who normally does this").
    let record: serde_json::Value = serde_json::from_str(i.end_record.as_deref().unwrap_or(&i.start_record)).unwrap_or_default();
    let values = |list: &serde_json::Value| -> Vec<(String, f64)> {
        list.as_array()
            .map(|values| values.iter().map(|v| (v["value"].as_str().unwrap_or_default().to_owned(), v["average"].as_f64().unwrap_or(0.0))).collect())
            .unwrap_or_default()
    };
    let attributions = record["insightDetails"]["insightContext"]["attributions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|a| AttributionView {
            attribute: a["attribute"].as_str().unwrap_or_default().to_owned(),
            insight: values(&a["insight"]),
            baseline: values(&a["baseline"]),
        })
        .collect();
    Ok(Some(InsightExtras {
        attributions,
        others: related.iter().filter(|o| o.shared_event_id != i.shared_event_id).map(row).collect(),
    }))
}

/// The CloudTrail Events tab: the API's events from a minute before the insight to a minute
/// after it, newest first; `only_matching` keeps what the insight counts (its error code, or
/// write calls).
#[server]
pub async fn insight_events(id: String, only_matching: bool, before: String) -> Result<EventsPage, AppError> {
    use engine::store::{EventQuery, InsightType};

    use crate::api::server::{decode_cursor, events_page, internal, state};
    let state = state()?;
    let Some(i) = state.store.get_insight(&id).await.map_err(internal)? else {
        return Ok(EventsPage { rows: vec![], next: None });
    };
    let end = i.end_minute.unwrap_or(engine::time::minute_of_millis(crate::api::server::now_ms()));
    let query = EventQuery {
        trail: Some(i.trail.clone()),
        event_source: Some(i.key.event_source.clone()),
        event_name: Some(i.key.event_name.clone()),
        account: Some(i.key.account.clone()),
        region: Some(i.key.region.clone()),
        error_code: if only_matching { i.key.error_code.clone() } else { None },
        management_only: true,
        writes_only: only_matching && i.insight_type == InsightType::ApiCallRate,
        from_ms: Some(engine::time::millis_of_minute(i.start_minute - 1)),
        to_ms: Some(engine::time::millis_of_minute(end + 1)),
        before: decode_cursor(&before),
        ..Default::default()
    };
    events_page(state.store.as_ref(), query, 20).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_windows_centre_the_insight_and_stop_at_now() {
        // A 15-minute insight in a 3-hour window: 82 minutes either side.
        assert_eq!(graph_window(1000, 1015, 180, 100_000), (918, 1098));
        // Longer than the span: all of it, and two minutes after.
        assert_eq!(graph_window(1000, 1300, 60, 100_000), (1000, 1302));
        // An insight that ended 10 minutes ago in a day-long window: the window ends now.
        assert_eq!(graph_window(1000, 1015, 1440, 1025), (1025 - 1440, 1025));
        // An insight still going on at now is not pushed out of the window.
        assert_eq!(graph_window(1000, 1015, 1440, 1010).1, 1016);
    }

    #[test]
    fn the_default_span_follows_the_consoles_rule_by_length() {
        let cases = [(30, "3h"), (239, "3h"), (240, "12h"), (719, "12h"), (720, "1d"), (1440, "3d"), (4319, "3d"), (4320, "1w")];
        for (minutes, span) in cases {
            assert_eq!(default_span(minutes), span, "{minutes} minutes");
        }
    }
}
