//! Memory limits through cgroup v2, when the machine delegates the memory controller to us.
//!
//! At first use, [`memory_mode`] looks at Portico's own cgroup (the `0::` line of
//! `/proc/self/cgroup`, under the cgroup2 mount found in `/proc/self/mountinfo`):
//!
//! - if the memory controller is already enabled for its children (`cgroup.subtree_control`),
//!   environments get child cgroups right there;
//! - else, if the memory controller is available (`cgroup.controllers`) and the directory is
//!   writable, the server moves itself into a leaf `portico-server` (cgroup v2 forbids enabling a
//!   controller for the children of a cgroup that holds processes) and enables `+memory`;
//! - otherwise limits are not enforced and `Max Memory Used` stays a measurement (`/proc`).
//!
//! Each environment then gets `portico-env-{uuid}` with `memory.max` = the function's
//! `MemorySize`, `memory.swap.max` = 0 and `memory.oom.group` = 1; the runtime joins it between
//! fork and exec, so no instruction of user code runs outside it. A kill by the kernel's OOM
//! killer shows in `memory.events` (`oom_kill`), which turns the runtime's exit into
//! `Runtime.OutOfMemory`.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How memory is bounded on this machine; decided once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryMode {
    /// `memory.max` is enforced: environments get child cgroups of this directory.
    Cgroup(PathBuf),
    /// No delegated memory controller: memory is only measured, for the stated reason.
    Measured(String),
}

static MODE: OnceLock<MemoryMode> = OnceLock::new();

/// The memory mode of this process, detected (and logged at info) on first call.
pub fn memory_mode() -> &'static MemoryMode {
    MODE.get_or_init(|| {
        let mode = detect_system();
        match &mode {
            MemoryMode::Cgroup(dir) => tracing::info!(
                cgroup = %dir.display(),
                "function memory capped with cgroup v2 (memory.max = MemorySize)"
            ),
            MemoryMode::Measured(reason) => tracing::info!(
                reason = %reason,
                "function memory not capped (no delegated cgroup v2 memory controller); Max Memory Used is measured"
            ),
        }
        mode
    })
}

fn detect_system() -> MemoryMode {
    let cgroup = match std::fs::read_to_string("/proc/self/cgroup") {
        Ok(s) => s,
        Err(e) => return MemoryMode::Measured(format!("cannot read /proc/self/cgroup: {e}")),
    };
    let mount = std::fs::read_to_string("/proc/self/mountinfo")
        .ok()
        .and_then(|m| cgroup2_mount(&m))
        .unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup"));
    match prepare(&cgroup, &mount, std::process::id()) {
        Ok(dir) => MemoryMode::Cgroup(dir),
        Err(reason) => MemoryMode::Measured(reason),
    }
}

/// The mount point of the cgroup2 filesystem in a `/proc/self/mountinfo` text.
pub(crate) fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        // `id parent major:minor root mount-point options... - fstype source super-options`
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
    })
}

/// The process's cgroup v2 path (the `0::/path` line), relative to the cgroup2 mount.
pub(crate) fn own_cgroup(proc_self_cgroup: &str) -> Option<&str> {
    proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.trim().trim_start_matches('/'))
}

fn has_word(path: &Path, word: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.split_whitespace().any(|w| w == word))
}

/// Finds (or makes) a cgroup whose children get the memory controller. `mount` is the cgroup2
/// mount; `pid` is the process moved into a leaf when the controller must be enabled.
pub(crate) fn prepare(proc_self_cgroup: &str, mount: &Path, pid: u32) -> Result<PathBuf, String> {
    let rel = own_cgroup(proc_self_cgroup)
        .ok_or_else(|| "the process is in no cgroup v2 hierarchy".to_owned())?;
    // `join("")` would add a trailing slash to the path we log.
    let own = if rel.is_empty() {
        mount.to_path_buf()
    } else {
        mount.join(rel)
    };
    if !own.join("cgroup.controllers").is_file() {
        return Err(format!("{} is not a cgroup v2 directory", own.display()));
    }
    if has_word(&own.join("cgroup.subtree_control"), "memory") {
        return Ok(own);
    }
    if !has_word(&own.join("cgroup.controllers"), "memory") {
        return Err(format!(
            "the memory controller is not delegated to {}",
            own.display()
        ));
    }
    // Children can only get a controller if this cgroup holds no process: move into a leaf.
    let leaf = own.join("portico-server");
    let step = |what: &str, r: io::Result<()>| {
        r.map_err(|e| format!("cannot {what} under {}: {e}", own.display()))
    };
    step("create portico-server", ensure_dir(&leaf))?;
    step(
        "move the server into portico-server",
        std::fs::write(leaf.join("cgroup.procs"), pid.to_string()),
    )?;
    step(
        "enable the memory controller",
        std::fs::write(own.join("cgroup.subtree_control"), "+memory"),
    )?;
    Ok(own)
}

