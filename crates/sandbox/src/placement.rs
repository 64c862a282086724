//! Which CPUs runtimes run on, relative to Portico's own worker threads.
//!
//! Every warm invocation is a message to a runtime process and one back. A runtime woken by a
//! message from a worker is placed by the kernel on the worker's own CPU (Unix-socket wake-ups
//! are "sync": they tell the scheduler the sender is about to sleep, which a server never is)
//! and preempts it there. Under load the worker then spends its time being switched out and
//! back in, and the requests it holds wait (docs/performance.md: on 2 CPUs, the seed scenario
//! serves about 1.5x more requests with the workers on one CPU and the runtimes on the other).
//!
//! So, where the process may run on more CPUs than it has workers, the last CPUs are set aside
//! for the workers ([`CpuPlacement::reserve`]) and an adaptive rule ([`CpuPlacement::adapt`])
//! places both:
//! - **confined** while the workers are busy (at least [`CONFINE_AT`] of their CPUs' time over a
//!   sampling period), which is when preemption costs throughput: Portico's threads run on the
//!   set-aside CPUs and runtimes on the others;
//! - **shared** once the workers are mostly idle (at most [`SHARE_AT`]), and from the start:
//!   everything may run on any CPU the process may use, so compute-heavy functions, which call
//!   for few invocations a second, get every CPU of the machine, and several idle servers on
//!   one machine do not crowd onto the same CPU.
//!
//! A runtime gets the current placement before it executes (set in the forked child), and a
//! change of placement moves every thread of Portico and of the runtimes running at the time.
//! Processes a runtime forks keep the placement they were created with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::sys::resource::{UsageWho, getrusage};
use nix::unistd::Pid;

/// Worker busy share (of the reserved CPUs' time) at or above which runtimes are confined.
pub const CONFINE_AT: f64 = 0.5;
/// Worker busy share at or below which runtimes may use every CPU again.
pub const SHARE_AT: f64 = 0.2;
/// How often [`CpuPlacement::adapt`] samples the workers' CPU time.
pub const SAMPLE_PERIOD: Duration = Duration::from_millis(250);

/// Where runtimes may run now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On the CPUs not reserved for the workers.
    Confined,
    /// On every CPU the process may use.
    Shared,
}

impl Mode {
    /// The mode after a sampling period in which the workers were busy `busy` of the time
    /// (0.0 to 1.0). Between the two thresholds the mode stays, so it does not flap.
    #[must_use]
    pub fn next(self, busy: f64) -> Self {
        if busy >= CONFINE_AT {
            Mode::Confined
        } else if busy <= SHARE_AT {
            Mode::Shared
        } else {
            self
        }
    }
}

/// The CPU split between Portico's workers and the runtimes, and the runtimes it placed.
#[derive(Debug)]
pub struct CpuPlacement {
    /// Every CPU the process may use.
    all: CpuSet,
    /// The CPUs set aside for the workers.
    workers: CpuSet,
    /// `all` minus the workers' CPUs.
    others: CpuSet,
    /// How many CPUs the workers have.
    reserved: usize,
    /// Whether mode changes move this process's own threads too (not in tests, which share
    /// their process with other tests).
    moves_self: bool,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    /// Runtime process ids by registration number.
    placed: HashMap<u64, u32>,
    next_key: u64,
}

/// A runtime's registration: while it lives, placement changes move the runtime's threads.
/// Drop it when the process is gone.
#[derive(Debug)]
pub struct Placed {
    placement: Arc<CpuPlacement>,
    key: u64,
}

impl Drop for Placed {
    fn drop(&mut self) {
        self.placement.lock().placed.remove(&self.key);
    }
}

/// The CPUs in `set`, in ascending order.
pub(crate) fn cpus_of(set: &CpuSet) -> Vec<usize> {
    (0..CpuSet::count())
        .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
        .collect()
}

fn set_of(cpus: &[usize]) -> CpuSet {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        // Every index came from a CpuSet, so it is in range.
        let _ = set.set(cpu);
    }
    set
}

impl CpuPlacement {
    /// Splits `allowed` into the last `workers` CPUs, for the workers, and the rest, for the
    /// runtimes. `None` when that would leave the runtimes no CPU.
    #[must_use]
    pub fn split(allowed: &[usize], workers: usize) -> Option<(Vec<usize>, Vec<usize>)> {
        if workers == 0 || allowed.len() <= workers {
            return None;
        }
        let (others, reserved) = allowed.split_at(allowed.len() - workers);
        Some((reserved.to_vec(), others.to_vec()))
    }

