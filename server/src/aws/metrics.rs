//! ListInsightsMetricData: per-period counts of one API (the data behind an insight's
//! graph), as parallel `Timestamps` and `Values`, in the region the request is signed for
//! and, with `TrailName`, in one trail (AWS's parameter for data-event insights).

use std::collections::BTreeMap;

use engine::store::{InsightType, SeriesQuery, Store};
use serde_json::{json, Value};

use super::{epoch_seconds, opt_str, opt_time_ms, token, AwsError, Context};

const MAX_RESULTS: i64 = 21_600;
/// The most points any request can have: 15 days of minutes (63 days at 5 minutes and 90 at
/// an hour are fewer), plus the partial bucket at the start.
const MAX_POINTS: i64 = 15 * 24 * 60 + 1;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// 2013-01-01T00:00:00Z: CloudTrail began in November 2013.
const EARLIEST_MS: i64 = 1_356_998_400_000;
/// 9999-12-31T23:59:59Z.
const LATEST_MS: i64 = 253_402_300_799_000;

/// The longest time range one request covers at `period` seconds: AWS's retention for that
/// period (15, 63 and 90 days).
fn span_limit_ms(period: i64) -> i64 {
    match period {
        60 => 15 * DAY_MS,
        300 => 63 * DAY_MS,
        _ => 90 * DAY_MS,
    }
}

