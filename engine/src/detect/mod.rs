//! Detection: stored counts in, stored insight events out.
//!
//! [`config`] holds the settings, [`detector`] the pure per-series rule, [`stats`] the
//! count distributions, [`stream`] live detection as events arrive. This module reads each enabled insight
//! type's series from the [`Store`], runs the rule, adds attributions, and saves Start/End
//! records. Saving is idempotent (IDs derive from the insight itself and a stored Start is
//! never rewritten), so detection can run again and again over the same history.

pub mod config;
pub mod detector;
pub mod stats;
pub mod stream;

use serde::Serialize;

pub use config::{ConfigError, DetectorConfig, Sensitivity};
pub use detector::{detect_series, Anomaly, Direction, SeriesDetector};
pub use stream::{StreamDetector, StreamEvent};

use crate::insight::{Attribution, InsightEvent, InsightFacts, State, ValueAverage};
use crate::store::{Attribute, InsightType, SeriesKey, Store, StoreError, StoredInsight, Trail};
use crate::time::{minute_of_millis, Minute};

/// What one detection pass did for one trail.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct DetectReport {
    pub trail: String,
    pub series_analysed: usize,
    pub insights_found: usize,
    /// Insights newly stored, or newly ended, by this pass.
    pub insights_changed: usize,
    /// Insights still going on at the end of the pass (no End yet).
    pub insights_ongoing: usize,
}

/// Runs every enabled insight type of `trail` over its whole stored history, judging the
/// minutes closed at `now_ms`.
pub async fn detect_trail(
    store: &dyn Store,
    trail: &Trail,
    now_ms: i64,
    cfg: &DetectorConfig,
) -> Result<DetectReport, StoreError> {
    let mut report = DetectReport { trail: trail.name.clone(), ..Default::default() };
    let Some((history_start, _)) = store.event_span(&trail.name).await? else {
        return Ok(report);
    };
    let until = minute_of_millis(now_ms);
    // The trail's open insights, read once: a pass ends those it no longer finds.
    let all_of_trail = crate::store::InsightFilter { trail: Some(trail.name.clone()), ..Default::default() };
    let open: Vec<StoredInsight> = store.list_insights(&all_of_trail).await?.into_iter().filter(|i| i.end_minute.is_none()).collect();
    for &kind in &trail.insight_types {
        let all_series = store.minute_counts(&trail.name, kind).await?;
        let mut supported = std::collections::HashSet::new();
        for series in &all_series {
            report.series_analysed += 1;
            // The arithmetic runs on tokio's blocking pool: a long history must not hold an
            // async worker (the server renews its detection leases on those meanwhile).
            let (counts, series_cfg) = (series.counts.clone(), cfg.clone());
            let anomalies = tokio::task::spawn_blocking(move || detect_series(&counts, history_start, until, &series_cfg))
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
            for anomaly in anomalies {
                supported.insert(crate::insight::shared_event_id(&trail.name, kind, &series.key, anomaly.start));
                report.insights_found += 1;
                report.insights_ongoing += usize::from(anomaly.end.is_none());
                let insight = build_insight(store, &trail.name, kind, &series.key, &anomaly, cfg).await?;
                // Whether it is recent enough to notify anyone is judged by the clock, not by
                // `now_ms`: replaying old history "as of" its own time (`demo --end`,
                // `detect --now`) must not page people about last year.
                let stored_at = chrono::Utc::now().timestamp_millis();
                if store.save_insight(&insight, stored_at).await? {
                    report.insights_changed += 1;
                }
            }
        }
        report.insights_changed += end_unsupported(store, trail, kind, &open, Some(&all_series), &supported, until, cfg).await?;
    }
    // A type turned off supports none of its insights any more.
    for kind in InsightType::ALL.into_iter().filter(|k| !trail.insight_types.contains(k)) {
        report.insights_changed += end_unsupported(store, trail, kind, &open, None, &Default::default(), until, cfg).await?;
    }
    Ok(report)
}

