//! Running independent jobs (layer downloads, layer unpacks) on a few
//! plain threads, stopping at the first error.

use std::sync::Mutex;

/// Runs `job` on every item with at most `workers` threads; once a job
/// fails no new job starts, and the first error is returned.
pub fn try_for_each<T: Sync, E: Send>(
    items: &[T],
    workers: usize,
    job: impl Fn(&T) -> Result<(), E> + Sync,
) -> Result<(), E> {
    let queue = Mutex::new(items.iter().collect::<Vec<_>>());
    let first_error: Mutex<Option<E>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                if first_error.lock().map_or(true, |e| e.is_some()) {
                    break;
                }
                let Some(item) = queue.lock().ok().and_then(|mut q| q.pop()) else { break };
                if let Err(e) = job(item) {
                    if let Ok(mut slot) = first_error.lock() {
                        slot.get_or_insert(e);
                    }
                }
            });
        }
    });
    match first_error.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_all_and_reports_the_first_error() {
        let done = std::sync::atomic::AtomicUsize::new(0);
        let items: Vec<u32> = (0..20).collect();
        super::try_for_each(&items, 4, |_| {
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(done.into_inner(), 20);
        let r = super::try_for_each(&items, 3, |i| if *i == 7 { Err(*i) } else { Ok(()) });
        assert_eq!(r, Err(7));
    }
}