pub async fn list_insights_metric_data(store: &dyn Store, ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let required = |name: &str| -> Result<String, AwsError> {
        opt_str(input, name)?
            .map(str::to_owned)
            .ok_or_else(|| AwsError::invalid_parameter(format!("{name} is required.")))
    };
    let (event_source, event_name) = (required("EventSource")?, required("EventName")?);
    let kind_name = required("InsightType")?;
    let kind = InsightType::parse(&kind_name).ok_or_else(|| {
        AwsError::invalid_parameter(format!("{kind_name:?} is not an insight type: use ApiCallRateInsight or ApiErrorRateInsight."))
    })?;
    let error_code = opt_str(input, "ErrorCode")?.map(str::to_owned);
    // AWS's TrailName (a name or ARN) selects one trail's series; without it, every trail's.
    let trail = match input.get("TrailName") {
        None | Some(Value::Null) => None,
        Some(_) => Some(super::trails::existing_trail(store, ctx, input, "TrailName").await?.name),
    };
    if kind == InsightType::ApiErrorRate && error_code.is_none() {
        return Err(AwsError::invalid_parameter("ErrorCode is required when InsightType is ApiErrorRateInsight."));
    }
    let period = match input.get("Period") {
        None | Some(Value::Null) => 3600,
        Some(p) => match p.as_i64() {
            Some(p @ (60 | 300 | 3600)) => p,
            _ => return Err(AwsError::invalid_parameter(format!("Period {p} is not valid: use 60, 300 or 3600."))),
        },
    };
    // AWS's default is NonZeroData (its documentation; the CLI shows zeros only when asked).
    let fill_zeros = match opt_str(input, "DataType")? {
        Some("FillWithZeros") => true,
        None | Some("NonZeroData") => false,
        Some(other) => return Err(AwsError::invalid_parameter(format!("DataType {other:?} is not valid: use FillWithZeros or NonZeroData."))),
    };
    let max_results = match input.get("MaxResults") {
        None | Some(Value::Null) => MAX_RESULTS,
        Some(n) => match n.as_i64() {
            Some(n @ 1..=MAX_RESULTS) => n,
            _ => return Err(AwsError::invalid_parameter(format!("MaxResults must be between 1 and {MAX_RESULTS}."))),
        },
    };
    let window_ms = span_limit_ms(period);
    let end_ms = opt_time_ms(input, "EndTime")?.unwrap_or(ctx.now_ms);
    let start_ms = opt_time_ms(input, "StartTime")?.unwrap_or(end_ms.saturating_sub(window_ms));
    for (name, t) in [("EndTime", end_ms), ("StartTime", start_ms)] {
        if !(EARLIEST_MS..=LATEST_MS).contains(&t) {
            return Err(AwsError::invalid_parameter(format!(
                "{name} must be between 2013-01-01 and 9999-12-31 (epoch seconds {} to {}).",
                EARLIEST_MS / 1000,
                LATEST_MS / 1000
            )));
        }
    }
    if start_ms > end_ms {
        return Err(AwsError::invalid_parameter("StartTime must be before EndTime."));
    }
    // AWS keeps 1-minute points for 15 days, 5-minute points for 63 days and hourly ones for
    // 90 days; trailsight keeps more history, so the same figures bound the span of one
    // request instead (at most 21,600 points), never the age of the data.
    if end_ms - start_ms > window_ms {
        return Err(AwsError::invalid_parameter(format!(
            "EndTime - StartTime is longer than {} days, the most a request with Period {period} covers: narrow the time range or use a longer Period.",
            window_ms / DAY_MS
        )));
    }
    let period_ms = period * 1000;
    let first_bucket = start_ms.div_euclid(period_ms) * period_ms;
    let signature = format!(
        "{event_source}|{event_name}|{kind_name}|{error_code:?}|{period}|{fill_zeros}|{start_ms}|{end_ms}|{trail:?}|{}",
        ctx.region
    );
    let mut key = None;
    let offset = match opt_str(input, "NextToken")? {
        Some(t) => token::decode(key.insert(token::Key::load(store).await?), t, &signature)?.as_i64().unwrap_or(0),
        None => 0,
    };

    let counts = store
        .series_counts(&SeriesQuery {
            event_source: event_source.clone(),
            event_name: event_name.clone(),
            error_code: error_code.clone(),
            counted: Some(kind),
            // A series is one region: the one the request was signed for, as on AWS.
            region: Some(ctx.region.clone()),
            trail: trail.clone(),
            from: engine::time::minute_of_millis(first_bucket),
            to: engine::time::minute_of_millis(end_ms + 59_999),
            ..Default::default()
        })
        .await?;
    let mut buckets: BTreeMap<i64, u64> = BTreeMap::new();
    for (minute, n) in counts {
        let ms = engine::time::millis_of_minute(minute);
        // EndTime is exclusive, as in AWS: a query ending at 12:10 holds 12:09, not 12:10.
        if ms < end_ms {
            *buckets.entry(ms.div_euclid(period_ms) * period_ms).or_default() += n as u64;
        }
    }
    // The offset comes from a signed token, so it is one this server issued; still, it is
    // applied arithmetically (not by skipping point after point) and bounded.
    let offset = offset.clamp(0, MAX_POINTS);
    let points: Vec<(i64, u64)> = if fill_zeros {
        (offset..)
            .map(|i| first_bucket + i * period_ms)
            .take_while(|t| *t < end_ms)
            .take(max_results as usize + 1)
            .map(|t| (t, buckets.get(&t).copied().unwrap_or(0)))
            .collect()
    } else {
        buckets.into_iter().skip(offset as usize).take(max_results as usize + 1).collect()
    };
    let more = points.len() > max_results as usize;
    let page = &points[..points.len().min(max_results as usize)];
    let mut output = json!({
        "EventSource": event_source,
        "EventName": event_name,
        "InsightType": kind_name,
        "Timestamps": page.iter().map(|(t, _)| epoch_seconds(*t)).collect::<Vec<_>>(),
        "Values": page.iter().map(|(_, v)| json!(*v as f64)).collect::<Vec<_>>(),
    });
    if let Some(code) = error_code {
        output["ErrorCode"] = json!(code);
    }
    if more {
        let key = match key {
            Some(key) => key,
            None => token::Key::load(store).await?,
        };
        output["NextToken"] = json!(token::encode(&key, &json!(offset + max_results), &signature));
    }
    Ok(output)
}
