//! LookupEvents: management events (the event history) or, with `EventCategory=insight`,
//! insight events; newest first, one lookup attribute, a time range, pages of at most 50
//! whose NextToken stays valid while new events arrive (keyset, not offset).
//! ListInsightsData: one trail's insight events, the same pages, filtered by one dimension
//! (EventId, EventName or EventSource).

use engine::store::{EventCursor, EventQuery, InsightFilter, LookupAttribute, Store, StoredEvent};
use serde_json::{json, Value};

use super::{epoch_seconds, opt_str, opt_time_ms, token, AwsError, Context};

struct Request {
    lookup: Option<(LookupAttribute, String)>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    max_results: u32,
    insights: bool,
    /// Only this trail's insight events (ListInsightsData).
    trail: Option<String>,
    next_token: Option<String>,
    /// What a NextToken is bound to.
    signature: String,
}

fn parse(input: &Value) -> Result<Request, AwsError> {
    let invalid_lookup = |why: &str| AwsError::new("InvalidLookupAttributesException", 400, why.to_owned());
    let lookup = match input.get("LookupAttributes") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) if list.is_empty() => None,
        Some(Value::Array(list)) if list.len() > 1 => {
            return Err(invalid_lookup("LookupAttributes takes at most one attribute."))
        }
        Some(Value::Array(list)) => {
            let key = list[0]["AttributeKey"].as_str().unwrap_or_default();
            let attribute = LookupAttribute::parse(key).ok_or_else(|| {
                invalid_lookup(&format!(
                    "{key:?} is not a lookup attribute: use EventId, EventName, ReadOnly, Username, ResourceType, ResourceName, EventSource or AccessKeyId."
                ))
            })?;
            let value = list[0]["AttributeValue"].as_str().unwrap_or_default();
            if value.is_empty() {
                return Err(invalid_lookup("AttributeValue must not be empty."));
            }
            Some((attribute, value.to_owned()))
        }
        Some(_) => return Err(AwsError::serialization("LookupAttributes must be a list.")),
    };
    let from_ms = opt_time_ms(input, "StartTime")?;
    let to_ms = opt_time_ms(input, "EndTime")?;
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if from > to {
            return Err(AwsError::new("InvalidTimeRangeException", 400, "StartTime must be before EndTime."));
        }
    }
    let max_results = match input.get("MaxResults") {
        None | Some(Value::Null) => 50,
        Some(v) => match v.as_i64() {
            Some(n @ 1..=50) => n as u32,
            _ => return Err(AwsError::new("InvalidMaxResultsException", 400, "MaxResults must be between 1 and 50.")),
        },
    };
    let insights = match opt_str(input, "EventCategory")? {
        None => false,
        Some("insight") => true,
        Some(other) => {
            return Err(AwsError::new("InvalidEventCategoryException", 400, format!("{other:?} is not an event category: use insight.")))
        }
    };
    if insights {
        if let Some((attribute, _)) = &lookup {
            if !matches!(attribute, LookupAttribute::EventId | LookupAttribute::EventName | LookupAttribute::EventSource) {
                return Err(invalid_lookup("Insight events can be looked up by EventId, EventName or EventSource only."));
            }
        }
    }
    let signature = format!("{lookup:?}|{from_ms:?}|{to_ms:?}|{insights}");
    let next_token = opt_str(input, "NextToken")?.map(str::to_owned);
    Ok(Request { lookup, from_ms, to_ms, max_results, insights, trail: None, next_token, signature })
}

