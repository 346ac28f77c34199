//! The home page's summary: latest insights, counts, what appears most, and the trails.

use leptos::prelude::*;

use super::AppError;
use crate::model::HomeSummary;

#[server]
pub async fn get_home_summary() -> Result<HomeSummary, AppError> {
    use std::collections::HashMap;

    use engine::store::InsightFilter;

    use crate::api::server::{internal, now_ms, row, state, trail_view};
    let state = state()?;
    let store = state.store.as_ref();
    let now = engine::time::minute_of_millis(now_ms());
    let since = |minutes: i64| InsightFilter { from: Some(now - minutes), ..Default::default() };
    let all = store.list_insights(&InsightFilter::default()).await.map_err(internal)?;
    let mut apis: HashMap<String, u64> = HashMap::new();
    let mut identities: HashMap<String, u64> = HashMap::new();
    for i in &all {
        *apis.entry(i.key.event_name.clone()).or_default() += 1;
        let record: serde_json::Value = serde_json::from_str(i.end_record.as_deref().unwrap_or(&i.start_record)).unwrap_or_default();
        let attributions = record["insightDetails"]["insightContext"]["attributions"].as_array().cloned().unwrap_or_default();
        if let Some(top) = attributions
            .iter()
            .find(|a| a["attribute"] == "userIdentityArn")
            .and_then(|a| a["insight"][0]["value"].as_str())
        {
            *identities.entry(top.to_owned()).or_default() += 1;
        }
    }
    let top = |map: HashMap<String, u64>| {
        let mut list: Vec<(String, u64)> = map.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(5);
        list
    };
    Ok(HomeSummary {
        latest: all.iter().take(5).map(row).collect(),
        last_24h: store.count_insights(&since(1440)).await.map_err(internal)?,
        last_7d: store.count_insights(&since(7 * 1440)).await.map_err(internal)?,
        total: all.len() as u64,
        new: store
            .count_insights(&InsightFilter {
                triage_state: Some(engine::notify::TriageState::New),
                hide_suppressed: true,
                ..Default::default()
            })
            .await
            .map_err(internal)?,
        top_apis: top(apis),
        top_identities: top(identities),
        trails: store.list_trails().await.map_err(internal)?.iter().map(trail_view).collect(),
    })
}
