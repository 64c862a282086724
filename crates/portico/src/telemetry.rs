//! Logging: one `tracing` subscriber writing to stderr, filtered by `--log-level`.
//!
//! Lines at `INFO` and below (one per request, among others) are gathered in a buffer that is
//! written out every [`FLUSH_EVERY`] or as soon as it holds [`FLUSH_AT_BYTES`], so a busy
//! server makes one `write` for many requests instead of one each. `WARN` and `ERROR` lines are
//! written at once, with everything buffered before them, so problems are never late and lines
//! never change order. The buffer is flushed when the returned [`LogGuard`] drops, at the end
//! of `main`. A dedicated thread that woke for every line was tried first: on two cores it cost
//! more than the `write` it saved.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How long an `INFO` line may wait in the buffer.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// Buffered bytes that trigger a write without waiting for the timer.
const FLUSH_AT_BYTES: usize = 32 * 1024;

/// The buffer that request lines are written to directly, when the output is not a terminal.
static ACCESS: OnceLock<LogBuffer> = OnceLock::new();

pub fn init(level: &str) -> anyhow::Result<LogGuard> {
    let filter = EnvFilter::try_new(level)
        .map_err(|e| anyhow::anyhow!("invalid --log-level {level:?}: {e}"))?;
    let buffer = LogBuffer::default();
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(buffer.clone())
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    if !ansi {
        let _ = ACCESS.set(buffer.clone());
    }
    let flusher = buffer.clone();
    std::thread::Builder::new()
        .name("log-flush".into())
        .spawn(move || {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                flusher.flush();
            }
        })
        .map_err(|e| anyhow::anyhow!("cannot start the log flusher: {e}"))?;
    Ok(LogGuard { buffer })
}

/// One request's line, `2026-11-22T05:58:10.641925Z  INFO request request_id=… method=GET
/// path=/… status=200 latency_us=348`: the same line `tracing`'s formatter writes, formatted
/// here directly because it is written for every request and the generic formatter costs a
/// good part of a small request's time. Falls back to `tracing` on a terminal (colours).
pub fn request_line(request_id: &str, method: &str, path: &str, status: u16, latency_us: u64) {
    if !tracing::enabled!(Level::INFO) {
        return;
    }
    let Some(buffer) = ACCESS.get() else {
        tracing::info!(request_id = %request_id, method = %method, path = %path, status, latency_us, "request");
        return;
    };
    let mut writer = LineWriter {
        buffer,
        line: Vec::with_capacity(160 + path.len()),
        urgent: false,
    };
    write_request_line(
        &mut writer.line,
        time::OffsetDateTime::now_utc(),
        request_id,
        method,
        path,
        status,
        latency_us,
    );
}

fn write_request_line(
    out: &mut Vec<u8>,
    now: time::OffsetDateTime,
    request_id: &str,
    method: &str,
    path: &str,
    status: u16,
    latency_us: u64,
) {
    let _ = writeln!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z  INFO request request_id={request_id} method={method} path={path} status={status} latency_us={latency_us}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
}

/// Flushes what is buffered when dropped.
pub struct LogGuard {
    buffer: LogBuffer,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.buffer.flush();
    }
}

#[derive(Clone, Default)]
struct LogBuffer {
    pending: Arc<Mutex<Vec<u8>>>,
    out: Output,
}

/// Where buffered lines go: stderr, or memory for tests.
#[derive(Clone, Default)]
enum Output {
    #[default]
    Stderr,
    #[cfg(test)]
    Memory(Arc<Mutex<Vec<u8>>>),
}

impl LogBuffer {
    fn flush(&self) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        self.write_out(&mut pending);
    }

    /// Writes and empties `pending`. Errors are dropped: there is nowhere else to report them.
    fn write_out(&self, pending: &mut Vec<u8>) {
        if pending.is_empty() {
            return;
        }
        match &self.out {
            Output::Stderr => {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr.write_all(pending);
                let _ = stderr.flush();
            }
            #[cfg(test)]
            Output::Memory(written) => {
                if let Ok(mut written) = written.lock() {
                    written.extend_from_slice(pending);
                }
            }
        }
        pending.clear();
    }
}

/// One event's line, handed to the buffer when the formatter is done with it.
pub struct LineWriter<'a> {
    buffer: &'a LogBuffer,
    line: Vec<u8>,
    urgent: bool,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        let Ok(mut pending) = self.buffer.pending.lock() else {
            return;
        };
        pending.extend_from_slice(&self.line);
        if self.urgent || pending.len() >= FLUSH_AT_BYTES {
            self.buffer.write_out(&mut pending);
        }
    }
}

impl<'a> MakeWriter<'a> for LogBuffer {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            buffer: self,
            line: Vec::new(),
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            buffer: self,
            line: Vec::with_capacity(256),
            urgent: *meta.level() <= Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer() -> (LogBuffer, Arc<Mutex<Vec<u8>>>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let buffer = LogBuffer {
            pending: Arc::default(),
            out: Output::Memory(written.clone()),
        };
        (buffer, written)
    }

    fn line(buffer: &LogBuffer, text: &[u8], urgent: bool) {
        let mut w = LineWriter {
            buffer,
            line: Vec::new(),
            urgent,
        };
        w.write_all(text).unwrap();
    }

    #[test]
    fn request_lines_read_as_the_tracing_formatter_writes_them() {
        let mut out = Vec::new();
        let at = time::macros::datetime!(2026-11-02 05:08:09.012345 UTC);
        write_request_line(&mut out, at, "r-1", "GET", "/restapis", 200, 348);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-02T05:08:09.012345Z  INFO request request_id=r-1 method=GET path=/restapis status=200 latency_us=348\n"
        );
    }

    #[test]
    fn info_lines_wait_and_an_urgent_line_takes_them_along_in_order() {
        let (buffer, written) = buffer();
        line(&buffer, b"first\n", false);
        line(&buffer, b"second\n", false);
        assert!(written.lock().unwrap().is_empty());
        line(&buffer, b"warning\n", true);
        assert_eq!(
            written.lock().unwrap().as_slice(),
            b"first\nsecond\nwarning\n"
        );
        assert!(buffer.pending.lock().unwrap().is_empty());
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting_and_flush_empties_the_rest() {
        let (buffer, written) = buffer();
        line(&buffer, &vec![b'x'; FLUSH_AT_BYTES], false);
        assert_eq!(written.lock().unwrap().len(), FLUSH_AT_BYTES);
        line(&buffer, b"late\n", false);
        buffer.flush();
        assert!(written.lock().unwrap().ends_with(b"xlate\n"));
    }
}
