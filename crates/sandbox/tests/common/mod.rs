//! Shared fixtures: a launcher per test, function specs, code directories written on the fly.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use portico_sandbox::{Environment, FunctionSpec, InvokeInput, InvokeOutcome, Launcher};
use tempfile::TempDir;

pub struct Fixture {
    pub dir: TempDir,
    pub launcher: Arc<Launcher>,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let launcher = Arc::new(Launcher::new(dir.path().join("runtime")).unwrap());
        std::fs::create_dir_all(dir.path().join("code")).unwrap();
        Self { dir, launcher }
    }

    /// Our bootstraps on the standard HTTP Runtime API instead of the framed channel.
    pub fn http() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let launcher = Arc::new(
            Launcher::new(dir.path().join("runtime"))
                .unwrap()
                .with_transport(portico_sandbox::Transport::RuntimeApi),
        );
        std::fs::create_dir_all(dir.path().join("code")).unwrap();
        Self { dir, launcher }
    }

    pub fn launcher_handle(&self) -> Arc<Launcher> {
        Arc::clone(&self.launcher)
    }

    pub fn code(&self) -> std::path::PathBuf {
        self.dir.path().join("code")
    }

    /// Writes a file under the code directory.
    pub fn file(&self, rel: &str, content: &str) -> &Self {
        let p = self.code().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        self
    }

    pub fn executable(&self, rel: &str, content: &str) -> &Self {
        self.file(rel, content);
        let p = self.code().join(rel);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        self
    }

    pub fn spec(&self, runtime: &str, handler: &str, timeout: Duration) -> Arc<FunctionSpec> {
        Arc::new(FunctionSpec {
            function_name: "HelloWorld".to_owned(),
            function_arn: "arn:aws:lambda:us-west-2:123456789012:function:HelloWorld".to_owned(),
            version: "$LATEST".to_owned(),
            runtime: runtime.to_owned(),
            handler: handler.to_owned(),
            code_dir: self.code(),
            environment: BTreeMap::from([("GREETING".to_owned(), "hi".to_owned())]),
            memory_mb: 128,
            timeout,
            region: "us-west-2".to_owned(),
            account_id: "123456789012".to_owned(),
        })
    }

    pub async fn start(&self, runtime: &str, handler: &str, timeout: Duration) -> Environment {
        Environment::start(self.spec(runtime, handler, timeout), &self.launcher)
            .await
            .unwrap()
    }
}

pub async fn invoke(env: &mut Environment, id: &str, payload: &str) -> InvokeOutcome {
    env.invoke(InvokeInput::new(id, payload.to_owned())).await
}

pub fn response(o: &InvokeOutcome) -> String {
    match o {
        InvokeOutcome::Response(b) => String::from_utf8(b.to_vec()).unwrap(),
        other => panic!("expected a response, got {other:?}"),
    }
}

pub fn function_error(o: &InvokeOutcome) -> serde_json::Value {
    match o {
        InvokeOutcome::FunctionError { payload } => serde_json::from_slice(payload).unwrap(),
        other => panic!("expected a function error, got {other:?}"),
    }
}

pub fn failed(o: &InvokeOutcome) -> (String, String) {
    match o {
        InvokeOutcome::Failed {
            error_type,
            message,
            ..
        } => (error_type.clone(), message.clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// Whether a process is running (a zombie awaiting reaping counts as gone).
pub fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|s| s.trim().chars().next());
            !matches!(state, Some('Z' | 'X') | None)
        }
        Err(_) => false,
    }
}

/// Every live (non-zombie) process whose process group is `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit(')').next() else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] = state, [1] = ppid, [2] = pgrp
        if fields.get(2) == Some(&pgid.to_string().as_str()) && !matches!(fields[0], "Z" | "X") {
            out.push(pid);
        }
    }
    out
}