/// Ends the stored insights of `kind` still open that this pass no longer finds: their
/// history changed (events backfilled before them, retention moving the start of history)
/// or the trail's settings did. Left open, they would read "ongoing" forever, never send an
/// End and never be deleted by retention.
///
/// The End closes at the first minute after the start whose count is back at or below the
/// insight's baseline average (at or above it for a drop), or at `until` if none has come
/// yet; its insight average is the stored counts over `[start, end)`, and its attributions
/// are taken over that span, as for any End. Returns how many it ended.
///
/// Only insights that started at least `drop_minutes` before `until` are judged: a drop is
/// dated back to its first quiet minute, so a pass judging an earlier moment (a replay with
/// `detect --now`, a clock a little behind after a lease moved) would not have found it yet.
/// `open` is the trail's open insights, read once per pass; `all_series` is the type's counts
/// when this pass read them (`None` for a type turned off: they are read here, only if an
/// insight needs ending).
#[allow(clippy::too_many_arguments)]
async fn end_unsupported(
    store: &dyn Store,
    trail: &Trail,
    kind: InsightType,
    open: &[StoredInsight],
    all_series: Option<&[crate::store::SeriesCounts]>,
    supported: &std::collections::HashSet<String>,
    until: Minute,
    cfg: &DetectorConfig,
) -> Result<usize, StoreError> {
    let settled = until - cfg.drop_minutes.max(1);
    let open: Vec<&StoredInsight> = open
        .iter()
        .filter(|i| i.insight_type == kind && i.start_minute < settled && !supported.contains(&i.shared_event_id))
        .collect();
    if open.is_empty() {
        return Ok(0);
    }
    let read;
    let all_series = match all_series {
        Some(series) => series,
        None => {
            read = store.minute_counts(&trail.name, kind).await?;
            &read[..]
        }
    };
    let mut ended = 0;
    for insight in open {
        let counts = all_series.iter().find(|s| s.key == insight.key).map(|s| s.counts.as_slice()).unwrap_or(&[]);
        let at = |m: Minute| counts.binary_search_by_key(&m, |(minute, _)| *minute).map_or(0, |i| counts[i].1);
        let drop = insight.insight_average < insight.baseline_average;
        let back_to_baseline = |m: Minute| {
            let x = at(m) as f64;
            if drop { x >= insight.baseline_average } else { x <= insight.baseline_average }
        };
        let end = (insight.start_minute + 1..until).find(|m| back_to_baseline(*m)).unwrap_or(until.max(insight.start_minute + 1));
        let total: u64 = (insight.start_minute..end).map(|m| at(m) as u64).sum();
        let anomaly = Anomaly {
            start: insight.start_minute,
            end: Some(end),
            baseline_average: insight.baseline_average,
            first_count: at(insight.start_minute),
            total,
            direction: if drop { Direction::Below } else { Direction::Above },
        };
        let closed = build_insight(store, &trail.name, kind, &insight.key, &anomaly, cfg).await?;
        tracing::info!(trail = %trail.name, insight = %insight.shared_event_id, "ending an insight the history no longer supports");
        if store.save_insight(&closed, chrono::Utc::now().timestamp_millis()).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Runs detection for every trail (or only `only`), as [`detect_trail`] does for one, with
/// each trail's own sensitivity. Fails with [`StoreError::NoSuchTrail`] when `only` names
/// no trail.
pub async fn detect_trails(
    store: &dyn Store,
    only: Option<&str>,
    now_ms: i64,
) -> Result<Vec<DetectReport>, StoreError> {
    let trails: Vec<Trail> = store
        .list_trails()
        .await?
        .into_iter()
        .filter(|t| only.is_none_or(|name| t.name == name))
        .collect();
    if let (Some(name), true) = (only, trails.is_empty()) {
        return Err(StoreError::NoSuchTrail(name.to_owned()));
    }
    let mut reports = Vec::new();
    for trail in &trails {
        let cfg = DetectorConfig::for_trail(trail);
        reports.push(detect_trail(store, trail, now_ms, &cfg).await?);
    }
    Ok(reports)
}

/// Turns an anomaly into the stored insight with its AWS records.
async fn build_insight(
    store: &dyn Store,
    trail: &str,
    kind: InsightType,
    key: &SeriesKey,
    a: &Anomaly,
    cfg: &DetectorConfig,
) -> Result<StoredInsight, StoreError> {
    let facts = |state, event_minute, insight_average, attributions| InsightFacts {
        trail,
        kind,
        key,
        start: a.start,
        state,
        event_minute,
        baseline_average: a.baseline_average,
        insight_average,
        baseline_duration: cfg.baseline_minutes,
        attributions,
    };
    let baseline = (a.start - cfg.baseline_minutes, a.start);
    let start_attr = attributions(store, trail, kind, key, (a.start, a.start + 1), baseline).await?;
    let start = InsightEvent::new(facts(State::Start, a.start, a.first_count as f64, start_attr));
    let end = match (a.end, a.insight_average()) {
        (Some(end), Some(avg)) => {
            let attr = attributions(store, trail, kind, key, (a.start, end), baseline).await?;
            Some(InsightEvent::new(facts(State::End, end, avg, attr)))
        }
        _ => None,
    };
    Ok(StoredInsight {
        shared_event_id: start.shared_event_id.clone(),
        trail: trail.to_owned(),
        insight_type: kind,
        key: key.clone(),
        start_minute: a.start,
        end_minute: a.end,
        baseline_average: a.baseline_average,
        insight_average: a.insight_average().unwrap_or(a.first_count as f64),
        start_record: start.to_json(),
        end_record: end.map(|e| e.to_json()),
        triage: Default::default(),
    })
}

/// The top five values of each attribute AWS attributes, during the insight and during the
/// baseline, as per-minute averages, highest first.
async fn attributions(
    store: &dyn Store,
    trail: &str,
    kind: InsightType,
    key: &SeriesKey,
    insight: (Minute, Minute),
    baseline: (Minute, Minute),
) -> Result<Vec<Attribution>, StoreError> {
    let mut attributes = vec![Attribute::UserIdentityArn, Attribute::UserAgent];
    if kind == InsightType::ApiCallRate {
        attributes.push(Attribute::ErrorCode);
    }
    let mut out = Vec::new();
    for attribute in attributes {
        let window = |(from, to): (Minute, Minute)| async move {
            let top = store.top_values(trail, kind, key, attribute, from, to, 5).await?;
            let minutes = (to - from) as f64;
            Ok::<_, StoreError>(
                top.into_iter()
                    .map(|(value, n)| ValueAverage {
                        value,
                        average: crate::insight::round_average(n as f64 / minutes),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let insight = window(insight).await?;
        let baseline = window(baseline).await?;
        out.push(Attribution { attribute: attribute.as_str().into(), insight, baseline });
    }
    Ok(out)
}
