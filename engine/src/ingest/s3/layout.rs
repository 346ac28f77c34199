//! CloudTrail's delivery layout in a bucket, and what has been read of it.
//!
//! Logs land under `PREFIX/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` (organization
//! trails add a level: `AWSLogs/<o-id>/<account>/...`). A *location* is one
//! account/region folder; locations are discovered with delimiter listings, so neither the
//! digests (`CloudTrail-Digest`) nor insight files are ever listed, let alone read.
//!
//! Each location's [`Checkpoint`] says which days are fully read and which keys of the
//! newer days were. The next run lists from the first open day only. Days stay open until
//! the newest day seen is two days later, because CloudTrail delivers a little late (a file
//! for 23:58 may land after files of the next day): a late object in an open day is still
//! found, and a read one is never read twice.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::client::S3Client;
use super::S3Error;

/// The account/region folders (`.../CloudTrail/<region>/`) under `prefix`, in key order.
pub fn locations(client: &S3Client, prefix: &str) -> Result<Vec<String>, S3Error> {
    let prefix = prefix.trim_matches('/');
    let root = match prefix {
        "" => "AWSLogs/".to_owned(),
        p if p.ends_with("AWSLogs") => format!("{p}/"),
        p => format!("{p}/AWSLogs/"),
    };
    let mut accounts = Vec::new();
    for folder in client.list_folders(&root)? {
        let name = &folder[root.len()..];
        if name.starts_with("o-") {
            accounts.extend(client.list_folders(&folder)?);
        } else {
            accounts.push(folder);
        }
    }
    if accounts.is_empty() {
        return Err(S3Error::NoLogs { location: client.describe(&root) });
    }
    let mut regions = Vec::new();
    for account in accounts {
        regions.extend(client.list_folders(&format!("{account}CloudTrail/"))?);
    }
    Ok(regions)
}

/// What has been read in one location.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Days (`YYYY/MM/DD`) before this one are fully read; empty: nothing read yet.
    pub open_from: String,
    /// Keys already read on `open_from` and later days.
    pub read: BTreeSet<String>,
}

/// Days a delivery may lag behind the newest day seen and still be found.
const OPEN_DAYS: i64 = 1;

impl Checkpoint {
    pub fn parse(text: Option<&str>) -> Checkpoint {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }

    /// Where listing starts: just before the first open day's folder.
    pub fn start_after(&self, location: &str) -> String {
        if self.open_from.is_empty() {
            String::new()
        } else {
            format!("{location}{}", self.open_from)
        }
    }

    /// The listed keys still to read: log files not read before.
    pub fn unread(&self, location: &str, listed: &[String]) -> Vec<String> {
        listed
            .iter()
            .filter(|key| day_of(location, key).is_some() && is_log_key(key) && !self.read.contains(*key))
            .cloned()
            .collect()
    }

    /// The checkpoint after `read` were stored (`failed`, not fetched, stay unread) given
    /// everything `listed` in this location from the first open day on.
    pub fn advance(&self, location: &str, listed: &[String], read: &[String], failed: &[String]) -> Checkpoint {
        let newest = listed.iter().filter_map(|k| day_of(location, k)).max();
        let mut open_from = match newest.and_then(|d| minus_days(d, OPEN_DAYS)) {
            Some(day) if day > self.open_from => day,
            _ => self.open_from.clone(),
        };
        // A day holding an object that could not be fetched stays open, so it is retried.
        if let Some(first_failed) = failed.iter().filter_map(|k| day_of(location, k)).min() {
            open_from = open_from.min(first_failed.to_owned());
        }
        let read = self
            .read
            .iter()
            .chain(read.iter().filter(|k| !failed.contains(k)))
            .filter(|k| day_of(location, k).is_some_and(|d| d >= open_from.as_str()))
            .cloned()
            .collect();
        Checkpoint { open_from, read }
    }
}

/// `YYYY/MM/DD` of a key in `location`, if it is in a day folder.
fn day_of<'k>(location: &str, key: &'k str) -> Option<&'k str> {
    let day = key.strip_prefix(location)?.get(..10)?;
    let b = day.as_bytes();
    (b[4] == b'/' && b[7] == b'/' && key.as_bytes().get(location.len() + 10) == Some(&b'/')).then_some(day)
}

fn minus_days(day: &str, days: i64) -> Option<String> {
    let date = chrono::NaiveDate::parse_from_str(day, "%Y/%m/%d").ok()?;
    Some((date - chrono::Duration::days(days)).format("%Y/%m/%d").to_string())
}

fn is_log_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    [".json", ".json.gz", ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz", ".gz"].iter().any(|ext| key.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOC: &str = "AWSLogs/111/CloudTrail/us-east-1/";

    fn keys(days_and_names: &[&str]) -> Vec<String> {
        days_and_names.iter().map(|k| format!("{LOC}{k}")).collect()
    }

    #[test]
    fn closed_days_are_not_listed_again_and_late_objects_in_open_days_are_found() {
        let first = keys(&["2024/01/01/a.json.gz", "2024/01/02/b.json.gz", "2024/01/03/c.json.gz"]);
        let start = Checkpoint::default();
        assert_eq!(start.unread(LOC, &first), first);
        let after = start.advance(LOC, &first, &first, &[]);
        // The newest day and the one before stay open; 01/01 is closed.
        assert_eq!(after.open_from, "2024/01/02");
        assert_eq!(after.start_after(LOC), format!("{LOC}2024/01/02"));
        assert_eq!(after.read.len(), 2);

        // A late file for 01/02 and a new one for 01/03: only those are unread.
        let second = keys(&["2024/01/02/b.json.gz", "2024/01/02/late.json.gz", "2024/01/03/c.json.gz", "2024/01/03/d.json.gz"]);
        assert_eq!(after.unread(LOC, &second), keys(&["2024/01/02/late.json.gz", "2024/01/03/d.json.gz"]));
    }

    #[test]
    fn objects_that_failed_to_download_are_read_again_next_time() {
        let listed = keys(&["2024/01/01/a.json.gz", "2024/01/05/b.json.gz"]);
        let after = Checkpoint::default().advance(LOC, &listed, &listed, &listed[..1]);
        assert_eq!(after.open_from, "2024/01/01");
        assert_eq!(after.unread(LOC, &listed), listed[..1]);
    }

    #[test]
    fn only_log_files_in_day_folders_count() {
        let listed = keys(&["2024/01/01/a.json.gz", "2024/01/01/notes.txt", "README.json"]);
        let unread = Checkpoint::default().unread(LOC, &listed);
        assert_eq!(unread, listed[..1]);
        let text = serde_json::to_string(&Checkpoint::default().advance(LOC, &listed, &unread, &[])).unwrap();
        assert_eq!(Checkpoint::parse(Some(&text)).read.len(), 1);
    }
}