    /// Sets the last CPUs aside for `workers` worker threads. Everything starts shared;
    /// [`CpuPlacement::adapt`] moves Portico's threads and the runtimes. `None` when the
    /// process may not use more CPUs than it has workers, or may not set CPU affinity.
    #[must_use]
    pub fn reserve(workers: usize) -> Option<Arc<Self>> {
        let all = sched_getaffinity(Pid::from_raw(0)).ok()?;
        let (reserved, others) = Self::split(&cpus_of(&all), workers)?;
        // Asks for what the thread already has: only tells whether the kernel lets us.
        if let Err(error) = sched_setaffinity(Pid::from_raw(0), &all) {
            tracing::warn!(%error, "cannot set CPU affinity; runtimes run wherever the kernel puts them");
            return None;
        }
        tracing::info!(
            workers = ?reserved,
            runtimes = ?others,
            "while the workers are busy they keep these CPUs and runtimes use the others"
        );
        Some(Self::new(all, &reserved, &others, true))
    }

    /// A placement over `all` with the given split.
    pub(crate) fn new(
        all: CpuSet,
        reserved: &[usize],
        others: &[usize],
        moves_self: bool,
    ) -> Arc<Self> {
        Arc::new(Self {
            all,
            workers: set_of(reserved),
            others: set_of(others),
            reserved: reserved.len(),
            moves_self,
            state: Mutex::new(State {
                mode: Mode::Shared,
                placed: HashMap::new(),
                next_key: 0,
            }),
        })
    }

    /// For tests: the split [`CpuPlacement::reserve`] would make, leaving the threads of the
    /// test process (which other tests share) where they are.
    #[cfg(test)]
    pub(crate) fn unpinned(workers: usize) -> Option<Arc<Self>> {
        let all = sched_getaffinity(Pid::from_raw(0)).ok()?;
        let (reserved, others) = Self::split(&cpus_of(&all), workers)?;
        Some(Self::new(all, &reserved, &others, false))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is a mode and a map, consistent after any panic mid-update.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cpus_for(&self, mode: Mode) -> CpuSet {
        match mode {
            Mode::Confined => self.others,
            Mode::Shared => self.all,
        }
    }

    /// The current mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.lock().mode
    }

    /// The CPUs a runtime starting now gets.
    #[must_use]
    pub fn runtime_cpus(&self) -> CpuSet {
        self.cpus_for(self.lock().mode)
    }

    /// Registers a started runtime that was given `given`; if the mode changed since, moves it.
    pub fn register(self: &Arc<Self>, pid: u32, given: &CpuSet) -> Placed {
        let mut state = self.lock();
        let now = self.cpus_for(state.mode);
        if now != *given {
            move_process(pid, &now);
        }
        let key = state.next_key;
        state.next_key += 1;
        state.placed.insert(key, pid);
        Placed {
            placement: Arc::clone(self),
            key,
        }
    }

    /// Sets the mode, moving Portico's threads and the registered runtimes when it changes.
    pub fn set_mode(&self, mode: Mode) {
        let mut state = self.lock();
        if state.mode == mode {
            return;
        }
        state.mode = mode;
        if self.moves_self {
            let own = match mode {
                Mode::Confined => &self.workers,
                Mode::Shared => &self.all,
            };
            move_process(std::process::id(), own);
        }
        let cpus = self.cpus_for(mode);
        for &pid in state.placed.values() {
            move_process(pid, &cpus);
        }
        tracing::debug!(
            ?mode,
            runtimes = state.placed.len(),
            "runtime placement changed"
        );
    }

    /// Samples the process's CPU time every [`SAMPLE_PERIOD`] and sets the mode from the share
    /// of the reserved CPUs' time it used. Runs until the task is dropped.
    pub async fn adapt(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(SAMPLE_PERIOD);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; a window of microseconds would say nothing.
        ticks.tick().await;
        let mut last = (std::time::Instant::now(), process_cpu_time());
        loop {
            ticks.tick().await;
            let now = (std::time::Instant::now(), process_cpu_time());
            let wall = now.0.duration_since(last.0).as_secs_f64() * self.reserved as f64;
            let used = now.1.saturating_sub(last.1).as_secs_f64();
            last = now;
            if wall > 0.0 {
                self.set_mode(self.mode().next(used / wall));
            }
        }
    }
}

/// User plus system time of the whole process (its workers, and helper threads that mostly
/// sleep).
fn process_cpu_time() -> Duration {
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |usage| {
        let micros = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(u64::try_from(t.tv_sec()).unwrap_or(0))
                + Duration::from_micros(u64::try_from(t.tv_usec()).unwrap_or(0))
        };
        micros(usage.user_time()) + micros(usage.system_time())
    })
}

/// Gives every thread of `pid` the CPUs `cpus`. A process that has exited, or a thread that
/// ends meanwhile, is skipped: placement is an optimisation, never a failure.
fn move_process(pid: u32, cpus: &CpuSet) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return;
    };
    for task in tasks.flatten() {
        if let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<i32>().ok())
        {
            let _ = sched_setaffinity(Pid::from_raw(tid), cpus);
        }
    }
}

