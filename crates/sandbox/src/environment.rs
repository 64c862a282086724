//! One execution environment: a runtime process, its Runtime API listener, its log.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use nix::sys::signal::Signal;
use portico_rapi::{
    DispatchError, FramedChannel, InitEvent, Invocation, InvocationResult, RuntimeApi,
};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::cgroup::{self, EnvCgroup, MemoryMode};
use crate::launcher::{Launcher, RuntimeKind};
use crate::log::{self, InvocationLog, MemoryProbe, OutputPump, Report};
use crate::placement::{CpuPlacement, Placed};
use crate::process::{self, ExitWatch, describe_exit, signal_group};
use crate::{FunctionSpec, InvokeInput, InvokeOutcome, RESPONSE_TOO_LARGE_MESSAGE};

/// How long to wait, after a runtime exited, for what it posted just before exiting.
const POSTED_BEFORE_EXIT: Duration = Duration::from_millis(200);

/// How long a runtime may take from spawn to its first `/next` (Lambda's init phase limit).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`Environment::shutdown`] waits after SIGTERM before SIGKILL.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// Why an environment could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The runtime id is not one this host can run.
    #[error("unsupported runtime {0}")]
    UnsupportedRuntime(String),
    /// The code directory does not exist.
    #[error("code directory {0} does not exist")]
    MissingCode(PathBuf),
    /// A `provided*` package without an executable `bootstrap` file.
    #[error("no bootstrap at {0}")]
    MissingBootstrap(PathBuf),
    /// `node` / `python3` could not be found or run.
    #[error(
        "no interpreter found for runtime {runtime} ({reason}); install one on the PATH or name it with PORTICO_RUNTIMES={runtime}=/path/to/interpreter"
    )]
    Interpreter {
        /// The runtime id.
        runtime: String,
        /// What failed.
        reason: String,
    },
    /// The Runtime API listener could not be bound.
    #[error("cannot bind the runtime API listener: {0}")]
    Listener(std::io::Error),
    /// The process could not be spawned (e.g. a bootstrap that is not executable).
    #[error("fork/exec {program}: {source}")]
    Spawn {
        /// What was executed.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl StartError {
    /// The outcome to answer the invoke that needed this environment with.
    #[must_use]
    pub fn failure(&self, request_id: &str) -> InvokeOutcome {
        let (error_type, reason) = match self {
            Self::MissingBootstrap(path) => (
                "Runtime.InvalidEntrypoint",
                format!(
                    "Couldn't find valid bootstrap(s): [{} /opt/bootstrap]",
                    path.display()
                ),
            ),
            Self::Spawn { program, source } => {
                // Go's wording, e.g. `fork/exec /var/task/bootstrap: permission denied`.
                let os = source.raw_os_error().map_or_else(
                    || source.to_string(),
                    |n| nix::errno::Errno::from_raw(n).desc().to_lowercase(),
                );
                (
                    "Runtime.InvalidEntrypoint",
                    format!("fork/exec {}: {os}", program.display()),
                )
            }
            other => ("Runtime.Unknown", other.to_string()),
        };
        InvokeOutcome::Failed {
            error_type: error_type.to_owned(),
            message: format!("RequestId: {request_id} Error: {reason}"),
            document: None,
        }
    }
}

/// The runtime's channel: the HTTP Runtime API (always bound: `AWS_LAMBDA_RUNTIME_API` is part
/// of the contract) and, for our own bootstraps, the framed channel they actually use.
#[derive(Debug)]
struct Link {
    api: RuntimeApi,
    framed: Option<FramedChannel>,
}

impl Link {
    async fn init_event(&mut self) -> Option<InitEvent> {
        match &mut self.framed {
            Some(f) => f.init_event().await,
            None => self.api.init_event().await,
        }
    }

    fn dispatch(
        &self,
        inv: Invocation,
    ) -> Result<oneshot::Receiver<InvocationResult>, DispatchError> {
        match &self.framed {
            Some(f) => f.dispatch(inv),
            None => self.api.dispatch(inv),
        }
    }
}

