//! Live detection: counted events arrive, possibly out of order; minutes close once no more
//! events are expected for them; each closed minute steps every series' detector.
//!
//! # Lateness
//!
//! CloudTrail delivers a file about five minutes after its calls, and files arrive out of
//! order. A minute `m` stays open until an event at or after `m + lateness` has been seen
//! (or [`StreamDetector::close_until`] is called, e.g. by a clock): until then events for
//! it are simply counted. Events for a minute already closed are **late**: they are not
//! counted by the stream (its insights never change after the fact), [`StreamDetector::push`]
//! reports them, and the caller keeps them in the store, where the next replay
//! (`trailsight detect`) sees them. Because stored insights are never rewritten, a replay
//! only adds what the stream could not know.
//!
//! Every series steps through the same [`SeriesDetector`] the replay uses, with the same
//! counts, so for events no later than the lateness window the stream and the replay give
//! identical insights (the property test below checks it).

use std::collections::{BTreeMap, VecDeque};

use crate::time::{Minute, MINUTES_PER_DAY};

use super::config::DetectorConfig;
use super::detector::{Anomaly, SeriesDetector};

/// What closing minutes produced.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent<K> {
    Started(K, Anomaly),
    Ended(K, Anomaly),
}

struct LiveSeries {
    detector: SeriesDetector,
    /// Non-zero closed counts still inside the detector's longest look-back.
    history: VecDeque<(Minute, u32)>,
}

fn count_at(history: &VecDeque<(Minute, u32)>, m: Minute) -> u32 {
    match history.binary_search_by_key(&m, |(minute, _)| *minute) {
        Ok(i) => history[i].1,
        Err(_) => 0,
    }
}

/// Live detection over many series keyed by `K` (e.g. a series key).
pub struct StreamDetector<K> {
    cfg: DetectorConfig,
    history_start: Minute,
    lateness: i64,
    /// Counts of minutes not closed yet.
    open: BTreeMap<Minute, BTreeMap<K, u32>>,
    /// Every minute before this one is closed.
    closed_until: Minute,
    series: BTreeMap<K, LiveSeries>,
    /// Events refused because their minute had closed.
    pub late_events: u64,
}

impl<K: Clone + Ord> StreamDetector<K> {
    /// `history_start`: the trail's first minute of history (nothing is judged before a
    /// whole baseline lies behind a minute); `lateness`: minutes a minute stays open.
    pub fn new(cfg: DetectorConfig, history_start: Minute, lateness: i64) -> StreamDetector<K> {
        StreamDetector {
            cfg,
            history_start,
            lateness,
            open: BTreeMap::new(),
            closed_until: history_start,
            series: BTreeMap::new(),
            late_events: 0,
        }
    }

    /// Counts `n` events of series `key` in `minute`, and closes the minutes this event
    /// shows are complete. Returns what closing them produced; an event for a closed
    /// minute is counted in [`StreamDetector::late_events`] and otherwise ignored.
    pub fn push(&mut self, key: K, minute: Minute, n: u32) -> Vec<StreamEvent<K>> {
        if n == 0 {
            return Vec::new();
        }
        if minute < self.closed_until {
            self.late_events += n as u64;
            return Vec::new();
        }
        *self.open.entry(minute).or_default().entry(key).or_default() += n;
        self.close_until(minute - self.lateness + 1)
    }

    /// Closes every minute before `until` (a clock saying no more events will come).
    pub fn close_until(&mut self, until: Minute) -> Vec<StreamEvent<K>> {
        let mut out = Vec::new();
        while self.closed_until < until {
            let minute = self.closed_until;
            let counts = self.open.remove(&minute).unwrap_or_default();
            self.close_minute(minute, counts, &mut out);
            self.closed_until += 1;
        }
        out
    }

    fn close_minute(&mut self, minute: Minute, counts: BTreeMap<K, u32>, out: &mut Vec<StreamEvent<K>>) {
        let lookback = self.cfg.baseline_minutes.max(self.cfg.profile_days * MINUTES_PER_DAY) + 60;
        for (key, n) in counts {
            let live = self.series.entry(key).or_insert_with(|| {
                let mut detector = SeriesDetector::new(self.cfg.clone(), self.history_start, minute);
                // Catch up on the silence before the first call.
                while detector.next_minute() < minute {
                    detector.step(&|_| 0);
                }
                LiveSeries { detector, history: VecDeque::new() }
            });
            live.history.push_back((minute, n));
        }
        for (key, live) in self.series.iter_mut() {
            while live.history.front().is_some_and(|(m, _)| *m < minute - lookback) {
                live.history.pop_front();
            }
            let LiveSeries { detector, history } = live;
            let was_active = detector.ongoing().is_some();
            if let Some(anomaly) = detector.step(&|m| count_at(history, m)) {
                out.push(StreamEvent::Ended(key.clone(), anomaly));
            }
            if let (false, Some(started)) = (was_active, detector.ongoing()) {
                out.push(StreamEvent::Started(key.clone(), started.clone()));
            }
        }
    }