/// Gives the calling process `cpus`. For the forked child, before exec: one system call, no
/// allocation.
pub(crate) fn place_self(cpus: &CpuSet) -> nix::Result<()> {
    sched_setaffinity(Pid::from_raw(0), cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_take_the_last_cpus_and_runtimes_the_rest() {
        assert_eq!(CpuPlacement::split(&[0, 1], 1), Some((vec![1], vec![0])));
        assert_eq!(
            CpuPlacement::split(&[0, 1, 2, 3, 4, 5, 6, 7], 2),
            Some((vec![6, 7], vec![0, 1, 2, 3, 4, 5]))
        );
        // A process started on a subset (taskset) splits that subset.
        assert_eq!(
            CpuPlacement::split(&[2, 5, 7], 1),
            Some((vec![7], vec![2, 5]))
        );
    }

    #[test]
    fn no_split_when_runtimes_would_have_no_cpu() {
        assert_eq!(CpuPlacement::split(&[0], 1), None);
        assert_eq!(CpuPlacement::split(&[0, 1], 2), None);
        assert_eq!(CpuPlacement::split(&[0, 1], 3), None);
        assert_eq!(CpuPlacement::split(&[0, 1], 0), None);
    }

    #[test]
    fn busy_workers_confine_idle_ones_share_and_between_the_mode_stays() {
        assert_eq!(Mode::Shared.next(0.5), Mode::Confined);
        assert_eq!(Mode::Shared.next(0.9), Mode::Confined);
        assert_eq!(Mode::Confined.next(0.2), Mode::Shared);
        assert_eq!(Mode::Confined.next(0.0), Mode::Shared);
        assert_eq!(Mode::Shared.next(0.35), Mode::Shared);
        assert_eq!(Mode::Confined.next(0.35), Mode::Confined);
        assert_eq!(Mode::Confined.next(0.49), Mode::Confined);
        assert_eq!(Mode::Shared.next(0.21), Mode::Shared);
    }

    /// The CPUs each thread of `pid` may use.
    fn thread_cpus(pid: u32) -> Vec<Vec<usize>> {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .flatten()
            .filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok())
            .filter_map(|tid| sched_getaffinity(Pid::from_raw(tid)).ok())
            .map(|set| cpus_of(&set))
            .collect()
    }

    #[tokio::test]
    async fn runtimes_start_where_the_mode_says_and_every_thread_moves_with_it() {
        let Some(placement) = CpuPlacement::unpinned(1) else {
            eprintln!("a single CPU: nothing to split");
            return;
        };
        let all = cpus_of(&placement.all);
        let others = cpus_of(&placement.others);
        assert_eq!(others.len(), all.len() - 1);

        // Started while shared, registered after the mode changed: moved at registration.
        let given = placement.runtime_cpus();
        assert_eq!(cpus_of(&given), all);
        // Node.js runs several threads (V8's platform workers) from its first instant.
        let mut cmd = tokio::process::Command::new("node");
        cmd.args(["-e", "setTimeout(() => {}, 30000)"])
            .kill_on_drop(true);
        crate::process::isolate(&mut cmd, None, Some(given));
        let mut child = crate::process::spawn(cmd).await.unwrap();
        let pid = child.id().unwrap();
        for _ in 0..200 {
            if thread_cpus(pid).len() >= 4 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let threads = thread_cpus(pid).len();
        assert!(threads >= 4, "node runs {threads} threads");
        assert!(thread_cpus(pid).iter().all(|cpus| *cpus == all));

        placement.set_mode(Mode::Confined);
        let placed = placement.register(pid, &given);
        assert_eq!(thread_cpus(pid), vec![others.clone(); threads]);

        placement.set_mode(Mode::Shared);
        assert_eq!(thread_cpus(pid), vec![all.clone(); threads]);
        placement.set_mode(Mode::Confined);
        assert_eq!(thread_cpus(pid), vec![others.clone(); threads]);

        // Gone from the registry with its guard: later changes leave the process alone.
        drop(placed);
        assert!(placement.lock().placed.is_empty());
        placement.set_mode(Mode::Shared);
        assert_eq!(thread_cpus(pid), vec![others.clone(); threads]);

        // A runtime started while confined starts on the others.
        placement.set_mode(Mode::Confined);
        let mut cmd = tokio::process::Command::new("sleep");
        cmd.arg("30").kill_on_drop(true);
        crate::process::isolate(&mut cmd, None, Some(placement.runtime_cpus()));
        let mut second = crate::process::spawn(cmd).await.unwrap();
        assert_eq!(thread_cpus(second.id().unwrap()), vec![others.clone()]);

        child.kill().await.unwrap();
        second.kill().await.unwrap();
    }
}
