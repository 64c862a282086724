//! Process-group plumbing: every runtime runs in its own group, dies with the server, and is
//! killed as a group so helpers it forked (a shell bootstrap's `curl`) go with it.

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use nix::errno::Errno;
use nix::sched::CpuSet;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::unix::AsyncFd;

/// Puts the child in a new process group, arranges for the kernel to SIGKILL it when the
/// server dies (even by `kill -9`), and, when `cgroup_procs` is given, moves it into that
/// cgroup before exec so no instruction of user code runs outside the memory limit, and gives
/// it the CPUs `cpus` ([`crate::placement`]). Spawn such a command with [`spawn`].
#[allow(unsafe_code)]
pub(crate) fn isolate(
    cmd: &mut tokio::process::Command,
    cgroup_procs: Option<CString>,
    cpus: Option<CpuSet>,
) {
    let parent = std::process::id();
    cmd.process_group(0);
    // SAFETY: the closure runs in the forked child before exec. It calls only prctl(2),
    // getppid(2), open(2), write(2), close(2) and sched_setaffinity(2), which are
    // async-signal-safe, on a path and a CPU set built before the fork, and builds its errors
    // from raw errno values, so it never allocates or takes a lock that another parent thread
    // might have held at fork time.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Some(Signal::SIGKILL))?;
            // The parent may have died between fork and prctl; then nobody would kill us.
            if u32::try_from(nix::unistd::getppid().as_raw()).ok() != Some(parent) {
                return Err(Errno::ESRCH.into());
            }
            if let Some(procs) = &cgroup_procs {
                crate::cgroup::join_in_child(procs)?;
            }
            if let Some(cpus) = &cpus {
                // Placement is an optimisation: a refusal leaves the CPUs it inherited.
                let _ = crate::placement::place_self(cpus);
            }
            Ok(())
        });
    }
}

/// Tells whether a runtime has exited without a system call per question: a pidfd (Linux 5.3+)
/// registered with the reactor turns readable when its process ends. Polling `Child::wait`
/// instead costs a `wait4` every time, once or twice per invocation. Where pidfds are not
/// available it falls back to asking the kernel.
#[derive(Debug)]
pub(crate) struct ExitWatch {
    pidfd: Option<AsyncFd<OwnedFd>>,
}

impl ExitWatch {
    #[allow(unsafe_code)]
    pub(crate) fn new(pid: Option<u32>) -> Self {
        let pidfd = pid
            .and_then(|pid| i32::try_from(pid).ok())
            .and_then(rustix::process::Pid::from_raw)
            .and_then(|pid| {
                rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
            })
            .and_then(|fd| {
                // SAFETY: an `OwnedFd` is open until dropped and always names the same
                // descriptor, and the `AsyncFd` owns it for its whole life.
                unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }.ok()
            });
        Self { pidfd }
    }

    /// Whether `child` is known to have exited. With a pidfd this reads the readiness the
    /// reactor last saw, so an exit in the last instant may be reported only by [`Self::exited`].
    pub(crate) fn has_exited(&self, child: &mut tokio::process::Child) -> bool {
        match &self.pidfd {
            Some(fd) => {
                let mut cx = Context::from_waker(Waker::noop());
                match fd.poll_read_ready(&mut cx) {
                    Poll::Ready(Ok(_)) => true,
                    Poll::Pending => false,
                    Poll::Ready(Err(_)) => matches!(child.try_wait(), Ok(Some(_))),
                }
            }
            None => matches!(child.try_wait(), Ok(Some(_))),
        }
    }

    /// Resolves when `child` exits, with its status (reaping it). Cancel-safe.
    pub(crate) async fn exited(&self, child: &mut tokio::process::Child) -> io::Result<ExitStatus> {
        if let Some(fd) = &self.pidfd {
            // An error here only means the reactor cannot watch it: `wait` still answers.
            let _ = fd.readable().await;
        }
        child.wait().await
    }
}

struct Job {
    cmd: tokio::process::Command,
    handle: tokio::runtime::Handle,
    reply: tokio::sync::oneshot::Sender<io::Result<tokio::process::Child>>,
}

/// The one thread that forks runtimes. It never exits, because `PR_SET_PDEATHSIG` fires when
/// the *thread* that forked a child exits, not only its process: forking from a tokio worker
/// would tie the runtime's life to that worker (which `block_in_place` can retire).
static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();

fn spawner() -> Option<&'static mpsc::Sender<Job>> {
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let started = std::thread::Builder::new()
                .name("portico-spawner".to_owned())
                .spawn(move || {
                    // The sender lives in a static, so this loop only ends with the process.
                    for mut job in rx {
                        // Register the child with the caller's runtime (reaping, pipes).
                        let _guard = job.handle.enter();
                        let _ = job.reply.send(job.cmd.spawn());
                    }
                });
            started.ok().map(|_| tx)
        })
        .as_ref()
}