fn ensure_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
        _ => Ok(()),
    }
}

/// One environment's cgroup; removed on drop (once its processes are gone).
#[derive(Debug)]
pub(crate) struct EnvCgroup {
    dir: PathBuf,
    /// `{dir}/cgroup.procs`, prepared before fork so the child allocates nothing.
    procs: CString,
}

impl EnvCgroup {
    /// Creates `portico-env-{uuid}` under `parent` capped at `memory_mb` MB, without swap.
    pub(crate) fn create(parent: &Path, memory_mb: u32) -> io::Result<Self> {
        let dir = parent.join(format!("portico-env-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir)?;
        let cg = Self::at(dir)?;
        // Dropping `cg` on failure removes the directory again.
        cg.limit(memory_mb)?;
        Ok(cg)
    }

    fn at(dir: PathBuf) -> io::Result<Self> {
        let procs = CString::new(
            dir.join("cgroup.procs")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .map_err(io::Error::other)?;
        Ok(Self { dir, procs })
    }

    /// Writes the limits into the kernel's files (opened without O_CREAT: cgroupfs files exist
    /// or the controller is missing).
    fn limit(&self, memory_mb: u32) -> io::Result<()> {
        let put = |name: &str, value: &str| -> io::Result<()> {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .write(true)
                .open(self.dir.join(name))?
                .write_all(value.as_bytes())
        };
        let bytes = u64::from(memory_mb) * 1024 * 1024;
        put("memory.max", &bytes.to_string())?;
        // Absent when the kernel has no swap accounting; then there is no swap to forbid.
        optional(put("memory.swap.max", "0"))?;
        // One OOM kill takes the whole environment down, as in Lambda, instead of leaving a
        // shell bootstrap alive without the child that held the memory (kernels 4.19+).
        optional(put("memory.oom.group", "1"))
    }

    /// The `cgroup.procs` path for the child to join between fork and exec.
    pub(crate) fn procs_path(&self) -> &std::ffi::CStr {
        &self.procs
    }

    /// Whether the kernel's OOM killer killed a process of this cgroup.
    pub(crate) fn oom_killed(&self) -> bool {
        std::fs::read_to_string(self.dir.join("memory.events")).is_ok_and(|s| oom_kills(&s) > 0)
    }

    /// Peak memory of the environment in bytes (`memory.peak`, kernels 5.19+).
    pub(crate) fn peak_bytes(&self) -> Option<u64> {
        std::fs::read_to_string(self.dir.join("memory.peak"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }
}

impl Drop for EnvCgroup {
    fn drop(&mut self) {
        // The group was SIGKILLed before; its members may take a moment to leave the cgroup.
        for _ in 0..20 {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        tracing::debug!(cgroup = %self.dir.display(), "environment cgroup still busy; left behind");
    }
}

/// A write to a control file the kernel may not have.
fn optional(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The `oom_kill` counter of a `memory.events` text.
pub(crate) fn oom_kills(memory_events: &str) -> u64 {
    memory_events
        .lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes "0" (the calling process) into `procs`. Runs in the forked child before exec: only
/// open(2), write(2) and close(2) on a path built before the fork, so no allocation, no lock.
pub(crate) fn join_in_child(procs: &std::ffi::CStr) -> io::Result<()> {
    use nix::fcntl::{OFlag, open};
    use nix::sys::stat::Mode;
    let fd = open(procs, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    nix::unistd::write(&fd, b"0")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Root(PathBuf);

    impl Root {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "portico-cgroup-{tag}-{}",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::create_dir_all(dir.join("user.slice/portico")).unwrap();
            Self(dir)
        }
        fn write(&self, rel: &str, text: &str) {
            std::fs::write(self.0.join(rel), text).unwrap();
        }
        fn read(&self, rel: &str) -> String {
            std::fs::read_to_string(self.0.join(rel)).unwrap()
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const SELF_V2: &str = "0::/user.slice/portico\n";

    #[test]
    fn parses_the_v2_line_and_the_cgroup2_mount() {
        assert_eq!(
            own_cgroup("12:memory:/x\n0::/user.slice/portico\n"),
            Some("user.slice/portico")
        );
        assert_eq!(own_cgroup("0::/\n"), Some(""));
        assert_eq!(own_cgroup("4:memory:/docker/abc\n1:cpu:/\n"), None);
        let mountinfo = "24 1 0:21 / /proc rw - proc proc rw\n\
            30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n";
        assert_eq!(
            cgroup2_mount(mountinfo),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(cgroup2_mount("24 1 0:21 / /proc rw - proc proc rw\n"), None);
    }

    #[test]
    fn v1_only_and_undelegated_hierarchies_fall_back_to_measuring() {
        let root = Root::new("v1");
        assert_eq!(
            prepare("4:memory:/x\n", &root.0, 1),
            Err("the process is in no cgroup v2 hierarchy".to_owned())
        );
        // A directory that is not a cgroup v2 one (no cgroup.controllers).
        let own = root.0.join("user.slice/portico");
        assert_eq!(
            prepare(SELF_V2, &root.0, 1),
            Err(format!("{} is not a cgroup v2 directory", own.display()))
        );
        root.write("user.slice/portico/cgroup.controllers", "cpu io pids\n");
        root.write("user.slice/portico/cgroup.subtree_control", "");
        assert_eq!(
            prepare(SELF_V2, &root.0, 1),
            Err(format!(
                "the memory controller is not delegated to {}",
                own.display()
            ))
        );
    }

    #[test]
    fn an_enabled_subtree_is_used_as_is() {
        let root = Root::new("enabled");
        root.write("user.slice/portico/cgroup.controllers", "cpu memory pids\n");
        root.write("user.slice/portico/cgroup.subtree_control", "memory pids\n");
        assert_eq!(
            prepare(SELF_V2, &root.0, 42),
            Ok(root.0.join("user.slice/portico"))
        );
        assert!(!root.0.join("user.slice/portico/portico-server").exists());
    }

    #[test]
    fn an_available_controller_is_enabled_after_moving_into_a_leaf() {
        let root = Root::new("delegated");
        root.write("user.slice/portico/cgroup.controllers", "cpu memory\n");
        root.write("user.slice/portico/cgroup.subtree_control", "");
        assert_eq!(
            prepare(SELF_V2, &root.0, 4242),
            Ok(root.0.join("user.slice/portico"))
        );
        assert_eq!(
            root.read("user.slice/portico/portico-server/cgroup.procs"),
            "4242"
        );
        assert_eq!(
            root.read("user.slice/portico/cgroup.subtree_control"),
            "+memory"
        );
    }

    #[test]
    fn environment_cgroups_carry_the_limit_and_are_removed() {
        let root = Root::new("env");
        // A fake cgroup: the kernel would create these files with the directory.
        let dir = root.0.join("portico-env-test");
        std::fs::create_dir(&dir).unwrap();
        for f in [
            "memory.max",
            "memory.swap.max",
            "memory.oom.group",
            "memory.events",
            "memory.peak",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let cg = EnvCgroup::at(dir.clone()).unwrap();
        cg.limit(256).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("memory.max")).unwrap(),
            "268435456"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("memory.swap.max")).unwrap(),
            "0"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("memory.oom.group")).unwrap(),
            "1"
        );
        assert_eq!(
            cg.procs_path().to_str().unwrap(),
            dir.join("cgroup.procs").to_str().unwrap()
        );
        assert!(!cg.oom_killed());
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        assert!(cg.oom_killed());
        std::fs::write(dir.join("memory.peak"), "1048576\n").unwrap();
        assert_eq!(cg.peak_bytes(), Some(1_048_576));
        // A real cgroup directory holds only kernel files, which rmdir ignores; a fake one must
        // be emptied first.
        for f in [
            "memory.max",
            "memory.swap.max",
            "memory.oom.group",
            "memory.events",
            "memory.peak",
        ] {
            std::fs::remove_file(dir.join(f)).unwrap();
        }
        drop(cg);
        assert!(!dir.exists());
    }

    #[test]
    fn creating_under_a_parent_without_the_controller_fails_and_cleans_up() {
        let root = Root::new("nomem");
        let err = EnvCgroup::create(&root.0, 128).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let left: Vec<_> = std::fs::read_dir(&root.0)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("portico-env-"))
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn oom_kill_counter_is_read_from_memory_events() {
        assert_eq!(oom_kills("oom 2\noom_kill 2\noom_group_kill 0\n"), 2);
        assert_eq!(oom_kills("oom 0\n"), 0);
        assert_eq!(oom_kills(""), 0);
    }
}
