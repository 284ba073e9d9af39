//! Directory syncs shared by concurrent writers: a group sync, as the
//! SQLite writer's group commit shares one fsync among the transactions
//! waiting for it.
//!
//! A rename (or removal) survives a crash only once its directory has been
//! synced, and a directory sync persists every entry the directory holds at
//! the moment it starts. So a writer that renamed a file into a directory
//! needs *a* sync of that directory that began after its rename, not one of
//! its own: writers that finish their renames while a sync runs wait for
//! it to end, and the first of them then starts one sync that covers all
//! of them.
//!
//! Each directory counts the changes announced to it. A writer announces
//! its change after the rename returned (so its number is taken after the
//! rename happened), then waits until a sync that started at or after that
//! number has succeeded. A failed sync fails every writer it was meant to
//! cover (their entries may not be on disk, whatever a later sync says: a
//! kernel may forget a failed writeback's error); writers that announced
//! their changes after it started try again with a sync of their own.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// The group syncs of every directory a store has synced.
#[derive(Debug, Default)]
pub(super) struct GroupSyncs {
    dirs: Mutex<HashMap<PathBuf, Arc<DirSync>>>,
}

/// One directory's changes and syncs.
#[derive(Debug, Default)]
struct DirSync {
    state: Mutex<State>,
    ended: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Changes announced so far; a change's number is this count after it.
    announced: u64,
    /// Every change up to this number is on disk.
    synced: u64,
    /// Changes up to this number were covered by a sync that failed.
    failed: u64,
    /// A sync is running.
    syncing: bool,
}

/// Poisoning only means another writer panicked while holding the lock; the
/// counters are updated in single steps, so they are still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl GroupSyncs {
    /// Returns once a sync of `dir` that began after this call did (the
    /// caller's change to `dir` is then durable), running `sync` itself
    /// when no running sync can cover the change. Blocks: call it on a
    /// blocking thread.
    pub(super) fn after_change(
        &self,
        dir: &Path,
        sync: impl Fn(&Path) -> io::Result<()>,
    ) -> io::Result<()> {
        let entry = {
            let mut dirs = lock(&self.dirs);
            Arc::clone(dirs.entry(dir.to_path_buf()).or_default())
        };
        entry.after_change(dir, sync)
    }
}

impl DirSync {
    fn after_change(&self, dir: &Path, sync: impl Fn(&Path) -> io::Result<()>) -> io::Result<()> {
        let mut state = lock(&self.state);
        state.announced += 1;
        let mine = state.announced;
        loop {
            if state.synced >= mine {
                return Ok(());
            }
            if state.failed >= mine {
                return Err(io::Error::other(format!(
                    "a sync of {} covering this change failed",
                    dir.display()
                )));
            }
            if state.syncing {
                // The running sync may have begun before this change: wait
                // for it, then look again.
                state = self
                    .ended
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.syncing = true;
            let covers = state.announced;
            drop(state);
            let result = sync(dir);
            state = lock(&self.state);
            state.syncing = false;
            match &result {
                Ok(()) => state.synced = state.synced.max(covers),
                Err(_) => state.failed = state.failed.max(covers),
            }
            self.ended.notify_all();
            result?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::time::Duration;

    /// A stand-in directory: a counter of changes made to it, and the
    /// highest change count any successful sync saw when it began.
    #[derive(Default)]
    struct Dir {
        changes: AtomicU64,
        durable: AtomicU64,
        syncs: AtomicUsize,
    }

    impl Dir {
        fn sync(&self) -> io::Result<()> {
            let seen = self.changes.load(Ordering::SeqCst);
            self.syncs.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            self.durable.fetch_max(seen, Ordering::SeqCst);
            Ok(())
        }
    }

    #[test]
    fn every_writer_returns_after_a_sync_that_saw_its_change_and_syncs_are_shared() {
        const WRITERS: usize = 16;
        let syncs = GroupSyncs::default();
        let dir = Dir::default();
        let start = Barrier::new(WRITERS);
        std::thread::scope(|s| {
            for _ in 0..WRITERS {
                s.spawn(|| {
                    start.wait();
                    let mine = dir.changes.fetch_add(1, Ordering::SeqCst) + 1;
                    syncs.after_change(Path::new("d"), |_| dir.sync()).unwrap();
                    let durable = dir.durable.load(Ordering::SeqCst);
                    assert!(durable >= mine, "change {mine} returned at {durable}");
                });
            }
        });
        let count = dir.syncs.load(Ordering::SeqCst);
        assert!(count < WRITERS, "{count} syncs for {WRITERS} changes");
    }

    #[test]
    fn directories_are_synced_apart() {
        let syncs = GroupSyncs::default();
        let synced = Mutex::new(Vec::new());
        for name in ["a", "b", "a"] {
            syncs
                .after_change(Path::new(name), |d| {
                    lock(&synced).push(d.to_path_buf());
                    Ok(())
                })
                .unwrap();
        }
        let synced = synced.into_inner().unwrap();
        assert_eq!(synced, [Path::new("a"), Path::new("b"), Path::new("a")]);
    }

    #[test]
    fn a_failed_sync_fails_the_writers_it_covered_and_later_ones_sync_again() {
        let syncs = GroupSyncs::default();
        let calls = AtomicUsize::new(0);
        let failing = |_: &Path| {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(io::Error::other("disk gone"))
        };
        assert!(syncs.after_change(Path::new("d"), failing).is_err());
        // A later change is not covered by the failed sync: it runs its own.
        syncs
            .after_change(Path::new("d"), |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn writers_waiting_on_a_sync_that_fails_fail_with_it() {
        let syncs = GroupSyncs::default();
        let calls = AtomicUsize::new(0);
        let announced = || {
            lock(&syncs.dirs)
                .get(Path::new("d"))
                .map_or(0, |d| lock(&d.state).announced)
        };
        // The first sync holds on until three changes were announced (the
        // two others wait for it, having begun after it), then succeeds;
        // the second, which covers both waiters, fails.
        let sync = |_: &Path| {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                while announced() < 3 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(())
            } else {
                Err(io::Error::other("disk gone"))
            }
        };
        let results: Vec<io::Result<()>> = std::thread::scope(|s| {
            let first = s.spawn(|| syncs.after_change(Path::new("d"), sync));
            while announced() < 1 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let others: Vec<_> = (0..2)
                .map(|_| s.spawn(|| syncs.after_change(Path::new("d"), sync)))
                .collect();
            std::iter::once(first)
                .chain(others)
                .map(|h| h.join().unwrap())
                .collect()
        });
        assert!(results[0].is_ok());
        assert!(results[1].is_err() && results[2].is_err(), "{results:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
