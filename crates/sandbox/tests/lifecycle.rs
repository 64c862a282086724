//! `provided*` runtimes, code extraction, start errors, and process lifetime guarantees.

mod common;

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{Fixture, failed, function_error, invoke, response};
use portico_sandbox::{Environment, ExtractError, StartError, extract_zip};

const SHELL_BOOTSTRAP: &str = r#"#!/bin/sh
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
echo "init $_HANDLER"
sleep 1000 &
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^lambda-runtime-aws-request-id:' "$HEADERS" | cut -d' ' -f2 | tr -d '\r\n')"
  rm -f "$HEADERS"
  case "$EVENT" in
    *fail*) curl -sS -X POST -H 'Lambda-Runtime-Function-Error-Type: Unhandled' "$API/invocation/$ID/error" \
              -d '{"errorMessage":"asked to fail","errorType":"CustomError"}' >/dev/null; continue;;
  esac
  echo "handling $ID"
  curl -sS -X POST "$API/invocation/$ID/response" \
    -d "{\"echo\":$EVENT,\"handler\":\"$_HANDLER\",\"exec_env\":\"${AWS_EXECUTION_ENV:-none}\",\"region\":\"$AWS_REGION\",\"user\":\"$GREETING\"}" >/dev/null
done
"#;

#[tokio::test]
async fn provided_runtime_shell_bootstrap_with_curl() {
    let f = Fixture::new();
    f.executable("bootstrap", SHELL_BOOTSTRAP);
    let mut env = f
        .start(
            "provided.al2023",
            "function.handler",
            Duration::from_secs(5),
        )
        .await;
    let pgid = env.pid().unwrap();
    for i in 1..=2 {
        let o = invoke(&mut env, &format!("s-{i}"), &format!(r#"{{"n":{i}}}"#)).await;
        assert_eq!(
            response(&o),
            format!(
                r#"{{"echo":{{"n":{i}}},"handler":"function.handler","exec_env":"none","region":"us-west-2","user":"hi"}}"#
            )
        );
        assert!(
            env.last_log()
                .text()
                .contains(&format!("\nhandling s-{i}\n")),
            "{}",
            env.last_log().text()
        );
    }
    let e = function_error(&invoke(&mut env, "s-3", r#""fail""#).await);
    assert_eq!(
        e,
        serde_json::json!({"errorMessage":"asked to fail","errorType":"CustomError"})
    );
    // The bootstrap forked `sleep`; shutdown must take the whole group.
    assert!(common::group_members(pgid).len() >= 2);
    env.shutdown().await;
    assert!(
        common::group_members(pgid).is_empty(),
        "{:?}",
        common::group_members(pgid)
    );
}

#[tokio::test]
async fn start_errors_map_to_invalid_entrypoint() {
    let f = Fixture::new();
    let err = Environment::start(
        f.spec("provided.al2", "x", Duration::from_secs(3)),
        &f.launcher,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, StartError::MissingBootstrap(_)));
    assert_eq!(
        failed(&err.failure("r-1")),
        (
            "Runtime.InvalidEntrypoint".to_owned(),
            format!(
                "RequestId: r-1 Error: Couldn't find valid bootstrap(s): [{}/bootstrap /opt/bootstrap]",
                f.code().display()
            )
        )
    );
    f.file("bootstrap", "#!/bin/sh\n");
    let err = Environment::start(
        f.spec("provided.al2", "x", Duration::from_secs(3)),
        &f.launcher,
    )
    .await
    .unwrap_err();
    assert_eq!(
        failed(&err.failure("r-2")),
        (
            "Runtime.InvalidEntrypoint".to_owned(),
            format!(
                "RequestId: r-2 Error: fork/exec {}/bootstrap: permission denied",
                f.code().display()
            )
        )
    );
    let err = Environment::start(f.spec("java21", "x", Duration::from_secs(3)), &f.launcher)
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::UnsupportedRuntime(r) if r == "java21"));
}

#[tokio::test]
async fn exit_before_init_is_runtime_exit_error() {
    let f = Fixture::new();
    f.executable("bootstrap", "#!/bin/sh\necho 'cannot start' >&2\nexit 2\n");
    let mut env = f
        .start("provided.al2023", "x", Duration::from_secs(3))
        .await;
    assert_eq!(
        failed(&invoke(&mut env, "e-1", "{}").await),
        (
            "Runtime.ExitError".to_owned(),
            "RequestId: e-1 Error: Runtime exited with error: exit status 2".to_owned()
        )
    );
    assert!(env.last_log().text().contains("cannot start\n"));
}

#[tokio::test]
async fn dropping_an_environment_kills_its_process_group() {
    let f = Fixture::new();
    f.file("index.js", "exports.handler = async () => 1;\n");
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    assert_eq!(response(&invoke(&mut env, "d-1", "{}").await), "1");
    let pid = env.pid().unwrap();
    assert!(common::running(pid));
    drop(env);
    for _ in 0..50 {
        if common::group_members(pid).is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("runtime {pid} survived its environment");
}

/// `PR_SET_PDEATHSIG` follows the forking *thread*: an environment started from a blocking-pool
/// thread must survive that thread's retirement.
#[test]
fn runtimes_outlive_the_thread_that_started_them() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(50))
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let f = Fixture::new();
        f.file("index.js", "exports.handler = async () => 'alive';\n");
        let spec = f.spec("nodejs20.x", "index.handler", Duration::from_secs(3));
        let handle = tokio::runtime::Handle::current();
        let launcher = f.launcher_handle();
        let mut env = tokio::task::spawn_blocking(move || {
            handle
                .block_on(Environment::start(spec, &launcher))
                .unwrap()
        })
        .await
        .unwrap();
        // Let the blocking thread idle out and exit.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(response(&invoke(&mut env, "b-1", "{}").await), r#""alive""#);
        env.shutdown().await;
    });
}

