//! What to run for a runtime id, with which interpreter and which environment variables.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::FunctionSpec;
use crate::placement::CpuPlacement;

const NODE_BOOTSTRAP: &str = include_str!("bootstrap/node.cjs");
const PYTHON_BOOTSTRAP: &str = include_str!("bootstrap/python.py");

/// The family a runtime id belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// `nodejs18.x` … `nodejs24.x`: our Node.js bootstrap on the host's `node`.
    Node,
    /// `python3.9` … `python3.14`: our Python bootstrap on the host's `python3` (or `python3.N`).
    Python,
    /// `provided`, `provided.al2`, `provided.al2023`: the package's own `bootstrap`.
    Provided,
}

impl RuntimeKind {
    /// Classifies a runtime id; `None` for ids we cannot run (java, dotnet, ruby, …).
    #[must_use]
    pub fn of(runtime: &str) -> Option<Self> {
        if let Some(v) = runtime.strip_prefix("nodejs") {
            let major = v.strip_suffix(".x")?;
            return major
                .parse::<u32>()
                .ok()
                .filter(|m| (18..=24).contains(m))
                .map(|_| Self::Node);
        }
        if let Some(minor) = runtime.strip_prefix("python3.") {
            return minor
                .parse::<u32>()
                .ok()
                .filter(|m| (9..=14).contains(m))
                .map(|_| Self::Python);
        }
        matches!(runtime, "provided" | "provided.al2" | "provided.al2023").then_some(Self::Provided)
    }
}

/// How our own Node.js and Python bootstraps talk to the platform. `provided*` runtimes always
/// get the standard Runtime API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// The private framed channel on a Unix socket (`portico_rapi::FramedChannel`): one frame
    /// each way per invocation, about 2.5x the lean-HTTP throughput.
    #[default]
    Framed,
    /// The standard HTTP Runtime API, exactly as `provided*` runtimes see it.
    RuntimeApi,
}

/// Credentials put in every function's environment (`AWS_ACCESS_KEY_ID` …). Fake by default:
/// functions calling back into this emulator sign with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_ACCESS_KEY`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: String,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            access_key_id: "ASIAPORTICOLOCAL0000".to_owned(),
            secret_access_key: "portico/local/secret/access/key/000000000".to_owned(),
            session_token: "portico-local-session-token".to_owned(),
        }
    }
}

/// Shared by every environment of a server: where the bootstraps live and which interpreter
/// binaries to run. Interpreters are resolved once to their real path, because a version-manager
/// shim (pyenv) adds ~70 ms to every cold start.
#[derive(Debug)]
pub struct Launcher {
    runtime_dir: PathBuf,
    /// Private (0700) directory for the framed channels' sockets.
    socket_dir: PathBuf,
    transport: Transport,
    credentials: Credentials,
    /// Runtime id -> resolved interpreter. Consulted at cold start only, never per invoke.
    interpreters: Mutex<HashMap<String, PathBuf>>,
    /// Interpreters the operator named, by runtime id (`python3.12`) or family (`python`,
    /// `nodejs`); still resolved through the interpreter itself, so a shim is skipped.
    configured: HashMap<String, PathBuf>,
    /// Where runtimes run relative to the workers; `None`: wherever the kernel puts them.
    placement: Option<Arc<CpuPlacement>>,
}

/// The environment variable naming interpreters: `NAME=PATH[,NAME=PATH...]`, where NAME is a
/// runtime id (`python3.12`, `nodejs22.x`) or a family (`python`, `nodejs`).
pub const RUNTIMES_ENV: &str = "PORTICO_RUNTIMES";

/// Why the launcher could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LauncherError {
    /// The bootstraps could not be written.
    #[error("cannot write the runtime bootstraps under {dir}: {source}")]
    Io {
        /// The runtime directory.
        dir: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An interpreter mapping that names no runtime we run, or no path.
    #[error("{RUNTIMES_ENV}: {0}")]
    Mapping(String),
}