/// Why an environment died; rendered per request id.
#[derive(Debug, Clone)]
enum Death {
    Exited(Option<ExitStatus>),
    /// Killed by the kernel's OOM killer inside the environment's cgroup.
    OutOfMemory(ExitStatus),
    TimedOut(Duration),
    InitFailed {
        error_type: String,
        message: String,
        /// The runtime's `/init/error` document, answered verbatim (a JSON object).
        document: Option<Bytes>,
    },
    TooLarge,
    ShutDown,
}

impl Death {
    fn outcome(&self, request_id: &str) -> InvokeOutcome {
        let mut document = None;
        let (error_type, message) = match self {
            Self::Exited(Some(status)) if status.code() == Some(0) => (
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited without providing a reason"),
            ),
            Self::Exited(Some(status)) => (
                "Runtime.ExitError",
                format!(
                    "RequestId: {request_id} Error: Runtime exited with error: {}",
                    describe_exit(*status)
                ),
            ),
            Self::OutOfMemory(status) => (
                "Runtime.OutOfMemory",
                format!(
                    "RequestId: {request_id} Error: Runtime exited with error: {}",
                    describe_exit(*status)
                ),
            ),
            Self::Exited(None) | Self::ShutDown => (
                "Runtime.ExitError",
                format!("RequestId: {request_id} Error: Runtime exited without providing a reason"),
            ),
            Self::TimedOut(after) => (
                "Sandbox.Timedout",
                format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    after.as_secs_f64()
                ),
            ),
            Self::InitFailed {
                error_type,
                message,
                document: doc,
            } => {
                document.clone_from(doc);
                (error_type.as_str(), message.clone())
            }
            Self::TooLarge => (
                "Function.ResponseSizeTooLarge",
                RESPONSE_TOO_LARGE_MESSAGE.to_owned(),
            ),
        };
        InvokeOutcome::Failed {
            error_type: error_type.to_owned(),
            message,
            document,
        }
    }
}

/// How to (re)spawn the runtime: fixed at start, reused when the environment is reset.
#[derive(Debug)]
struct Plan {
    program: PathBuf,
    args: Vec<PathBuf>,
    /// The full environment minus the two per-process entries (Runtime API address, socket).
    env: BTreeMap<String, String>,
    socket_dir: Option<PathBuf>,
    /// Which CPUs runtimes run on, when the workers set some aside.
    placement: Option<Arc<CpuPlacement>>,
}

/// One spawned runtime process and its channel.
#[derive(Debug)]
struct Runtime {
    link: Link,
    child: Child,
    /// Watches `child` for its exit without a system call per invocation.
    exit: ExitWatch,
    /// `None` once the group was killed and its leader reaped.
    pgid: Option<i32>,
    pid: Option<u32>,
    output: OutputPump,
    started: Instant,
    /// The memory-capped cgroup the process runs in, when the machine delegates one. Dropped
    /// (removed) after the process group is killed, with the runtime it belongs to.
    cgroup: Option<EnvCgroup>,
    /// While set, placement changes move this runtime's threads.
    _placed: Option<Placed>,
}

