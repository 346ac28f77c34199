//! ListInsightsMetricData: per-period counts of one API (the data behind an insight's
//! graph), as parallel `Timestamps` and `Values`.

use std::collections::BTreeMap;

use engine::store::{InsightType, SeriesQuery, Store};
use serde_json::{json, Value};

use super::{epoch_seconds, opt_str, opt_time_ms, token, AwsError, Context};

const DEFAULT_SPAN_MS: i64 = 90 * 24 * 3600 * 1000;
const MAX_RESULTS: i64 = 21_600;

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
    if kind == InsightType::ApiErrorRate && error_code.is_none() {
        return Err(AwsError::invalid_parameter("ErrorCode is required when InsightType is ApiErrorRateInsight."));
    }
    let period = match input.get("Period").and_then(Value::as_i64) {
        None => 3600,
        Some(p @ (60 | 300 | 3600)) => p,
        Some(p) => return Err(AwsError::invalid_parameter(format!("Period {p} is not valid: use 60, 300 or 3600."))),
    };
    let fill_zeros = match opt_str(input, "DataType")? {
        None | Some("FillWithZeros") => true,
        Some("NonZeroData") => false,
        Some(other) => return Err(AwsError::invalid_parameter(format!("DataType {other:?} is not valid: use FillWithZeros or NonZeroData."))),
    };
    let max_results = match input.get("MaxResults").and_then(Value::as_i64) {
        None => MAX_RESULTS,
        Some(n @ 1..=MAX_RESULTS) => n,
        Some(_) => return Err(AwsError::invalid_parameter(format!("MaxResults must be between 1 and {MAX_RESULTS}."))),
    };
    let end_ms = opt_time_ms(input, "EndTime")?.unwrap_or(ctx.now_ms);
    let start_ms = opt_time_ms(input, "StartTime")?.unwrap_or(end_ms - DEFAULT_SPAN_MS);
    if start_ms > end_ms {
        return Err(AwsError::invalid_parameter("StartTime must be before EndTime."));
    }
    let period_ms = period * 1000;
    let first_bucket = start_ms.div_euclid(period_ms) * period_ms;
    let signature = format!("{event_source}|{event_name}|{kind_name}|{error_code:?}|{period}|{fill_zeros}|{start_ms}|{end_ms}");
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
            from: engine::time::minute_of_millis(first_bucket),
            to: engine::time::minute_of_millis(end_ms + 59_999),
            ..Default::default()
        })
        .await?;
    let mut buckets: BTreeMap<i64, u64> = BTreeMap::new();
    for (minute, n) in counts {
        let ms = engine::time::millis_of_minute(minute);
        if ms <= end_ms {
            *buckets.entry(ms.div_euclid(period_ms) * period_ms).or_default() += n as u64;
        }
    }
    let points: Vec<(i64, u64)> = if fill_zeros {
        (0..)
            .map(|i| first_bucket + i * period_ms)
            .take_while(|t| *t <= end_ms)
            .skip(offset as usize)
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
