//! Events in SQLite: the queries over stored events (lookups, pages, per-minute counts,
//! attributions). Inserting them is `insert.rs`.

use sqlx::Row;

use super::SqliteStore;
use crate::store::*;

/// The SQL condition selecting the events an insight type counts.
fn counted_events(kind: InsightType) -> &'static str {
    match kind {
        InsightType::ApiCallRate => "is_management = 1 AND is_write = 1",
        InsightType::ApiErrorRate => "is_management = 1 AND error_code IS NOT NULL",
    }
}

const EVENT_COLUMNS: &str = "id, trail, event_id, event_time_ms, event_source, event_name,
    aws_region, account, error_code, read_only, is_management, is_write, user_arn, user_name,
    access_key_id, user_agent, source_ip, raw";

/// The condition finding an eventID (its one `?`) in any trail on any day. The identity index
/// is (trail, day, event_id): this probes it once per trail and stored day (`day IN` a list
/// of every day from the oldest event to the newest), a few thousand seeks for years of
/// history, where a scan of the table would read every event. See migration 0008.
const EVENT_ID_LOOKUP: &str = "trail IN (SELECT name FROM trails)
    AND day IN (WITH RECURSIVE d(x) AS (
            SELECT (SELECT MIN(event_time_ms) FROM events) / 86400000
            UNION ALL
            SELECT x + 1 FROM d WHERE x < (SELECT MAX(event_time_ms) FROM events) / 86400000)
        SELECT x FROM d)
    AND event_id = ?";

/// An event row (resources are attached after); raw is a zstd frame or, in rows written
/// before migration 0008, text.
fn event_from_row(row: sqlx::sqlite::SqliteRow) -> Result<StoredEvent> {
    let raw = crate::store::packed::unpack(row.try_get("raw")?)?;
    Ok(crate::store::rows::event_from_row(&row, Vec::new(), raw))
}

/// The first millisecond of a minute: API-and-minute-range selections filter on
/// event_time_ms so that they run on the events_name (event_name, event_time_ms) index.
fn minute_start_ms(minute: Minute) -> i64 {
    minute * 60_000
}