/// Parses `NAME=PATH[,NAME=PATH...]` (the [`RUNTIMES_ENV`] syntax; one pair also serves a
/// command-line flag). NAME is a Node.js or Python runtime id or the family `nodejs`/`python`.
///
/// # Errors
/// A message naming the offending entry.
pub fn parse_runtime_map(text: &str) -> Result<Vec<(String, PathBuf)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| {
            let (name, path) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not NAME=PATH"))?;
            let name = name.trim();
            let known = matches!(name, "nodejs" | "python")
                || matches!(
                    RuntimeKind::of(name),
                    Some(RuntimeKind::Node | RuntimeKind::Python)
                );
            if !known {
                return Err(format!(
                    "`{name}` is not a Node.js or Python runtime id (nodejs20.x, python3.12, ...) nor `nodejs`/`python`"
                ));
            }
            if path.trim().is_empty() {
                return Err(format!("`{entry}` names no interpreter"));
            }
            Ok((name.to_owned(), PathBuf::from(path.trim())))
        })
        .collect()
}

impl Launcher {
    /// Writes the shipped bootstraps under `runtime_dir` (created if missing; rewritten only
    /// when their content changed) and returns a launcher using them.
    ///
    /// # Errors
    /// [`LauncherError`] if the directory or files cannot be written.
    pub fn new(runtime_dir: impl Into<PathBuf>) -> Result<Self, LauncherError> {
        let runtime_dir = runtime_dir.into();
        let write = |rel: &str, content: &str| -> std::io::Result<()> {
            let path = runtime_dir.join(rel);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p)?;
            }
            if std::fs::read_to_string(&path).ok().as_deref() != Some(content) {
                // Write-then-rename so a concurrently starting runtime never reads half a file.
                let tmp = path.with_extension(format!("tmp{}", std::process::id()));
                std::fs::write(&tmp, content)?;
                std::fs::rename(&tmp, &path)?;
            }
            Ok(())
        };
        let socket_dir = socket_dir_for(&runtime_dir);
        write("node/bootstrap.cjs", NODE_BOOTSTRAP)
            .and_then(|()| write("python/bootstrap.py", PYTHON_BOOTSTRAP))
            .and_then(|()| private_dir(&socket_dir))
            .map_err(|source| LauncherError::Io {
                dir: runtime_dir.clone(),
                source,
            })?;
        let configured = match std::env::var(RUNTIMES_ENV) {
            Ok(text) => parse_runtime_map(&text)
                .map_err(LauncherError::Mapping)?
                .into_iter()
                .collect(),
            Err(_) => HashMap::new(),
        };
        // Decide (and log) at start-up whether memory is capped by cgroups or only measured.
        crate::cgroup::memory_mode();
        Ok(Self {
            runtime_dir,
            socket_dir,
            transport: Transport::default(),
            credentials: Credentials::default(),
            interpreters: Mutex::default(),
            configured,
            placement: None,
        })
    }

    /// Names the interpreter for a runtime id or family (`python`, `nodejs`), as
    /// [`RUNTIMES_ENV`] does; it is still asked for its real path at first use.
    #[must_use]
    pub fn with_interpreter(mut self, name: &str, program: PathBuf) -> Self {
        self.configured.insert(name.to_owned(), program);
        self
    }

    /// Chooses the channel of our own bootstraps (default [`Transport::Framed`]).
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The private directory for framed-channel sockets, or `None` when this runtime uses the
    /// HTTP Runtime API.
    pub(crate) fn framed_socket_dir(&self, kind: RuntimeKind) -> Option<PathBuf> {
        (kind != RuntimeKind::Provided && self.transport == Transport::Framed)
            .then(|| self.socket_dir.clone())
    }

    /// Places runtimes by `placement` (see [`crate::placement`]).
    #[must_use]
    pub fn with_placement(mut self, placement: Option<Arc<CpuPlacement>>) -> Self {
        self.placement = placement;
        self
    }

    pub(crate) fn placement(&self) -> Option<&Arc<CpuPlacement>> {
        self.placement.as_ref()
    }

    /// Uses these credentials in function environments instead of the fake default.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = credentials;
        self
    }

    /// Pins the interpreter for a runtime id (e.g. `"nodejs20.x"` -> `/usr/bin/node`), skipping
    /// resolution.
    pub fn set_interpreter(&self, runtime: &str, path: PathBuf) {
        self.lock().insert(runtime.to_owned(), path);
    }

    /// The directory the bootstraps were written to (`LAMBDA_RUNTIME_DIR`).
    #[must_use]
    pub fn runtime_dir(&self) -> &Path {
        &self.runtime_dir
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PathBuf>> {
        self.interpreters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Program and arguments for a runtime, resolving (and caching) its interpreter.
    pub(crate) async fn command_for(
        &self,
        kind: RuntimeKind,
        spec: &FunctionSpec,
    ) -> Result<(PathBuf, Vec<PathBuf>), String> {
        let bootstrap = match kind {
            RuntimeKind::Provided => return Ok((spec.code_dir.join("bootstrap"), Vec::new())),
            RuntimeKind::Node => self.runtime_dir.join("node/bootstrap.cjs"),
            RuntimeKind::Python => self.runtime_dir.join("python/bootstrap.py"),
        };
        let cached = self.lock().get(&spec.runtime).cloned();
        let interpreter = match cached {
            Some(p) => p,
            None => {
                let family = if kind == RuntimeKind::Node {
                    "nodejs"
                } else {
                    "python"
                };
                let configured = self
                    .configured
                    .get(&spec.runtime)
                    .or_else(|| self.configured.get(family));
                let p = resolve_interpreter(kind, &spec.runtime, configured).await?;
                tracing::info!(runtime = %spec.runtime, interpreter = %p.display(), "runtime interpreter");
                self.lock().insert(spec.runtime.clone(), p.clone());
                p
            }
        };
        Ok((interpreter, vec![bootstrap]))
    }

    /// The full environment of a runtime process (§7.6 of the behaviour notes): the user's
    /// variables, unreserved defaults they may override, then the reserved ones that win.
    #[must_use]
    pub fn environment(
        &self,
        spec: &FunctionSpec,
        kind: RuntimeKind,
        runtime_api: &str,
        log_stream_name: &str,
    ) -> BTreeMap<String, String> {
        let mut env = spec.environment.clone();
        let host_path = std::env::var("PATH")
            .unwrap_or_else(|_| "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned());
        for (k, v) in [
            ("PATH", host_path.as_str()),
            ("LANG", "en_US.UTF-8"),
            ("TZ", ":UTC"),
            ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR"),
        ] {
            env.entry(k.to_owned()).or_insert_with(|| v.to_owned());
        }
        let code_dir = spec.code_dir.to_string_lossy().into_owned();
        let runtime_dir = self.runtime_dir.to_string_lossy().into_owned();
        let memory = spec.memory_mb.to_string();
        let log_group = format!("/aws/lambda/{}", spec.function_name);
        let mut reserved: Vec<(&str, &str)> = vec![
            ("_HANDLER", &spec.handler),
            ("AWS_REGION", &spec.region),
            ("AWS_DEFAULT_REGION", &spec.region),
            ("AWS_LAMBDA_FUNCTION_NAME", &spec.function_name),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", &memory),
            ("AWS_LAMBDA_FUNCTION_VERSION", &spec.version),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", &log_group),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name),
            ("AWS_ACCESS_KEY", &self.credentials.access_key_id),
            ("AWS_ACCESS_KEY_ID", &self.credentials.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &self.credentials.secret_access_key),
            ("AWS_SESSION_TOKEN", &self.credentials.session_token),
            ("AWS_LAMBDA_RUNTIME_API", runtime_api),
            ("LAMBDA_TASK_ROOT", &code_dir),
            ("LAMBDA_RUNTIME_DIR", &runtime_dir),
        ];
        let exec_env = format!("AWS_Lambda_{}", spec.runtime);
        // AWS sets no AWS_EXECUTION_ENV for OS-only runtimes.
        if kind != RuntimeKind::Provided {
            reserved.push(("AWS_EXECUTION_ENV", &exec_env));
        }
        for (k, v) in reserved {
            env.insert(k.to_owned(), v.to_owned());
        }
        // Per-invoke in AWS, and set by the runtime from `Lambda-Runtime-Trace-Id`.
        env.remove("_X_AMZN_TRACE_ID");
        // Set per process by the environment for our own bootstraps only; never the user's.
        env.remove("_PORTICO_RUNTIME_SOCKET");
        env
    }
}

/// Unix socket paths are limited to 108 bytes: use `<runtime_dir>/sock` when a socket name
/// fits under it, else a private directory under the system temp dir.
fn socket_dir_for(runtime_dir: &Path) -> PathBuf {
    let preferred = runtime_dir.join("sock");
    // 1 separator + 32 hex + ".sock" + NUL.
    if preferred.as_os_str().len() + 39 <= 108 {
        preferred
    } else {
        std::env::temp_dir().join(format!("portico-{}", uuid::Uuid::new_v4().simple()))
    }
}

/// Creates a directory only we can enter, so no other local user can connect to a socket
/// before the runtime does.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Asks the interpreter for its own real path, so later spawns skip any shim. A configured
/// interpreter is the only candidate; else `node`, or `pythonX.Y` then `python3`, on the PATH.
async fn resolve_interpreter(
    kind: RuntimeKind,
    runtime: &str,
    configured: Option<&PathBuf>,
) -> Result<PathBuf, String> {
    let probe = match kind {
        RuntimeKind::Node => vec!["-p", "process.execPath"],
        RuntimeKind::Python => vec!["-c", "import sys; print(sys.executable)"],
        RuntimeKind::Provided => return Err("provided runtimes have no interpreter".to_owned()),
    };
    let candidates: Vec<String> = match (configured, kind) {
        (Some(path), _) => vec![path.to_string_lossy().into_owned()],
        (None, RuntimeKind::Node) => vec!["node".to_owned()],
        // Prefer the exact minor version when the host has it, else any python3.
        (None, _) => vec![runtime.to_owned(), "python3".to_owned()],
    };
    let mut errors = Vec::new();
    for program in candidates {
        match tokio::process::Command::new(&program)
            .args(&probe)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
        {
            Ok(out) if out.status.success() => {
                let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if !path.is_empty() && Path::new(&path).is_file() {
                    tracing::debug!(runtime, interpreter = %path, "resolved interpreter");
                    return Ok(PathBuf::from(path));
                }
                errors.push(format!("{program} reported no executable path"));
            }
            Ok(out) => errors.push(format!("{program} exited with {}", out.status)),
            Err(e) => errors.push(format!("{program}: {e}")),
        }
    }
    Err(errors.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(runtime: &str) -> FunctionSpec {
        FunctionSpec {
            function_name: "f".to_owned(),
            function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:f".to_owned(),
            version: "$LATEST".to_owned(),
            runtime: runtime.to_owned(),
            handler: "index.handler".to_owned(),
            code_dir: PathBuf::from("/code"),
            environment: BTreeMap::from([
                ("AWS_REGION".to_owned(), "mars-1".to_owned()),
                ("TZ".to_owned(), "Europe/Paris".to_owned()),
                ("_PORTICO_RUNTIME_SOCKET".to_owned(), "/tmp/x".to_owned()),
                ("MINE".to_owned(), "1".to_owned()),
            ]),
            memory_mb: 256,
            timeout: std::time::Duration::from_secs(3),
            region: "eu-west-1".to_owned(),
            account_id: "123456789012".to_owned(),
        }
    }

    #[test]
    fn environment_contract_reserved_win_unreserved_yield() {
        let dir = std::env::temp_dir().join(format!("portico-launcher-{}", std::process::id()));
        let l = Launcher::new(&dir).unwrap();
        let env = l.environment(
            &spec("nodejs20.x"),
            RuntimeKind::Node,
            "127.0.0.1:9001",
            "2024/01/01/[$LATEST]abc",
        );
        let get = |k: &str| env.get(k).map(String::as_str);
        assert_eq!(get("AWS_REGION"), Some("eu-west-1"));
        assert_eq!(get("AWS_DEFAULT_REGION"), Some("eu-west-1"));
        assert_eq!(get("TZ"), Some("Europe/Paris"));
        assert_eq!(get("LANG"), Some("en_US.UTF-8"));
        assert_eq!(get("MINE"), Some("1"));
        assert_eq!(get("_PORTICO_RUNTIME_SOCKET"), None);
        assert_eq!(get("_HANDLER"), Some("index.handler"));
        assert_eq!(get("AWS_EXECUTION_ENV"), Some("AWS_Lambda_nodejs20.x"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_NAME"), Some("f"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
        assert_eq!(get("AWS_LAMBDA_FUNCTION_VERSION"), Some("$LATEST"));
        assert_eq!(get("AWS_LAMBDA_INITIALIZATION_TYPE"), Some("on-demand"));
        assert_eq!(get("AWS_LAMBDA_LOG_GROUP_NAME"), Some("/aws/lambda/f"));
        assert_eq!(
            get("AWS_LAMBDA_LOG_STREAM_NAME"),
            Some("2024/01/01/[$LATEST]abc")
        );
        assert_eq!(get("AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:9001"));
        assert_eq!(get("LAMBDA_TASK_ROOT"), Some("/code"));
        assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("ASIAPORTICOLOCAL0000"));
        assert_eq!(get("AWS_ACCESS_KEY"), get("AWS_ACCESS_KEY_ID"));
        assert!(get("AWS_SECRET_ACCESS_KEY").is_some() && get("AWS_SESSION_TOKEN").is_some());
        let env = l.environment(
            &spec("provided.al2023"),
            RuntimeKind::Provided,
            "127.0.0.1:9001",
            "s",
        );
        assert_eq!(env.get("AWS_EXECUTION_ENV"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn runtime_ids_are_classified() {
        assert_eq!(RuntimeKind::of("nodejs20.x"), Some(RuntimeKind::Node));
        assert_eq!(RuntimeKind::of("nodejs24.x"), Some(RuntimeKind::Node));
        assert_eq!(RuntimeKind::of("nodejs16.x"), None);
        assert_eq!(RuntimeKind::of("python3.9"), Some(RuntimeKind::Python));
        assert_eq!(RuntimeKind::of("python3.14"), Some(RuntimeKind::Python));
        assert_eq!(RuntimeKind::of("python3.8"), None);
        assert_eq!(
            RuntimeKind::of("provided.al2023"),
            Some(RuntimeKind::Provided)
        );
        assert_eq!(RuntimeKind::of("java21"), None);
    }

    #[test]
    fn runtime_maps_parse_ids_and_families() {
        assert_eq!(
            parse_runtime_map("python3.12=/usr/bin/python3.12, nodejs=/opt/node/bin/node,")
                .unwrap(),
            vec![
                (
                    "python3.12".to_owned(),
                    PathBuf::from("/usr/bin/python3.12")
                ),
                ("nodejs".to_owned(), PathBuf::from("/opt/node/bin/node")),
            ]
        );
        assert_eq!(parse_runtime_map("").unwrap(), vec![]);
        assert_eq!(
            parse_runtime_map("python3.12").unwrap_err(),
            "`python3.12` is not NAME=PATH"
        );
        assert_eq!(
            parse_runtime_map("java21=/usr/bin/java").unwrap_err(),
            "`java21` is not a Node.js or Python runtime id (nodejs20.x, python3.12, ...) nor `nodejs`/`python`"
        );
        assert_eq!(
            parse_runtime_map("provided.al2023=/x").unwrap_err(),
            "`provided.al2023` is not a Node.js or Python runtime id (nodejs20.x, python3.12, ...) nor `nodejs`/`python`"
        );
        assert_eq!(
            parse_runtime_map("nodejs20.x= ").unwrap_err(),
            "`nodejs20.x=` names no interpreter"
        );
    }

    #[tokio::test]
    async fn configured_interpreters_are_the_only_candidate_and_are_resolved() {
        // A configured path is asked for its real executable: a shim script is skipped.
        let real = resolve_interpreter(RuntimeKind::Python, "python3.12", None)
            .await
            .unwrap();
        let link_dir =
            std::env::temp_dir().join(format!("portico-interp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&link_dir).unwrap();
        let shim = link_dir.join("py-shim");
        std::fs::write(
            &shim,
            format!("#!/bin/sh\nexec {} \"$@\"\n", real.display()),
        )
        .unwrap();
        std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let got = resolve_interpreter(RuntimeKind::Python, "python3.12", Some(&shim))
            .await
            .unwrap();
        assert_eq!(got, real);
        // A symlink is kept as Python reports it: a virtualenv's `python` must stay the link.
        let link = link_dir.join("py");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let got = resolve_interpreter(RuntimeKind::Python, "python3.12", Some(&link))
            .await
            .unwrap();
        assert_eq!(got, link);
        let missing = link_dir.join("none");
        assert_eq!(
            resolve_interpreter(RuntimeKind::Node, "nodejs20.x", Some(&missing))
                .await
                .unwrap_err(),
            format!(
                "{}: No such file or directory (os error 2)",
                missing.display()
            )
        );
        let _ = std::fs::remove_dir_all(&link_dir);
    }
}
