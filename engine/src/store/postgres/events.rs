//! Events in Postgres: batch inserts (one statement per batch, its columns passed as arrays)
//! and the queries over events, built with only the conditions a query sets so the
//! planner can use the index for each (a generic `$1 IS NULL OR col = $1` plan cannot).

use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

use super::PostgresStore;
use crate::store::*;

const EVENT_COLUMNS: &str = "id, trail, event_id, event_time_ms, event_source, event_name,
    aws_region, account, error_code, read_only, is_management, is_write, user_arn, user_name,
    access_key_id, user_agent, source_ip, resources::text AS resources, raw";

/// Postgres's check_violation, raised when no partition accepts a row.
const NO_PARTITION: &str = "23514";

/// Records per INSERT statement: bounds the memory of one statement's arrays.
const INSERT_BATCH: usize = 5_000;

/// The SQL condition selecting the events an insight type counts.
fn counted_events(kind: InsightType) -> &'static str {
    match kind {
        InsightType::ApiCallRate => "is_management AND is_write",
        InsightType::ApiErrorRate => "is_management AND error_code IS NOT NULL",
    }
}

/// Resources as stored: `[{"type": ..., "name": ...}]`, in record order.
fn resources_json(r: &Record) -> String {
    let list: Vec<serde_json::Value> = r
        .resources
        .iter()
        .map(|(kind, name)| serde_json::json!({ "type": kind, "name": name }))
        .collect();
    serde_json::Value::Array(list).to_string()
}

fn event_from_row(row: &PgRow) -> StoredEvent {
    let resources = resources_from_json(row.get("resources"));
    crate::store::rows::event_from_row(row, resources, row.get("raw"))
}

fn resources_from_json(text: &str) -> Vec<(String, String)> {
    let list: Vec<serde_json::Value> = serde_json::from_str(text).unwrap_or_default();
    let field = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    list.iter().map(|v| (field(v, "type"), field(v, "name"))).collect()
}


impl PostgresStore {
    pub(super) async fn insert(&self, trail: &str, records: &[Record]) -> Result<u64> {
        match self.insert_once(trail, records).await {
            // Another server's retention dropped a day this server knew: recreate it.
            Err(StoreError::Db(sqlx::Error::Database(e))) if e.code().as_deref() == Some(NO_PARTITION) => {
                self.partitions.lock().unwrap_or_else(|e| e.into_inner()).clear();
                self.insert_once(trail, records).await
            }
            done => done,
        }
    }

