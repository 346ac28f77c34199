//! The evaluation's simulated account: per-minute activity of many APIs in two regions,
//! turned into the series each insight type analyses, with a record of what was injected.
//!
//! Activity is added as counts of calls of one API in one minute (`ok` calls and calls that
//! failed with an error code). Which series they feed follows exactly the rules real
//! records follow ([`crate::record`]): data events feed nothing, reads feed only error
//! series, writes feed the call-rate series and, when they fail, the error series.
//! Everything injected on top of the background carries a [`Tag`], so the scorer knows,
//! per series, where each burst lies and how big it was.

use std::collections::{BTreeMap, HashMap};

use crate::record::name_looks_read_only;
use crate::store::InsightType;
use crate::time::{Minute, MINUTES_PER_DAY};

/// What a burst is, as far as the evaluation is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// An attack or an incident: should raise an insight where it is big enough.
    Attack,
    /// Harmless recurring work or a distractor: must not raise an insight.
    Harmless,
}

/// One injected burst (it may feed several series).
#[derive(Debug, Clone)]
pub struct Tag {
    pub name: String,
    pub intent: Intent,
}

/// One analysed series: the type, the region and the API (and error code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesId {
    pub kind: InsightType,
    pub region: &'static str,
    pub source: String,
    pub name: String,
    pub error: Option<String>,
}

impl std::fmt::Display for SeriesId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            InsightType::ApiCallRate => "calls",
            InsightType::ApiErrorRate => "errors",
        };
        let service = self.source.trim_end_matches(".amazonaws.com");
        write!(f, "{kind} {} {service}:{}", self.region, self.name)?;
        if let Some(e) = &self.error {
            write!(f, " {e}")?;
        }
        Ok(())
    }
}

/// How one call is classified, decided as for real records.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub source: &'a str,
    pub name: &'a str,
    /// `readOnly` as written; `None` for old records (the name decides).
    pub read_only: Option<bool>,
    pub management: bool,
}

impl Call<'_> {
    fn is_write(&self) -> bool {
        self.read_only.map_or_else(|| !name_looks_read_only(self.name), |r| !r)
    }
}

/// A whole simulated account over `days` days from `start`.
pub struct World {
    pub start: Minute,
    pub days: i64,
    pub tags: Vec<Tag>,
    /// Dense per-minute counts of every series, and what of it each tag injected.
    series: BTreeMap<SeriesId, Vec<u32>>,
    injected: HashMap<(SeriesId, usize), BTreeMap<Minute, u32>>,
}

impl World {
    pub fn new(start: Minute, days: i64) -> World {
        World { start, days, tags: Vec::new(), series: BTreeMap::new(), injected: HashMap::new() }
    }

    pub fn end(&self) -> Minute {
        self.start + self.days * MINUTES_PER_DAY
    }

    /// Registers a burst and returns its tag number for [`World::add`].
    pub fn tag(&mut self, name: impl Into<String>, intent: Intent) -> usize {
        self.tags.push(Tag { name: name.into(), intent });
        self.tags.len() - 1
    }

    /// Adds `ok` successful calls and `errors` failed calls (with `error`) in `minute`.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        region: &'static str,
        call: Call<'_>,
        minute: Minute,
        ok: u32,
        errors: u32,
        error: Option<&str>,
        tag: Option<usize>,
    ) {
        if !call.management || minute < self.start || minute >= self.end() || ok + errors == 0 {
            return;
        }
        let id = |kind, error: Option<&str>| SeriesId {
            kind,
            region,
            source: call.source.to_owned(),
            name: call.name.to_owned(),
            error: error.map(str::to_owned),
        };
        if call.is_write() {
            self.bump(id(InsightType::ApiCallRate, None), minute, ok + errors, tag);
        }
        if let (Some(code), true) = (error, errors > 0) {
            self.bump(id(InsightType::ApiErrorRate, Some(code)), minute, errors, tag);
        }
    }

    fn bump(&mut self, id: SeriesId, minute: Minute, n: u32, tag: Option<usize>) {
        let len = (self.days * MINUTES_PER_DAY) as usize;
        let slot = (minute - self.start) as usize;
        self.series.entry(id.clone()).or_insert_with(|| vec![0; len])[slot] += n;
        if let Some(tag) = tag {
            *self.injected.entry((id, tag)).or_default().entry(minute).or_default() += n;
        }
    }

    /// Every series with its non-zero `(minute, count)` pairs.
    pub fn series(&self) -> impl Iterator<Item = (&SeriesId, Vec<(Minute, u32)>)> {
        self.series.iter().map(|(id, dense)| {
            let sparse =
                dense.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, c)| (self.start + i as i64, *c)).collect();
            (id, sparse)
        })
    }

    /// The bursts injected into one series: `(tag, first minute, minute after the last,
    /// peak count injected in one minute)`.
    pub fn bursts_in(&self, id: &SeriesId) -> Vec<(usize, Minute, Minute, u32)> {
        let mut out: Vec<_> = self
            .injected
            .iter()
            .filter(|((sid, _), _)| sid == id)
            .map(|((_, tag), minutes)| {
                let first = *minutes.keys().next().unwrap_or(&0);
                let last = *minutes.keys().next_back().unwrap_or(&0);
                (*tag, first, last + 1, minutes.values().copied().max().unwrap_or(0))
            })
            .collect();
        out.sort_by_key(|b| (b.1, b.0));
        out
    }

    /// The mean background (everything not injected) of a series at the same time of day
    /// over the previous seven days: the ordinary rate a burst is compared with.
    pub fn usual_rate(&self, id: &SeriesId, minute: Minute) -> f64 {
        let Some(dense) = self.series.get(id) else { return 0.0 };
        let injected_at = |m: Minute| -> u32 {
            self.injected.iter().filter(|((sid, _), _)| sid == id).filter_map(|(_, ms)| ms.get(&m)).sum()
        };
        let (mut sum, mut n) = (0.0, 0.0);
        for day in 1..=7 {
            for offset in -30..=30 {
                let m = minute - day * MINUTES_PER_DAY + offset;
                if m >= self.start {
                    let c = dense[(m - self.start) as usize];
                    sum += c.saturating_sub(injected_at(m)) as f64;
                    n += 1.0;
                }
            }
        }
        if n == 0.0 {
            0.0
        } else {
            sum / n
        }
    }
}