/// Run as a child process by `runtimes_die_with_a_killed_server`: starts an environment, prints
/// the runtime's pid, and waits to be killed.
#[tokio::test]
async fn pdeathsig_helper() {
    if std::env::var_os("PORTICO_PDEATHSIG_HELPER").is_none() {
        return;
    }
    let f = Fixture::new();
    f.file("index.js", "exports.handler = async () => 1;\n");
    let mut env = f
        .start("nodejs20.x", "index.handler", Duration::from_secs(3))
        .await;
    assert_eq!(response(&invoke(&mut env, "h-1", "{}").await), "1");
    println!("RUNTIME_PID={}", env.pid().unwrap());
    std::io::stdout().flush().unwrap();
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[test]
fn runtimes_die_with_a_killed_server() {
    use std::io::BufRead as _;
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pdeathsig_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PORTICO_PDEATHSIG_HELPER", "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = helper.stdout.take().unwrap();
    let pid: u32 = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        // libtest prints "test pdeathsig_helper ... " on the same line first.
        .find_map(|l| {
            l.split_once("RUNTIME_PID=")
                .map(|(_, p)| p.trim().parse().unwrap())
        })
        .expect("helper printed the runtime pid");
    assert!(common::running(pid));
    helper.kill().unwrap(); // SIGKILL: no destructor runs in the helper
    helper.wait().unwrap();
    for _ in 0..100 {
        if !common::running(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("runtime {pid} outlived the killed server");
}

fn zip_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content, mode) in entries {
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        w.start_file(*name, opts).unwrap();
        w.write_all(content).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn extract_keeps_modes_and_counts_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_of(&[
        ("bootstrap", b"#!/bin/sh\necho hi\n", 0o755),
        ("src/app.js", b"exports.handler = 1;\n", 0o644),
    ]);
    let n = extract_zip(&zip, dir.path()).unwrap();
    assert_eq!(n, 18 + 21);
    let mode = std::fs::metadata(dir.path().join("bootstrap"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/app.js")).unwrap(),
        "exports.handler = 1;\n"
    );
}

#[test]
fn extract_symlinks_inside_are_kept_and_escaping_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("code");
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("lib/real.js", opts).unwrap();
    w.write_all(b"1").unwrap();
    w.add_symlink("lib/alias.js", "real.js", opts).unwrap();
    let zip = w.finish().unwrap().into_inner();
    extract_zip(&zip, &dest).unwrap();
    assert_eq!(
        std::fs::read_to_string(dest.join("lib/alias.js")).unwrap(),
        "1"
    );

    for target in ["../../outside", "/etc/passwd"] {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.add_symlink("lib/evil", target, opts).unwrap();
        let zip = w.finish().unwrap().into_inner();
        let err = extract_zip(&zip, &dir.path().join("other")).unwrap_err();
        assert!(
            matches!(err, ExtractError::UnsafePath(ref p) if p == &format!("lib/evil -> {target}")),
            "{err:?}"
        );
    }
}

#[test]
fn extract_refuses_more_than_250_mb_unzipped() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file("big.bin", opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..250 {
        w.write_all(&chunk).unwrap();
    }
    w.write_all(&[0]).unwrap();
    let zip = w.finish().unwrap().into_inner();
    assert!(zip.len() < 1 << 20);
    let dir = tempfile::tempdir().unwrap();
    let err = extract_zip(&zip, dir.path()).unwrap_err();
    assert!(matches!(err, ExtractError::TooLarge), "{err:?}");
    assert!(
        !dir.path().join("big.bin").exists(),
        "refused before writing"
    );
}

#[test]
fn extract_refuses_zip_slip_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("code");
    let zip = zip_of(&[("../evil.txt", b"x", 0o644)]);
    let err = extract_zip(&zip, &dest).unwrap_err();
    assert!(
        matches!(err, ExtractError::UnsafePath(ref p) if p == "../evil.txt"),
        "{err:?}"
    );
    assert_eq!(
        err.aws_message().unwrap(),
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    );
    assert!(!dir.path().join("evil.txt").exists());

    let err = extract_zip(b"not a zip at all", &dest).unwrap_err();
    assert!(matches!(err, ExtractError::InvalidZip(_)));
    assert_eq!(
        ExtractError::TooLarge.aws_message().unwrap(),
        "Unzipped size must be smaller than 262144000 bytes"
    );
}

#[test]
fn extract_reports_corrupt_entry_data_as_an_invalid_zip() {
    // The central directory is intact, the compressed bytes are not: reading the entry fails
    // inside the decoder, which is the archive's fault, not the disk's.
    let text =
        b"export const handler = async () => 'a reasonably long body to compress';".repeat(20);
    let mut zip = zip_of(&[("index.mjs", &text, 0o644)]);
    for byte in &mut zip[40..120] {
        *byte = 0xff;
    }
    let dir = tempfile::tempdir().unwrap();
    let err = extract_zip(&zip, dir.path()).unwrap_err();
    assert!(matches!(err, ExtractError::InvalidZip(_)), "{err:?}");
    assert_eq!(
        err.aws_message().as_deref(),
        Some("Could not unzip uploaded file. Please check your file, then try to upload again.")
    );
}