/// ListInsightsData's request: every mistake is InvalidParameterException, its one modelled
/// input error.
async fn parse_insights_data(store: &dyn Store, input: &Value) -> Result<Request, AwsError> {
    let invalid = |why: String| AwsError::invalid_parameter(why);
    let source = opt_str(input, "InsightSource")?.ok_or_else(|| invalid("InsightSource is required: the trail's ARN.".into()))?;
    let trail = source.rsplit_once(":trail/").map(|(_, name)| name).unwrap_or(source).to_owned();
    if store.get_trail(&trail).await?.is_none() {
        return Err(invalid(format!("InsightSource {source:?} names no trail of this server.")));
    }
    match opt_str(input, "DataType")? {
        Some("InsightsEvents") => {}
        other => return Err(invalid(format!("DataType {other:?} is not valid: use InsightsEvents."))),
    }
    let lookup = match input.get("Dimensions") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) if map.len() == 1 => {
            let (key, value) = map.iter().next().expect("one entry");
            let attribute = match key.as_str() {
                "EventId" => LookupAttribute::EventId,
                "EventName" => LookupAttribute::EventName,
                "EventSource" => LookupAttribute::EventSource,
                other => return Err(invalid(format!("{other:?} is not a dimension: use EventId, EventName or EventSource."))),
            };
            let value = value.as_str().filter(|v| !v.is_empty()).ok_or_else(|| invalid(format!("Dimensions {key} needs a value.")))?;
            Some((attribute, value.to_owned()))
        }
        Some(Value::Object(map)) if map.is_empty() => None,
        Some(_) => return Err(invalid("Dimensions takes at most one of EventId, EventName or EventSource.".into())),
    };
    let from_ms = opt_time_ms(input, "StartTime")?;
    let to_ms = opt_time_ms(input, "EndTime")?;
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if from > to {
            return Err(invalid("StartTime must be before EndTime.".into()));
        }
    }
    let max_results = match input.get("MaxResults") {
        None | Some(Value::Null) => 50,
        Some(v) => match v.as_i64() {
            Some(n @ 1..=50) => n as u32,
            _ => return Err(invalid("MaxResults must be between 1 and 50.".into())),
        },
    };
    let signature = format!("insights-data|{trail}|{lookup:?}|{from_ms:?}|{to_ms:?}");
    let next_token = opt_str(input, "NextToken")?.map(str::to_owned);
    Ok(Request { lookup, from_ms, to_ms, max_results, insights: true, trail: Some(trail), next_token, signature })
}

pub async fn list_insights_data(store: &dyn Store, _ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    let request = parse_insights_data(store, input).await?;
    answer(store, request).await
}

pub async fn lookup_events(store: &dyn Store, _ctx: &Context, input: &Value) -> Result<Value, AwsError> {
    answer(store, parse(input)?).await
}

/// One page for a parsed request, with the NextToken of the next.
async fn answer(store: &dyn Store, request: Request) -> Result<Value, AwsError> {
    let mut key = None;
    let position = match &request.next_token {
        Some(t) => Some(token::decode(key.insert(token::Key::load(store).await?), t, &request.signature)?),
        None => None,
    };
    let (events, next) = if request.insights {
        insight_page(store, &request, position).await?
    } else {
        management_page(store, &request, position).await?
    };
    let mut output = json!({ "Events": events });
    if let Some(position) = next {
        let key = match key {
            Some(key) => key,
            None => token::Key::load(store).await?,
        };
        output["NextToken"] = json!(token::encode(&key, &position, &request.signature));
    }
    Ok(output)
}

type Page = (Vec<Value>, Option<Value>);

async fn management_page(store: &dyn Store, r: &Request, position: Option<Value>) -> Result<Page, AwsError> {
    let before = position.map(serde_json::from_value::<EventCursor>).transpose().map_err(|_| {
        AwsError::new("InvalidNextTokenException", 400, "A token that is not valid.")
    })?;
    let query = EventQuery {
        lookup: r.lookup.clone(),
        management_only: true,
        from_ms: r.from_ms,
        to_ms: r.to_ms,
        before,
        limit: r.max_results + 1,
        ..Default::default()
    };
    let mut found = store.list_events(&query).await?;
    let more = found.len() > r.max_results as usize;
    found.truncate(r.max_results as usize);
    let next = more.then(|| json!(found.last().map(|e| e.cursor)));
    Ok((found.iter().map(event_json).collect(), next))
}