impl Plan {
    async fn spawn(&self, spec: &FunctionSpec) -> Result<Runtime, StartError> {
        let api = RuntimeApi::bind().await.map_err(StartError::Listener)?;
        let framed = match &self.socket_dir {
            Some(dir) => {
                let path = dir.join(format!("{}.sock", uuid::Uuid::new_v4().simple()));
                Some(FramedChannel::bind(&path).map_err(StartError::Listener)?)
            }
            None => None,
        };
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .current_dir(&spec.code_dir)
            .env_clear()
            .envs(&self.env)
            .env("AWS_LAMBDA_RUNTIME_API", api.runtime_api_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(f) = &framed {
            // Our bootstrap reads and removes it before user code loads.
            cmd.env("_PORTICO_RUNTIME_SOCKET", f.path());
        }
        let cgroup = match cgroup::memory_mode() {
            MemoryMode::Cgroup(parent) => match EnvCgroup::create(parent, spec.memory_mb) {
                Ok(cg) => Some(cg),
                Err(error) => {
                    tracing::warn!(function = %spec.function_name, %error, "cannot create the environment's cgroup; memory not capped");
                    None
                }
            },
            MemoryMode::Measured(_) => None,
        };
        let cpus = self.placement.as_ref().map(|p| p.runtime_cpus());
        process::isolate(
            &mut cmd,
            cgroup.as_ref().map(|c| c.procs_path().to_owned()),
            cpus,
        );
        let started = Instant::now();
        let mut child = process::spawn(cmd)
            .await
            .map_err(|source| StartError::Spawn {
                program: self.program.clone(),
                source,
            })?;
        let pid = child.id();
        let placed = match (&self.placement, pid, cpus) {
            (Some(placement), Some(pid), Some(cpus)) => Some(placement.register(pid, &cpus)),
            _ => None,
        };
        let output = OutputPump::new(
            child.stdout.take(),
            child.stderr.take(),
            spec.function_name.clone(),
        );
        tracing::debug!(function = %spec.function_name, pid, runtime_api = %api.addr(), framed = framed.is_some(), "runtime started");
        Ok(Runtime {
            link: Link { api, framed },
            child,
            exit: ExitWatch::new(pid),
            pgid: pid.and_then(|p| i32::try_from(p).ok()),
            pid,
            output,
            started,
            cgroup,
            _placed: placed,
        })
    }
}

/// One execution environment: one runtime process in its own process group, speaking the
/// Runtime API to its own listener. One invocation at a time (`&mut self`); warm between
/// invocations. A runtime that exits between invocations is reset (respawned, cold) by the next
/// one, as Lambda does. Dropping the environment SIGKILLs the process group.
#[derive(Debug)]
pub struct Environment {
    spec: Arc<FunctionSpec>,
    plan: Plan,
    rt: Runtime,
    log: InvocationLog,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`: where this environment's output goes in CloudWatch Logs.
    log_stream: String,
    init_duration: Option<Duration>,
    /// Reported once, on the first invocation after a cold start.
    init_reported: bool,
    dead: Option<Death>,
    /// Reads the runtime's peak memory for `REPORT` lines.
    memory: MemoryProbe,
}

impl Environment {
    /// Binds the Runtime API listener and spawns the runtime process. Returns as soon as the
    /// process runs; its init completes in the background and the first [`invoke`] waits for it.
    ///
    /// [`invoke`]: Environment::invoke
    ///
    /// # Errors
    /// [`StartError`]; [`StartError::failure`] turns it into the invoke's answer.
    pub async fn start(spec: Arc<FunctionSpec>, launcher: &Launcher) -> Result<Self, StartError> {
        let kind = RuntimeKind::of(&spec.runtime)
            .ok_or_else(|| StartError::UnsupportedRuntime(spec.runtime.clone()))?;
        if !spec.code_dir.is_dir() {
            return Err(StartError::MissingCode(spec.code_dir.clone()));
        }
        let (program, args) =
            launcher
                .command_for(kind, &spec)
                .await
                .map_err(|reason| StartError::Interpreter {
                    runtime: spec.runtime.clone(),
                    reason,
                })?;
        if kind == RuntimeKind::Provided && !program.is_file() {
            return Err(StartError::MissingBootstrap(program));
        }
        let stream = format!(
            "{}/[{}]{}",
            log::utc_date_path(SystemTime::now()),
            spec.version,
            uuid::Uuid::new_v4().simple()
        );
        let plan = Plan {
            program,
            args,
            // The Runtime API address is per process, set at spawn.
            env: launcher.environment(&spec, kind, "", &stream),
            socket_dir: launcher.framed_socket_dir(kind),
            placement: launcher.placement().cloned(),
        };
        let rt = plan.spawn(&spec).await?;
        Ok(Self {
            spec,
            plan,
            rt,
            log: InvocationLog::default(),
            log_stream: stream,
            init_duration: None,
            init_reported: false,
            dead: None,
            memory: MemoryProbe::default(),
        })
    }

    /// Runs one invocation: waits for init on a cold start, hands the event to the runtime's
    /// `/next`, and waits for `/response`, `/error`, process exit, or the function's timeout.
    ///
    /// After an [`InvokeOutcome::Failed`] the process group is already killed and the
    /// environment must be discarded; invoking it again fails the same way.
    pub async fn invoke(&mut self, input: InvokeInput) -> InvokeOutcome {
        let id = input.request_id.clone();
        self.log.clear();
        if let Some(death) = &self.dead {
            return death.outcome(&id);
        }
        if self.init_duration.is_some() && self.rt.exit.has_exited(&mut self.rt.child) {
            // The runtime exited between invocations (Node.js does after an uncaught
            // exception): reset the environment as Lambda does, at the price of a cold start.
            if let Err(e) = self.reset().await {
                self.dead = Some(Death::Exited(None));
                return e.failure(&id);
            }
        }
        if self.init_duration.is_none()
            && let Err(death) = self.await_init().await
        {
            return self.die(&id, death, None).await;
        }
        self.log.push(format!(
            "START RequestId: {id} Version: {}",
            self.spec.version
        ));
        let timeout = self.spec.timeout;
        let began = Instant::now();
        let deadline = tokio::time::Instant::from_std(began + timeout);
        let invocation = Invocation {
            request_id: id.clone(),
            payload: input.payload,
            deadline_ms: epoch_ms(SystemTime::now() + timeout),
            invoked_function_arn: input
                .invoked_function_arn
                .unwrap_or_else(|| self.spec.function_arn.clone()),
            trace_id: input.trace_id.unwrap_or_else(new_trace_id),
            client_context: input.client_context.map(client_context_json),
            cognito_identity: input.cognito_identity,
        };
        let mut reply = match self.rt.link.dispatch(invocation) {
            Ok(rx) => rx,
            Err(e) => {
                tracing::warn!(function = %self.spec.function_name, error = %e, "dispatch failed");
                return self.die(&id, Death::Exited(None), Some(began)).await;
            }
        };
        let result = loop {
            tokio::select! {
                biased;
                r = &mut reply => break Ok(r),
                status = self.rt.exit.exited(&mut self.rt.child) => {
                    // The answer may have been posted just before the exit; the channel's
                    // task may not have read it yet, so give it a moment (the socket is
                    // closed now, so it ends at once either way).
                    match tokio::time::timeout(POSTED_BEFORE_EXIT, &mut reply).await {
                        Ok(Ok(r)) => break Ok(Ok(r)),
                        _ => break Err(Death::Exited(status.ok())),
                    }
                }
                () = tokio::time::sleep_until(deadline) => break Err(Death::TimedOut(timeout)),
                () = self.rt.output.pump(&mut self.log) => {}
            }
        };
        let outcome = match result {
            Ok(Ok(InvocationResult::Response(body))) => InvokeOutcome::Response(body),
            Ok(Ok(InvocationResult::Error { body, .. })) => {
                InvokeOutcome::FunctionError { payload: body }
            }
            Ok(Ok(InvocationResult::ResponseTooLarge)) => {
                return self.die(&id, Death::TooLarge, Some(began)).await;
            }
            Ok(Err(_)) => {
                let status = self.exit_status_soon().await;
                return self.die(&id, Death::Exited(status), Some(began)).await;
            }
            Err(death) => return self.die(&id, death, Some(began)).await,
        };
        self.rt.output.drain_ready(&mut self.log).await;
        self.finish_log(&id, began.elapsed(), false);
        outcome
    }

    /// Waits for the runtime's first `/next` (or `/init/error`, exit, or the init timeout).
    async fn await_init(&mut self) -> Result<(), Death> {
        let deadline = tokio::time::Instant::from_std(self.rt.started + INIT_TIMEOUT);
        loop {
            tokio::select! {
                biased;
                ev = self.rt.link.init_event() => match ev {
                    Some(InitEvent::Ready) => {
                        self.init_duration = Some(self.rt.started.elapsed());
                        return Ok(());
                    }
                    Some(InitEvent::Error { error_type, body }) => {
                        return Err(init_failure(error_type, &body));
                    }
                    None => return Err(Death::Exited(self.exit_status_soon().await)),
                },
                status = self.rt.exit.exited(&mut self.rt.child) => {
                    // An init error posted right before exiting wins over the exit, once the
                    // channel's task has read it (bounded: a runtime that died before
                    // connecting never sends one).
                    if let Ok(Some(InitEvent::Error { error_type, body })) =
                        tokio::time::timeout(POSTED_BEFORE_EXIT, self.rt.link.init_event()).await
                    {
                        return Err(init_failure(error_type, &body));
                    }
                    return Err(Death::Exited(status.ok()));
                }
                () = tokio::time::sleep_until(deadline) => return Err(Death::TimedOut(INIT_TIMEOUT)),
                () = self.rt.output.pump(&mut self.log) => {}
            }
        }
    }

    /// Replaces an exited runtime process with a fresh one (cold).
    async fn reset(&mut self) -> Result<(), StartError> {
        tracing::debug!(function = %self.spec.function_name, pid = self.rt.pid, "resetting environment after runtime exit");
        self.kill().await;
        self.rt = self.plan.spawn(&self.spec).await?;
        self.init_duration = None;
        self.init_reported = false;
        Ok(())
    }

    /// The channel broke, which usually means the runtime is exiting: its exit status, if it
    /// comes promptly.
    async fn exit_status_soon(&mut self) -> Option<ExitStatus> {
        tokio::time::timeout(Duration::from_millis(500), self.rt.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Kills the environment for good and renders the failure.
    async fn die(&mut self, id: &str, death: Death, began: Option<Instant>) -> InvokeOutcome {
        let death = self.classify(death);
        let outcome = death.outcome(id);
        if let InvokeOutcome::Failed {
            error_type,
            message,
            ..
        } = &outcome
        {
            tracing::debug!(function = %self.spec.function_name, error_type, message, "environment failed");
        }
        // Keep what the function printed up to its end before the pipes close.
        self.rt.output.drain_ready(&mut self.log).await;
        self.kill().await;
        self.rt.output.drain_ready(&mut self.log).await;
        if let Death::TimedOut(after) = &death {
            self.log.push(format!(
                "{} {id} Task timed out after {:.2} seconds",
                log::utc_timestamp(SystemTime::now()),
                after.as_secs_f64()
            ));
        }
        if let Some(began) = began {
            self.finish_log(id, began.elapsed(), matches!(death, Death::TimedOut(_)));
        }
        self.dead = Some(death);
        outcome
    }

    /// An exit after the kernel's OOM killer struck inside our cgroup is an out-of-memory
    /// death (normally `signal: killed`: the whole cgroup is killed as a group).
    fn classify(&self, death: Death) -> Death {
        match death {
            Death::Exited(Some(status))
                if self.rt.cgroup.as_ref().is_some_and(EnvCgroup::oom_killed) =>
            {
                Death::OutOfMemory(status)
            }
            other => other,
        }
    }

    fn finish_log(&mut self, id: &str, duration: Duration, timed_out: bool) {
        let init_duration = if self.init_reported {
            None
        } else {
            self.init_duration
        };
        self.init_reported = true;
        let report = Report {
            duration,
            memory_mb: self.spec.memory_mb,
            // The cgroup's peak covers every process of the environment; else the runtime's.
            max_memory_used_mb: self
                .rt
                .cgroup
                .as_ref()
                .and_then(EnvCgroup::peak_bytes)
                .map_or_else(
                    || self.memory.max_used_mb(self.rt.pid),
                    |b| b.div_ceil(1024 * 1024),
                ),
            init_duration,
            timed_out,
        };
        self.log.push(format!("END RequestId: {id}"));
        self.log.push(log::report_line(id, &report));
    }

    /// SIGKILLs the process group, reaps the leader, and gives the other members a moment to
    /// die (they are reaped by whoever adopted them, so this only waits, boundedly).
    async fn kill(&mut self) {
        if let Some(pgid) = self.rt.pgid.take() {
            signal_group(pgid, Signal::SIGKILL);
            let _ = tokio::time::timeout(Duration::from_secs(5), self.rt.child.wait()).await;
            for _ in 0..40 {
                if !process::group_alive(pgid) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    }

    /// Stops the runtime: SIGTERM to the group, [`SHUTDOWN_GRACE`] to exit, then SIGKILL, and
    /// waits for the leader to be reaped.
    pub async fn shutdown(mut self) {
        if let Some(pgid) = self.rt.pgid {
            signal_group(pgid, Signal::SIGTERM);
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, self.rt.child.wait()).await;
        }
        self.kill().await;
        self.dead = Some(Death::ShutDown);
    }

    /// Whether the runtime process is running and the environment has not failed. A runtime that
    /// exits between invocations is respawned by the next [`Environment::invoke`] (a cold start),
    /// so a pool may keep such an environment or drop it; a failed one must be dropped.
    pub fn is_alive(&mut self) -> bool {
        self.dead.is_none() && matches!(self.rt.child.try_wait(), Ok(None))
    }

    /// The log of the last invocation (function output between `START` and `REPORT`).
    #[must_use]
    pub fn last_log(&self) -> &InvocationLog {
        &self.log
    }

    /// The log stream the runtime was told it writes to (`YYYY/MM/DD/[{version}]{32 hex}`).
    #[must_use]
    pub fn log_stream_name(&self) -> &str {
        &self.log_stream
    }

    /// The last invocation's log lines by value, oldest first, leaving the log empty (its
    /// buffer is kept for the next invocation), with the environment's log stream name: hands
    /// the lines on without copying them.
    pub fn drain_last_log(&mut self) -> (&str, impl Iterator<Item = String> + '_) {
        (&self.log_stream, self.log.drain())
    }

    /// Spawn-to-first-`/next` time, once init completed.
    #[must_use]
    pub fn init_duration(&self) -> Option<Duration> {
        self.init_duration
    }

    /// The function this environment runs.
    #[must_use]
    pub fn spec(&self) -> &Arc<FunctionSpec> {
        &self.spec
    }

    /// The runtime process id (also its process group id), while it runs.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.rt.pid
    }

    /// The `AWS_LAMBDA_RUNTIME_API` value of this environment.
    #[must_use]
    pub fn runtime_api(&self) -> String {
        self.rt.link.api.runtime_api_env()
    }
}

impl Drop for Environment {
    fn drop(&mut self) {
        if let Some(pgid) = self.rt.pgid.take() {
            signal_group(pgid, Signal::SIGKILL);
        }
    }
}

fn init_failure(header_type: Option<String>, body: &[u8]) -> Death {
    let doc: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |k: &str| {
        doc.get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let error_type = field("errorType")
        .map(str::to_owned)
        .or(header_type)
        .unwrap_or_else(|| "Runtime.Unknown".to_owned());
    let message = field("errorMessage").unwrap_or_default().to_owned();
    // Lambda answers the invoke with the runtime's own document (stackTrace, requestId, trace
    // and all); only a body that is not a JSON object is replaced by {errorType, errorMessage}.
    let document = doc.is_object().then(|| Bytes::copy_from_slice(body));
    Death::InitFailed {
        error_type,
        message,
        document,
    }
}

/// The client context as runtimes expect it in `Lambda-Runtime-Client-Context`: JSON. A value
/// that is still the base64 of `X-Amz-Client-Context` is decoded here, since every runtime
/// client (ours, `awslambdaric`, `lambda_runtime`) parses the header as JSON.
fn client_context_json(value: String) -> String {
    if serde_json::from_str::<serde_json::Value>(&value).is_ok() {
        return value;
    }
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    match decoded {
        Some(json) if serde_json::from_str::<serde_json::Value>(&json).is_ok() => json,
        _ => value,
    }
}

fn epoch_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `Root=1-{epoch hex}-{24 hex};Parent={16 hex};Sampled=0`, the X-Ray header shape.
fn new_trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &a[..24],
        &b[..16]
    )
}

#[cfg(test)]
mod tests;