    /// Every insight so far per series: ended ones are reported through events; this is
    /// the ongoing one of each series.
    pub fn ongoing(&self) -> impl Iterator<Item = (&K, &Anomaly)> {
        self.series.iter().filter_map(|(k, s)| s.detector.ongoing().map(|a| (k, a)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::Rng;
    use crate::detect::detect_series;

    const DAY: i64 = MINUTES_PER_DAY;
    const LATENESS: i64 = 10;

    /// Per-minute counts of a few series: noise, a nightly job, and bursts at random times.
    fn history(seed: u64, days: i64) -> BTreeMap<&'static str, Vec<(Minute, u32)>> {
        let mut rng = Rng(seed);
        let mut out = BTreeMap::new();
        for (key, mean) in [("sparse", 0.01), ("steady", 0.8), ("busy", 6.0)] {
            let bursts: Vec<Minute> = (0..4).map(|_| 7 * DAY + rng.below(((days - 7) * DAY) as usize) as i64).collect();
            let counts: Vec<(Minute, u32)> = (0..days * DAY)
                .map(|m| {
                    let nightly = if m % DAY >= 120 && m % DAY < 124 { 20.0 } else { 0.0 };
                    let burst = if bursts.iter().any(|b| (*b..b + 5).contains(&m)) { 40.0 } else { 0.0 };
                    (m, rng.poisson(mean + nightly + burst))
                })
                .filter(|(_, c)| *c > 0)
                .collect();
            out.insert(key, counts);
        }
        out
    }

    /// The insights a stream produces, per series, once everything up to `until` closed.
    fn streamed(events: &[(Minute, &'static str)], until: Minute) -> BTreeMap<&'static str, Vec<Anomaly>> {
        let mut stream = StreamDetector::new(DetectorConfig::default(), 0, LATENESS);
        let mut out: BTreeMap<&str, Vec<Anomaly>> = BTreeMap::new();
        let mut collect = |events: Vec<StreamEvent<&'static str>>| {
            for e in events {
                if let StreamEvent::Ended(k, a) = e {
                    out.entry(k).or_default().push(a);
                }
            }
        };
        for &(minute, key) in events {
            collect(stream.push(key, minute, 1));
        }
        collect(stream.close_until(until));
        assert_eq!(stream.late_events, 0);
        for (k, a) in stream.ongoing() {
            out.entry(*k).or_default().push(a.clone());
        }
        out
    }

    #[test]
    fn streaming_in_order_shuffled_within_lateness_and_replay_agree() {
        for seed in 1..=3 {
            let days = 10;
            let series = history(seed, days);
            let until = days * DAY;
            let replayed: BTreeMap<&str, Vec<Anomaly>> = series
                .iter()
                .map(|(k, c)| (*k, detect_series(c, 0, until, &DetectorConfig::default())))
                .filter(|(_, found)| !found.is_empty())
                .collect();
            assert!(replayed.values().map(Vec::len).sum::<usize>() >= 4, "seed {seed}: {replayed:?}");

            // One event per call, in time order.
            let mut events: Vec<(Minute, &str)> = series
                .iter()
                .flat_map(|(k, c)| c.iter().flat_map(move |&(m, n)| std::iter::repeat_n((m, *k), n as usize)))
                .collect();
            events.sort();
            assert_eq!(streamed(&events, until), replayed, "in order, seed {seed}");

            // Delivered out of order, each at most LATENESS - 1 minutes after its minute.
            let mut rng = Rng(seed);
            let mut delivered: Vec<(Minute, usize)> =
                events.iter().enumerate().map(|(i, (m, _))| (m + rng.below(LATENESS as usize) as i64, i)).collect();
            delivered.sort();
            let shuffled: Vec<(Minute, &str)> = delivered.iter().map(|(_, i)| events[*i]).collect();
            assert_ne!(shuffled, events);
            assert_eq!(streamed(&shuffled, until), replayed, "shuffled, seed {seed}");
        }
    }

    #[test]
    fn an_event_later_than_the_window_is_reported_and_changes_nothing() {
        let mut stream = StreamDetector::new(DetectorConfig::default(), 0, LATENESS);
        stream.push("api", 8 * DAY, 1);
        stream.push("api", 8 * DAY + 30, 1);
        let events = stream.push("api", 8 * DAY + 5, 50);
        assert!(events.is_empty());
        assert_eq!(stream.late_events, 50);
        assert_eq!(stream.ongoing().count(), 0);
    }
}
