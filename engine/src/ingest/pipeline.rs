//! Parallel reading with ordered, bounded delivery.
//!
//! Decompressing and parsing are CPU work that scale with cores, while storing is one
//! writer (SQLite has a single writer). [`ordered_parallel`] runs a function over a list of
//! inputs on several threads and hands the results to an async consumer **in input order**,
//! so a run is deterministic (when two files hold the same `eventID`, the first file in walk
//! order wins, exactly as in a single-threaded run). A window of permits bounds how far the
//! workers may run ahead of the consumer: memory stays bounded however large the tree.
//!
//! No async runtime types leak into the workers: they are plain threads, so a slow gunzip
//! never blocks the runtime that serves HTTP.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// How many inputs may be read but not yet consumed, per worker.
const WINDOW_PER_WORKER: usize = 2;

/// A counting semaphore for threads, closable so that workers stop when the consumer goes.
struct Window {
    state: Mutex<WindowState>,
    changed: Condvar,
}

struct WindowState {
    free: usize,
    closed: bool,
    /// Workers waiting for a permit (lets tests see that the window, not chance, stopped them).
    waiting: usize,
}

impl Window {
    /// Waits for a permit; `false` when the consumer has gone.
    fn acquire(&self) -> bool {
        let mut state = self.state.lock().expect("window lock");
        while state.free == 0 && !state.closed {
            state.waiting += 1;
            state = self.changed.wait(state).expect("window lock");
            state.waiting -= 1;
        }
        if state.closed {
            return false;
        }
        state.free -= 1;
        true
    }

    fn release(&self) {
        self.state.lock().expect("window lock").free += 1;
        self.changed.notify_one();
    }

    fn close(&self) {
        self.state.lock().expect("window lock").closed = true;
        self.changed.notify_all();
    }
}

/// Results of [`ordered_parallel`], in input order.
pub struct Ordered<I, T> {
    rx: tokio::sync::mpsc::UnboundedReceiver<(usize, I, T)>,
    pending: BTreeMap<usize, (I, T)>,
    next: usize,
    total: usize,
    window: Arc<Window>,
}

impl<I, T> Ordered<I, T> {
    /// How many inputs there are in all.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The next input and its result in input order; `None` when all are done.
    pub async fn next(&mut self) -> Option<(I, T)> {
        loop {
            if let Some(item) = self.pending.remove(&self.next) {
                self.next += 1;
                self.window.release();
                return Some(item);
            }
            let (index, input, result) = self.rx.recv().await?;
            self.pending.insert(index, (input, result));
        }
    }

    /// Whether the next result in order is ready now (so a batch can grow without waiting).
    pub fn ready(&mut self) -> bool {
        while let Ok((index, input, result)) = self.rx.try_recv() {
            self.pending.insert(index, (input, result));
        }
        self.pending.contains_key(&self.next)
    }
}

impl<I, T> Drop for Ordered<I, T> {
    fn drop(&mut self) {
        self.window.close();
    }
}

/// Runs `work` over `inputs` on `workers` threads; see the module docs.
pub fn ordered_parallel<I, T, F>(inputs: Vec<I>, workers: usize, work: F) -> Ordered<I, T>
where
    I: Send + Sync + Clone + 'static,
    T: Send + 'static,
    F: Fn(&I) -> T + Send + Sync + 'static,
{
    let workers = workers.clamp(1, inputs.len().max(1));
    let window = Arc::new(Window {
        state: Mutex::new(WindowState { free: workers * WINDOW_PER_WORKER, closed: false, waiting: 0 }),
        changed: Condvar::new(),
    });
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let total = inputs.len();
    let shared = Arc::new((inputs, AtomicUsize::new(0), work));
    for _ in 0..workers {
        let (shared, window, tx) = (shared.clone(), window.clone(), tx.clone());
        std::thread::spawn(move || {
            let (inputs, next, work) = &*shared;
            // A permit is taken before an index, so the lowest unconsumed index always holds
            // one: the consumer can always make progress and the window never deadlocks.
            while window.acquire() {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(input) = inputs.get(index) else { return };
                if tx.send((index, input.clone(), work(input))).is_err() {
                    return;
                }
            }
        });
    }
    Ordered { rx, pending: BTreeMap::new(), next: 0, total, window }
}

/// The worker count for CPU-bound reading: one per core (at least 2). The window throttles
/// them whenever the single writer is the slower side, so they never starve it.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_arrive_in_input_order_whatever_the_finishing_order() {
        // Early inputs take longest, so workers finish them last.
        let inputs: Vec<u64> = (0..40).collect();
        let mut ordered = ordered_parallel(inputs, 4, |&i| {
            std::thread::sleep(std::time::Duration::from_millis(40u64.saturating_sub(i)));
            i * 10
        });
        let mut seen = Vec::new();
        while let Some((input, result)) = ordered.next().await {
            assert_eq!(result, input * 10);
            seen.push(input);
        }
        assert_eq!(seen, (0..40).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn workers_never_run_more_than_the_window_ahead() {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = started.clone();
        let mut ordered = ordered_parallel((0..100).collect::<Vec<u32>>(), 2, move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        // Both workers end up waiting for a permit (without a window they would run through
        // all 100 inputs and never wait), and then exactly the window has started: 2 x 2.
        let both_waiting = |ordered: &Ordered<u32, ()>| ordered.window.state.lock().unwrap().waiting == 2;
        let wait_for = |want: usize, ordered: &Ordered<u32, ()>| {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while !(both_waiting(ordered) && started.load(Ordering::SeqCst) == want) {
                assert!(std::time::Instant::now() < deadline, "started {}, want {want}", started.load(Ordering::SeqCst));
                std::thread::yield_now();
            }
        };
        wait_for(4, &ordered);
        // Each input consumed lets exactly one more start.
        ordered.next().await.unwrap();
        wait_for(5, &ordered);
        ordered.next().await.unwrap();
        ordered.next().await.unwrap();
        wait_for(7, &ordered);
    }
}
