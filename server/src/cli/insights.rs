//! `trailsight insights`: the stored insight events, as AWS records or a table.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use engine::store::{InsightFilter, StoredInsight};
use engine::time::format_minute;
use serde_json::value::RawValue;

use super::DbArgs;

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// `{"Records":[...]}` of Start and End events, as CloudTrail delivers insight files.
    Json,
    /// One line per insight, for people.
    Table,
}

#[derive(Args)]
pub struct InsightsArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Only this trail.
    #[arg(long)]
    trail: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

pub async fn run(args: InsightsArgs) -> anyhow::Result<ExitCode> {
    let store = args.db.open().await?;
    let filter = InsightFilter { trail: args.trail, ..Default::default() };
    let mut insights = store.list_insights(&filter).await?;
    insights.reverse(); // oldest first, as records appear in delivered files
    match args.format {
        Format::Json => println!("{}", records_json(&insights)?),
        Format::Table => print_table(&insights),
    }
    Ok(ExitCode::SUCCESS)
}

/// The Start and End records, byte for byte as stored, in event-time order.
fn records_json(insights: &[StoredInsight]) -> anyhow::Result<String> {
    let mut records: Vec<(i64, &str)> = Vec::new();
    for i in insights {
        records.push((i.start_minute, &i.start_record));
        if let (Some(end), Some(record)) = (i.end_minute, &i.end_record) {
            records.push((end, record));
        }
    }
    records.sort_by_key(|(minute, _)| *minute);
    let records: Vec<&RawValue> =
        records.iter().map(|(_, r)| serde_json::from_str(r)).collect::<Result<_, _>>()?;
    // Raw values pass through untouched: field order stays as AWS writes it.
    #[derive(serde::Serialize)]
    struct Delivery<'a> {
        #[serde(rename = "Records")]
        records: Vec<&'a RawValue>,
    }
    Ok(serde_json::to_string(&Delivery { records })?)
}

fn print_table(insights: &[StoredInsight]) {
    if insights.is_empty() {
        println!("no insights stored (run `trailsight detect` after ingesting)");
        return;
    }
    println!(
        "{:<17}  {:<19}  {:<28}  {:<50}  {:>10}  {:>10}  {:>8}  shared event ID",
        "start (UTC)", "insight type", "event source", "event name (error code)", "baseline", "insight", "minutes"
    );
    for i in insights {
        let name = match &i.key.error_code {
            Some(code) => format!("{} ({code})", i.key.event_name),
            None => i.key.event_name.clone(),
        };
        println!(
            "{:<17}  {:<19}  {:<28}  {:<50}  {:>10.4}  {:>10.2}  {:>8}  {}",
            &format_minute(i.start_minute)[..16],
            i.insight_type.as_str(),
            i.key.event_source,
            name,
            i.baseline_average,
            i.insight_average,
            i.end_minute.map(|e| (e - i.start_minute).to_string()).unwrap_or_else(|| "ongoing".into()),
            i.shared_event_id
        );
    }
}