impl SqliteStore {
    /// Fills in `resources` for a page of events with one query.
    async fn attach_resources(&self, events: &mut [StoredEvent]) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = events.iter().map(|e| e.cursor.row.to_string()).collect();
        // The IDs are integers from our own rows, never user input.
        let sql = format!(
            "SELECT event_row, resource_type, resource_name FROM event_resources
             WHERE event_row IN ({}) ORDER BY rowid",
            ids.join(",")
        );
        for row in sqlx::query(&sql).fetch_all(&self.pool).await? {
            let id: i64 = row.get(0);
            if let Some(e) = events.iter_mut().find(|e| e.cursor.row == id) {
                e.record.resources.push((row.get(1), row.get(2)));
            }
        }
        Ok(())
    }

    pub(super) async fn span(&self, trail: &str) -> Result<Option<(Minute, Minute)>> {
        // On events_time (trail, event_time_ms): two seeks.
        let row = sqlx::query("SELECT MIN(event_time_ms), MAX(event_time_ms) FROM events WHERE trail = ?")
            .bind(trail)
            .fetch_one(&self.pool)
            .await?;
        let span = row.get::<Option<i64>, _>(0).zip(row.get::<Option<i64>, _>(1));
        Ok(span.map(|(first, last)| (crate::time::minute_of_millis(first), crate::time::minute_of_millis(last))))
    }

    pub(super) async fn list(&self, q: &EventQuery) -> Result<Vec<StoredEvent>> {
        let (attribute, value) = match &q.lookup {
            Some((a, v)) => (Some(*a), Some(v.as_str())),
            None => (None, None),
        };
        let lookup = match attribute {
            None => "1",
            Some(LookupAttribute::EventId) => EVENT_ID_LOOKUP,
            Some(LookupAttribute::EventName) => "event_name = ?",
            Some(LookupAttribute::EventSource) => "event_source = ?",
            Some(LookupAttribute::Username) => "user_name = ?",
            Some(LookupAttribute::AccessKeyId) => "access_key_id = ?",
            Some(LookupAttribute::ReadOnly) => "is_write = (lower(?) <> 'true')",
            Some(LookupAttribute::ResourceType) => {
                "EXISTS (SELECT 1 FROM event_resources r WHERE r.event_row = events.id AND r.resource_type = ?)"
            }
            Some(LookupAttribute::ResourceName) => {
                "EXISTS (SELECT 1 FROM event_resources r WHERE r.event_row = events.id AND r.resource_name = ?)"
            }
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE {lookup} AND (? IS NULL OR trail = ?)
               AND (? IS NULL OR event_source = ?) AND (? IS NULL OR event_name = ?)
               AND (? IS NULL OR account = ?) AND (? IS NULL OR aws_region = ?)
               AND (? IS NULL OR error_code = ?) AND (? = 0 OR is_management = 1) AND (? = 0 OR is_write = 1)
               AND (? IS NULL OR event_time_ms >= ?) AND (? IS NULL OR event_time_ms <= ?)
               AND (? IS NULL OR event_time_ms < ? OR (event_time_ms = ? AND id < ?))
             ORDER BY event_time_ms DESC, id DESC LIMIT ?"
        );
        let mut query = sqlx::query(&sql);
        if let Some(v) = value {
            query = query.bind(v);
        }
        for text in [&q.trail, &q.event_source, &q.event_name, &q.account, &q.region, &q.error_code] {
            query = query.bind(text).bind(text);
        }
        query = query.bind(q.management_only).bind(q.writes_only);
        for ms in [q.from_ms, q.to_ms] {
            query = query.bind(ms).bind(ms);
        }
        let (time, row) = (q.before.map(|c| c.time_ms), q.before.map(|c| c.row));
        query = query.bind(time).bind(time).bind(time).bind(row).bind(q.limit);
        let mut events = query.fetch_all(&self.pool).await?.into_iter().map(event_from_row).collect::<Result<Vec<_>>>()?;
        self.attach_resources(&mut events).await?;
        Ok(events)
    }

    pub(super) async fn get(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE {EVENT_ID_LOOKUP} ORDER BY trail"
        );
        let rows = sqlx::query(&sql).bind(event_id).fetch_all(&self.pool).await?;
        let mut events = rows.into_iter().map(event_from_row).collect::<Result<Vec<_>>>()?;
        self.attach_resources(&mut events).await?;
        Ok(events)
    }

    pub(super) async fn series(&self, q: &SeriesQuery) -> Result<Vec<(Minute, u32)>> {
        let counted = q.counted.map(counted_events).unwrap_or("1");
        let sql = format!(
            "SELECT minute, COUNT(*) FROM events
             WHERE event_name = ? AND event_time_ms >= ? AND event_time_ms < ?
               AND event_source = ? AND {counted}
               AND (? IS NULL OR trail = ?) AND (? IS NULL OR account = ?)
               AND (? IS NULL OR aws_region = ?) AND (? IS NULL OR error_code = ?)
             GROUP BY minute ORDER BY minute"
        );
        let rows = sqlx::query(&sql)
            .bind(&q.event_name)
            .bind(minute_start_ms(q.from))
            .bind(minute_start_ms(q.to))
            .bind(&q.event_source)
            .bind(&q.trail)
            .bind(&q.trail)
            .bind(&q.account)
            .bind(&q.account)
            .bind(&q.region)
            .bind(&q.region)
            .bind(&q.error_code)
            .bind(&q.error_code)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) as u32)).collect())
    }

    pub(super) async fn all_series(&self, trail: &str, kind: InsightType) -> Result<Vec<SeriesCounts>> {
        let error_code = match kind {
            InsightType::ApiCallRate => "NULL",
            InsightType::ApiErrorRate => "error_code",
        };
        let sql = format!(
            "SELECT account, aws_region, event_source, event_name, {error_code} AS code,
                    minute, COUNT(*) AS n
             FROM events WHERE trail = ? AND {}
             GROUP BY account, aws_region, event_source, event_name, code, minute
             ORDER BY account, aws_region, event_source, event_name, code, minute",
            counted_events(kind)
        );
        let rows = sqlx::query(&sql).bind(trail).fetch_all(&self.pool).await?;
        Ok(crate::store::rows::series_from_rows(&rows))
    }

    pub(super) async fn top(
        &self,
        trail: &str,
        kind: InsightType,
        key: &SeriesKey,
        attribute: Attribute,
        (from, to): (Minute, Minute),
        limit: u32,
    ) -> Result<Vec<(String, u64)>> {
        let column = crate::store::attribute_column(attribute);
        let sql = format!(
            "SELECT {column} AS value, COUNT(*) AS n FROM events
             WHERE event_name = ? AND event_time_ms >= ? AND event_time_ms < ?
               AND trail = ? AND event_source = ? AND account = ? AND aws_region = ? AND {}
               AND (? IS NULL OR error_code = ?) AND value IS NOT NULL
             GROUP BY value ORDER BY n DESC, value LIMIT ?",
            counted_events(kind)
        );
        let rows = sqlx::query(&sql)
            .bind(&key.event_name)
            .bind(minute_start_ms(from))
            .bind(minute_start_ms(to))
            .bind(trail)
            .bind(&key.event_source)
            .bind(&key.account)
            .bind(&key.region)
            .bind(&key.error_code)
            .bind(&key.error_code)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get::<i64, _>(1) as u64)).collect())
    }
}