fn event_json(e: &StoredEvent) -> Value {
    let r = &e.record;
    let mut event = json!({
        "EventId": r.event_id,
        "EventName": r.event_name,
        "ReadOnly": r.read_only.unwrap_or(!r.is_write).to_string(),
        "EventTime": epoch_seconds(r.event_time_ms),
        "EventSource": r.event_source,
        "Resources": r.resources.iter().map(|(t, n)| resource_json(t, n)).collect::<Vec<_>>(),
        "CloudTrailEvent": r.raw,
    });
    if let Some(key) = &r.access_key_id {
        event["AccessKeyId"] = json!(key);
    }
    if let Some(user) = &r.user_name {
        event["Username"] = json!(user);
    }
    event
}

/// AWS leaves ResourceType out when the record does not say (e.g. SSM parameters).
fn resource_json(kind: &str, name: &str) -> Value {
    if kind.is_empty() {
        json!({ "ResourceName": name })
    } else {
        json!({ "ResourceType": kind, "ResourceName": name })
    }
}

/// One Start or End record of an insight, with what sorting and filtering need.
struct InsightRecord {
    time_ms: i64,
    event_id: String,
    event_name: String,
    event_source: String,
    raw: String,
}

async fn insight_page(store: &dyn Store, r: &Request, position: Option<Value>) -> Result<Page, AwsError> {
    let mut filter = InsightFilter { trail: r.trail.clone(), ..Default::default() };
    match &r.lookup {
        Some((LookupAttribute::EventName, v)) => filter.event_name = Some(v.clone()),
        Some((LookupAttribute::EventSource, v)) => filter.event_source = Some(v.clone()),
        Some((LookupAttribute::EventId, v)) => filter.event_id = Some(v.clone()),
        _ => {}
    }
    let mut records = Vec::new();
    for insight in store.list_insights(&filter).await? {
        let parts = [Some((insight.start_minute, insight.start_record)), insight.end_minute.zip(insight.end_record)];
        for (minute, raw) in parts.into_iter().flatten() {
            let value: Value = serde_json::from_str(&raw).unwrap_or_default();
            records.push(InsightRecord {
                time_ms: engine::time::millis_of_minute(minute),
                event_id: value["eventID"].as_str().unwrap_or_default().to_owned(),
                event_name: insight.key.event_name.clone(),
                event_source: insight.key.event_source.clone(),
                raw,
            });
        }
    }
    if let Some((LookupAttribute::EventId, id)) = &r.lookup {
        records.retain(|rec| &rec.event_id == id);
    }
    records.retain(|rec| r.from_ms.is_none_or(|f| rec.time_ms >= f) && r.to_ms.is_none_or(|t| rec.time_ms <= t));
    records.sort_by(|a, b| (b.time_ms, &b.event_id).cmp(&(a.time_ms, &a.event_id)));
    if let Some(p) = position {
        let (time, id) = (p["t"].as_i64().unwrap_or(i64::MAX), p["id"].as_str().unwrap_or_default().to_owned());
        records.retain(|rec| (rec.time_ms, rec.event_id.as_str()) < (time, id.as_str()));
    }
    let more = records.len() > r.max_results as usize;
    records.truncate(r.max_results as usize);
    let next = more.then(|| {
        let last = records.last().expect("a full page has a last record");
        json!({ "t": last.time_ms, "id": last.event_id })
    });
    let events = records
        .iter()
        .map(|rec| {
            json!({
                "EventId": rec.event_id,
                "EventName": rec.event_name,
                "ReadOnly": "false",
                "EventTime": epoch_seconds(rec.time_ms),
                "EventSource": rec.event_source,
                "Resources": [],
                "CloudTrailEvent": rec.raw,
            })
        })
        .collect();
    Ok((events, next))
}