    async fn insert_once(&self, trail: &str, records: &[Record]) -> Result<u64> {
        if records.is_empty() {
            return Ok(0);
        }
        self.ensure_partitions(records.iter().map(|r| r.event_time_ms)).await?;
        let mut tx = self.pool.begin().await?;
        let mut stored = 0;
        for batch in records.chunks(INSERT_BATCH) {
            let column = |f: fn(&Record) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
            let text = |f: fn(&Record) -> &String| batch.iter().map(|r| f(r).clone()).collect::<Vec<_>>();
            stored += sqlx::query(
                "INSERT INTO events (trail, event_id, event_time_ms, minute, event_source,
                    event_name, aws_region, account, error_code, read_only, is_management,
                    is_write, user_arn, user_name, access_key_id, user_agent, source_ip,
                    resources, raw)
                 SELECT $1, e.event_id, e.event_time_ms, e.minute, e.event_source, e.event_name,
                    e.aws_region, e.account, e.error_code, e.read_only, e.is_management,
                    e.is_write, e.user_arn, e.user_name, e.access_key_id, e.user_agent,
                    e.source_ip, e.resources::jsonb, e.raw
                 FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[],
                    $7::text[], $8::text[], $9::text[], $10::bool[], $11::bool[], $12::bool[],
                    $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
                    $19::text[])
                   AS e(event_id, event_time_ms, minute, event_source, event_name, aws_region,
                    account, error_code, read_only, is_management, is_write, user_arn,
                    user_name, access_key_id, user_agent, source_ip, resources, raw)
                 ON CONFLICT (trail, event_id, event_time_ms) DO NOTHING",
            )
            .bind(trail)
            .bind(text(|r| &r.event_id))
            .bind(batch.iter().map(|r| r.event_time_ms).collect::<Vec<_>>())
            .bind(batch.iter().map(|r| r.minute()).collect::<Vec<_>>())
            .bind(text(|r| &r.event_source))
            .bind(text(|r| &r.event_name))
            .bind(text(|r| &r.aws_region))
            .bind(text(|r| &r.account))
            .bind(column(|r| r.error_code.clone()))
            .bind(batch.iter().map(|r| r.read_only).collect::<Vec<_>>())
            .bind(batch.iter().map(|r| r.is_management).collect::<Vec<_>>())
            .bind(batch.iter().map(|r| r.is_write).collect::<Vec<_>>())
            .bind(column(|r| r.user_arn.clone()))
            .bind(column(|r| r.user_name.clone()))
            .bind(column(|r| r.access_key_id.clone()))
            .bind(column(|r| r.user_agent.clone()))
            .bind(column(|r| r.source_ip.clone()))
            .bind(batch.iter().map(resources_json).collect::<Vec<_>>())
            .bind(text(|r| &r.raw))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(stored)
    }

    pub(super) async fn list(&self, q: &EventQuery) -> Result<Vec<StoredEvent>> {
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE TRUE"));
        if let Some((attribute, value)) = &q.lookup {
            let resource = |qb: &mut QueryBuilder<'_, Postgres>, field: &str| {
                qb.push(format_args!(" AND resources @> jsonb_build_array(jsonb_build_object('{field}', "));
                qb.push_bind(value.clone()).push("::text))");
            };
            match attribute {
                LookupAttribute::ResourceType => resource(&mut qb, "type"),
                LookupAttribute::ResourceName => resource(&mut qb, "name"),
                LookupAttribute::ReadOnly => {
                    qb.push(" AND is_write = ").push_bind(!value.eq_ignore_ascii_case("true"));
                }
                other => {
                    let column = match other {
                        LookupAttribute::EventId => "event_id",
                        LookupAttribute::EventName => "event_name",
                        LookupAttribute::EventSource => "event_source",
                        LookupAttribute::Username => "user_name",
                        _ => "access_key_id",
                    };
                    qb.push(format_args!(" AND {column} = ")).push_bind(value.clone());
                }
            }
        }
        let texts = [
            ("trail", &q.trail),
            ("event_source", &q.event_source),
            ("event_name", &q.event_name),
            ("account", &q.account),
            ("aws_region", &q.region),
            ("error_code", &q.error_code),
        ];
        for (column, value) in texts {
            if let Some(v) = value {
                qb.push(format_args!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        if q.management_only {
            qb.push(" AND is_management");
        }
        if q.writes_only {
            qb.push(" AND is_write");
        }
        if let Some(from) = q.from_ms {
            qb.push(" AND event_time_ms >= ").push_bind(from);
        }
        if let Some(to) = q.to_ms {
            qb.push(" AND event_time_ms <= ").push_bind(to);
        }
        if let Some(c) = q.before {
            qb.push(" AND (event_time_ms < ").push_bind(c.time_ms);
            qb.push(" OR (event_time_ms = ").push_bind(c.time_ms).push(" AND id < ").push_bind(c.row).push("))");
        }
        qb.push(" ORDER BY event_time_ms DESC, id DESC LIMIT ").push_bind(i64::from(q.limit));
        Ok(qb.build().fetch_all(&self.pool).await?.iter().map(event_from_row).collect())
    }

    pub(super) async fn get(&self, event_id: &str) -> Result<Vec<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE event_id = $1 ORDER BY trail COLLATE \"C\"");
        let rows = sqlx::query(&sql).bind(event_id).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(event_from_row).collect())
    }

    pub(super) async fn series(&self, q: &SeriesQuery) -> Result<Vec<(Minute, u32)>> {
        let counted = q.counted.map(counted_events).unwrap_or("TRUE");
        let mut qb = QueryBuilder::<Postgres>::new("SELECT minute, COUNT(*) FROM events WHERE event_source = ");
        qb.push_bind(q.event_source.clone()).push(" AND event_name = ").push_bind(q.event_name.clone());
        qb.push(" AND minute >= ").push_bind(q.from).push(" AND minute < ").push_bind(q.to);
        qb.push(format_args!(" AND {counted}"));
        for (column, value) in [("trail", &q.trail), ("account", &q.account), ("aws_region", &q.region), ("error_code", &q.error_code)] {
            if let Some(v) = value {
                qb.push(format_args!(" AND {column} = ")).push_bind(v.clone());
            }
        }
        qb.push(" GROUP BY minute ORDER BY minute");
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1) as u32)).collect())
    }

    pub(super) async fn all_series(&self, trail: &str, kind: InsightType) -> Result<Vec<SeriesCounts>> {
        let error_code = match kind {
            InsightType::ApiCallRate => "NULL::text",
            InsightType::ApiErrorRate => "error_code",
        };
        let sql = format!(
            "SELECT account, aws_region, event_source, event_name, {error_code} COLLATE \"C\" AS code,
                    minute, COUNT(*) AS n
             FROM events WHERE trail = $1 AND {}
             GROUP BY account, aws_region, event_source, event_name, code, minute
             ORDER BY account COLLATE \"C\", aws_region COLLATE \"C\", event_source COLLATE \"C\",
                      event_name COLLATE \"C\", code, minute",
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
        let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT ({column}) COLLATE \"C\" AS value, COUNT(*) AS n FROM events WHERE trail = "));
        qb.push_bind(trail.to_owned()).push(" AND event_source = ").push_bind(key.event_source.clone());
        qb.push(" AND event_name = ").push_bind(key.event_name.clone());
        qb.push(" AND account = ").push_bind(key.account.clone());
        qb.push(" AND aws_region = ").push_bind(key.region.clone());
        qb.push(" AND minute >= ").push_bind(from).push(" AND minute < ").push_bind(to);
        qb.push(format_args!(" AND {} AND {column} IS NOT NULL", counted_events(kind)));
        if let Some(code) = &key.error_code {
            qb.push(" AND error_code = ").push_bind(code.clone());
        }
        qb.push(" GROUP BY value ORDER BY n DESC, value LIMIT ").push_bind(i64::from(limit));
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get::<i64, _>(1) as u64)).collect())
    }
}