/// Spawns an [`isolate`]d command from the long-lived spawner thread; must be called inside a
/// tokio runtime. Falls back to the calling thread if the spawner thread could not be created.
pub(crate) async fn spawn(mut cmd: tokio::process::Command) -> io::Result<tokio::process::Child> {
    let Some(tx) = spawner() else {
        tracing::warn!("no spawner thread; forking runtime from the calling thread");
        return cmd.spawn();
    };
    let (reply, rx) = tokio::sync::oneshot::channel();
    let job = Job {
        cmd,
        handle: tokio::runtime::Handle::current(),
        reply,
    };
    if let Err(mpsc::SendError(job)) = tx.send(job) {
        let mut cmd = job.cmd;
        return cmd.spawn();
    }
    rx.await
        .unwrap_or_else(|_| Err(io::Error::other("spawner thread vanished")))
}

/// Sends `signal` to every process of the group; a group that is already gone is not an error.
pub(crate) fn signal_group(pgid: i32, signal: Signal) {
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) | Err(Errno::ESRCH) => {}
        Err(e) => {
            tracing::warn!(pgid, %signal, error = %e, "signalling runtime process group failed")
        }
    }
}

/// Whether any process of the group is still alive (signal 0 probes without delivering).
#[must_use]
pub fn group_alive(pgid: i32) -> bool {
    killpg(Pid::from_raw(pgid), None::<Signal>).is_ok()
}

/// Renders an exit status the way Lambda (a Go program) prints it: `exit status 1`,
/// `signal: killed`, `signal: segmentation fault (core dumped)`.
pub(crate) fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    let Some(sig) = status.signal() else {
        return "exit status unknown".to_owned();
    };
    let name = match sig {
        1 => "hangup".to_owned(),
        2 => "interrupt".to_owned(),
        3 => "quit".to_owned(),
        4 => "illegal instruction".to_owned(),
        5 => "trace/breakpoint trap".to_owned(),
        6 => "aborted".to_owned(),
        7 => "bus error".to_owned(),
        8 => "floating point exception".to_owned(),
        9 => "killed".to_owned(),
        10 => "user defined signal 1".to_owned(),
        11 => "segmentation fault".to_owned(),
        12 => "user defined signal 2".to_owned(),
        13 => "broken pipe".to_owned(),
        14 => "alarm clock".to_owned(),
        15 => "terminated".to_owned(),
        n => format!("signal {n}"),
    };
    if status.core_dumped() {
        format!("signal: {name} (core dumped)")
    } else {
        format!("signal: {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

    #[test]
    fn exit_statuses_render_like_go() {
        assert_eq!(describe_exit(ExitStatus::from_raw(1 << 8)), "exit status 1");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(129 << 8)),
            "exit status 129"
        );
        assert_eq!(describe_exit(ExitStatus::from_raw(9)), "signal: killed");
        assert_eq!(
            describe_exit(ExitStatus::from_raw(11 | 0x80)),
            "signal: segmentation fault (core dumped)"
        );
    }

    #[tokio::test]
    async fn exit_watch_sees_a_running_child_then_its_exit() {
        let mut child = tokio::process::Command::new("sleep")
            .arg("30")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let watch = ExitWatch::new(child.id());
        assert!(watch.pidfd.is_some(), "this kernel has pidfds");
        assert!(!watch.has_exited(&mut child));
        // Still running: waiting on it does not finish.
        let waited =
            tokio::time::timeout(Duration::from_millis(50), watch.exited(&mut child)).await;
        assert!(waited.is_err());
        nix::sys::signal::kill(
            Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap()),
            Signal::SIGKILL,
        )
        .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(5), watch.exited(&mut child))
            .await
            .expect("the exit is seen")
            .unwrap();
        assert_eq!(describe_exit(status), "signal: killed");
        assert!(watch.has_exited(&mut child));
    }

    #[tokio::test]
    async fn exit_watch_without_a_pid_asks_the_child() {
        let mut child = tokio::process::Command::new("true").spawn().unwrap();
        let watch = ExitWatch::new(None);
        assert!(watch.pidfd.is_none());
        assert!(watch.exited(&mut child).await.unwrap().success());
        assert!(watch.has_exited(&mut child));
    }

    #[tokio::test]
    async fn isolated_children_join_their_cgroup_before_exec() {
        let dir =
            std::env::temp_dir().join(format!("portico-join-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        // A stand-in for `cgroup.procs`: the child writes "0" (itself) into it.
        let procs = dir.join("cgroup.procs");
        std::fs::write(&procs, "").unwrap();
        let mut cmd = tokio::process::Command::new("true");
        isolate(
            &mut cmd,
            Some(CString::new(procs.to_str().unwrap()).unwrap()),
            None,
        );
        let status = spawn(cmd).await.unwrap().wait().await.unwrap();
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(&procs).unwrap(), "0");
        // A cgroup that cannot be joined fails the spawn instead of running unconfined.
        let mut cmd = tokio::process::Command::new("true");
        let missing = dir.join("gone/cgroup.procs");
        isolate(
            &mut cmd,
            Some(CString::new(missing.to_str().unwrap()).unwrap()),
            None,
        );
        assert_eq!(
            spawn(cmd).await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
