//! Insights in SQLite: the filtered listings the dashboard and the LookupEvents API page
//! through. Saving them is the same for both backends (`store::save_insight`).

use sqlx::Row;

use super::SqliteStore;
use crate::store::rows::insight_from_row;
use crate::store::*;

/// The WHERE clause shared by listing and counting insights, and its arguments in order.
fn insight_conditions(f: &InsightFilter) -> (String, Vec<Option<String>>, Vec<Option<i64>>) {
    let sql = "(? IS NULL OR trail = ?) AND (? IS NULL OR insight_type = ?)
        AND (? IS NULL OR event_name = ?) AND (? IS NULL OR event_source = ?)
        AND (? IS NULL OR shared_event_id = ? OR instr(start_record, '\"eventID\":\"' || ? || '\"') > 0
             OR instr(COALESCE(end_record, ''), '\"eventID\":\"' || ? || '\"') > 0)
        AND (? IS NULL OR start_minute >= ?) AND (? IS NULL OR start_minute < ?)
        AND (? IS NULL OR triage_state = ?) AND (? = 0 OR suppressed_by IS NULL)";
    let texts = vec![
        f.trail.clone(),
        f.insight_type.map(|t| t.as_str().to_owned()),
        f.event_name.clone(),
        f.event_source.clone(),
        f.event_id.clone(),
        f.triage_state.map(|s| s.as_str().to_owned()),
    ];
    (sql.to_owned(), texts, vec![f.from, f.to, Some(i64::from(f.hide_suppressed))])
}

fn bind_insight_conditions<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    texts: &'q [Option<String>],
    minutes: &'q [Option<i64>],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    // The placeholders' order: the first five texts (eventID four times), the minutes, then
    // the triage state and whether to hide suppressed insights.
    let (state, texts) = texts.split_last().expect("the last text is the triage state");
    for (i, t) in texts.iter().enumerate() {
        let repeat = if i == 4 { 4 } else { 2 };
        for _ in 0..repeat {
            q = q.bind(t);
        }
    }
    let (hide_suppressed, minutes) = minutes.split_last().expect("the last number is hide_suppressed");
    for m in minutes {
        q = q.bind(m).bind(m);
    }
    q = q.bind(state).bind(state);
    q.bind(hide_suppressed)
}

impl SqliteStore {
    pub(super) async fn list_matching(&self, filter: &InsightFilter) -> Result<Vec<StoredInsight>> {
        let (conditions, texts, minutes) = insight_conditions(filter);
        let sql = format!(
            "SELECT * FROM insights WHERE {conditions}
             ORDER BY start_minute DESC, shared_event_id LIMIT ? OFFSET ?"
        );
        let rows = bind_insight_conditions(sqlx::query(&sql), &texts, &minutes)
            .bind(filter.limit.map(i64::from).unwrap_or(-1))
            .bind(filter.offset)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(insight_from_row).collect())
    }

    pub(super) async fn count_matching(&self, filter: &InsightFilter) -> Result<u64> {
        let (conditions, texts, minutes) = insight_conditions(filter);
        let sql = format!("SELECT COUNT(*) FROM insights WHERE {conditions}");
        let row = bind_insight_conditions(sqlx::query(&sql), &texts, &minutes).fetch_one(&self.pool).await?;
        Ok(row.get::<i64, _>(0) as u64)
    }

    pub(super) async fn insight(&self, shared_event_id: &str) -> Result<Option<StoredInsight>> {
        let row = sqlx::query("SELECT * FROM insights WHERE shared_event_id = ?")
            .bind(shared_event_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(insight_from_row))
    }
}
