//! Capture of a runtime's stdout/stderr into a bounded per-invocation log, and the platform lines
//! (`START`, `END`, `REPORT`) Lambda writes around each invocation.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::task::Poll;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::process::{ChildStderr, ChildStdout};

/// Bytes of log kept per invocation (the oldest lines are dropped first). `X-Amz-Log-Result`
/// needs only the last 4 KB; this keeps some slack for callers that want more.
pub const LOG_CAPACITY_BYTES: usize = 64 * 1024;

/// Longest single line kept; longer output is split. Bounds memory when a function writes
/// without newlines (CloudWatch's own event limit is 256 KB).
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// The log of one invocation: function output framed by the platform lines, newest last,
/// bounded to [`LOG_CAPACITY_BYTES`].
#[derive(Debug, Clone, Default)]
pub struct InvocationLog {
    lines: VecDeque<String>,
    bytes: usize,
    dropped: u64,
}

impl InvocationLog {
    /// Appends one line (without its trailing newline), evicting the oldest lines past the cap.
    pub fn push(&mut self, line: String) {
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.bytes > LOG_CAPACITY_BYTES && self.lines.len() > 1 {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len() + 1;
                self.dropped += 1;
            }
        }
    }

    /// Forgets everything (start of a new invocation).
    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
        self.dropped = 0;
    }

    /// Takes the kept lines by value, oldest first, leaving the log empty; its buffer is kept
    /// for the next invocation.
    pub fn drain(&mut self) -> impl Iterator<Item = String> + '_ {
        self.bytes = 0;
        self.lines.drain(..)
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(String::as_str)
    }

    /// How many lines were evicted because the log outgrew its cap.
    #[must_use]
    pub fn dropped_lines(&self) -> u64 {
        self.dropped
    }

    /// The whole kept log, each line ending in `\n`.
    #[must_use]
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.bytes);
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// The last `max_bytes` of the log (what `X-Amz-Log-Result` carries, base64-encoded by the
    /// caller, with `max_bytes` = 4096). Cut on a UTF-8 boundary.
    #[must_use]
    pub fn tail(&self, max_bytes: usize) -> String {
        let text = self.text();
        if text.len() <= max_bytes {
            return text;
        }
        let mut start = text.len() - max_bytes;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }
}

/// Splits a byte stream into lines, bounding the partial line it holds.
#[derive(Debug, Default)]
struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    fn feed(&mut self, mut chunk: &[u8], out: &mut impl FnMut(String)) {
        while let Some(nl) = chunk.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&chunk[..nl]);
            out(self.take());
            chunk = &chunk[nl + 1..];
        }
        for piece in chunk.chunks(MAX_LINE_BYTES) {
            let room = MAX_LINE_BYTES - self.partial.len();
            if piece.len() >= room {
                self.partial.extend_from_slice(&piece[..room]);
                out(self.take());
                self.partial.extend_from_slice(&piece[room..]);
            } else {
                self.partial.extend_from_slice(piece);
            }
        }
    }

    fn flush(&mut self, out: &mut impl FnMut(String)) {
        if !self.partial.is_empty() {
            out(self.take());
        }
    }

    fn take(&mut self) -> String {
        let mut bytes = std::mem::take(&mut self.partial);
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

/// The runtime's two output pipes. They are read only while an invocation (or the init that
/// precedes it) is in progress: between invocations a chatty runtime blocks on a full pipe, much
/// like a frozen Lambda sandbox, instead of growing our memory.
#[derive(Debug)]
pub(crate) struct OutputPump {
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    out_lines: LineSplitter,
    err_lines: LineSplitter,
    function: String,
    /// One read buffer for both pipes, kept on the heap: a buffer inside the `pump` future
    /// was zeroed and copied with it on every invocation.
    buf: Box<[u8]>,
    /// Which pipe the next `pump` polls first (they take turns).
    stderr_first: bool,
}

impl OutputPump {
    pub(crate) fn new(
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
        function: String,
    ) -> Self {
        Self {
            stdout,
            stderr,
            out_lines: LineSplitter::default(),
            err_lines: LineSplitter::default(),
            function,
            buf: vec![0u8; PIPE_READ_BYTES].into_boxed_slice(),
            stderr_first: false,
        }
    }

    /// Reads whatever output comes next into `log`. Cancel-safe (it only polls reads); once
    /// both pipes are closed it never completes, so it can sit in a `select!` arm.
    pub(crate) async fn pump(&mut self, log: &mut InvocationLog) {
        let Self {
            stdout,
            stderr,
            out_lines,
            err_lines,
            function,
            buf,
            stderr_first,
        } = self;
        let mut sink = |line: String| {
            tracing::debug!(target: "portico_sandbox::function", function = function.as_str(), "{line}");
            log.push(line);
        };
        // Poll one pipe, then the other, into the one buffer: whichever is ready first is
        // consumed before the other is touched, so they never need two buffers at once. The
        // first pipe alternates, so a runtime flooding one cannot starve the other.
        *stderr_first = !*stderr_first;
        let first_is_stdout = !*stderr_first;
        let (read, pipe_is_stdout) = std::future::poll_fn(|cx| {
            for is_stdout in [first_is_stdout, !first_is_stdout] {
                let polled = if is_stdout {
                    poll_read_opt(stdout, cx, buf)
                } else {
                    poll_read_opt(stderr, cx, buf)
                };
                if let Poll::Ready(r) = polled {
                    return Poll::Ready((r, is_stdout));
                }
            }
            Poll::Pending
        })
        .await;
        let lines = if pipe_is_stdout { out_lines } else { err_lines };
        match read {
            Some(n) if n > 0 => lines.feed(&buf[..n], &mut sink),
            _ => {
                if pipe_is_stdout {
                    *stdout = None;
                } else {
                    *stderr = None;
                }
                lines.flush(&mut sink);
            }
        }
    }

    /// Takes in what is already buffered in the pipes without waiting for more. Runtimes write
    /// their output before they post the response, so this attributes it to the right invocation.
    pub(crate) async fn drain_ready(&mut self, log: &mut InvocationLog) {
        // Bounded so that a runtime that writes continuously cannot hold the invoke here.
        for _ in 0..64 {
            if self.stdout.is_none() && self.stderr.is_none() {
                return;
            }
            if poll_once(self.pump(log)).await.is_none() {
                return;
            }
        }
    }
}

/// Polls a future exactly once. Unlike `timeout(Duration::ZERO, ..)` this never waits for the
/// timer wheel's 1 ms tick, which would otherwise be added to every invocation.
pub(crate) async fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Some(v)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// Bytes read from a pipe at a time.
const PIPE_READ_BYTES: usize = 8192;

/// Polls one read of an optional pipe: `Pending` for a closed (`None`) one, `Some(0)` or
/// `None` once it ends or fails.
fn poll_read_opt<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    cx: &mut std::task::Context<'_>,
    buf: &mut [u8],
) -> Poll<Option<usize>> {
    let Some(pipe) = pipe.as_mut() else {
        return Poll::Pending;
    };
    let mut read_buf = ReadBuf::new(buf);
    match std::pin::Pin::new(pipe).poll_read(cx, &mut read_buf) {
        Poll::Ready(Ok(())) => Poll::Ready(Some(read_buf.filled().len())),
        Poll::Ready(Err(_)) => Poll::Ready(None),
        Poll::Pending => Poll::Pending,
    }
}

/// Figures for the `REPORT` line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report {
    pub(crate) duration: Duration,
    pub(crate) memory_mb: u32,
    pub(crate) max_memory_used_mb: u64,
    pub(crate) init_duration: Option<Duration>,
    pub(crate) timed_out: bool,
}

/// `REPORT RequestId: {id}\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\t...`
pub(crate) fn report_line(request_id: &str, r: &Report) -> String {
    let ms = r.duration.as_secs_f64() * 1000.0;
    let billed = r.duration.as_micros().div_ceil(1000).max(1);
    let mut s = format!(
        "REPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        r.memory_mb, r.max_memory_used_mb
    );
    if let Some(init) = r.init_duration {
        let _ = write!(s, "Init Duration: {:.2} ms\t", init.as_secs_f64() * 1000.0);
    }
    if r.timed_out {
        s.push_str("Status: timeout");
    }
    s
}

/// Measures a runtime's peak resident memory (`VmHWM`) for the `REPORT` line, cheaply.
///
/// Generating `/proc/PID/status` costs the kernel several microseconds, more than the rest of a
/// warm invocation's bookkeeping, so it is not read every time. Each invocation reads the much
/// cheaper `statm` (current resident pages) from a file kept open; `status` is re-read only when
/// the resident size is above the last peak seen, or once [`STATUS_REFRESH`] has passed. The
/// figure is exact whenever memory grows; a peak that came and went inside one invocation shows
/// on a report within a second.
#[derive(Debug, Default)]
pub(crate) struct MemoryProbe {
    open: Option<ProbeFiles>,
}

#[derive(Debug)]
struct ProbeFiles {
    pid: u32,
    statm: std::fs::File,
    status: std::fs::File,
    peak_kb: u64,
    status_read_at: Option<std::time::Instant>,
    statm_read_at: Option<std::time::Instant>,
    /// The last answer, in MB.
    last_mb: u64,
}

/// How stale the `status` peak may get while resident memory does not grow.
const STATUS_REFRESH: Duration = Duration::from_secs(1);
/// How stale the resident size may get: invocations closer together than this share a reading.
const STATM_REFRESH: Duration = Duration::from_millis(5);

impl MemoryProbe {
    /// The peak resident memory of `pid` in MB, 0 if unknown.
    pub(crate) fn max_used_mb(&mut self, pid: Option<u32>) -> u64 {
        let Some(pid) = pid else { return 0 };
        if self.open.as_ref().is_none_or(|files| files.pid != pid) {
            self.open = ProbeFiles::open(pid);
        }
        let Some(files) = self.open.as_mut() else {
            return 0;
        };
        // Under load a `statm` read per invocation was a system call per request; the peak
        // changes slowly, so a figure at most STATM_REFRESH old is as good.
        let now = std::time::Instant::now();
        if files
            .statm_read_at
            .is_some_and(|at| now.saturating_duration_since(at) < STATM_REFRESH)
        {
            return files.last_mb;
        }
        files.statm_read_at = Some(now);
        let resident_kb = files.resident_kb().unwrap_or(0);
        let stale = files
            .status_read_at
            .is_none_or(|at| at.elapsed() >= STATUS_REFRESH);
        if (resident_kb > files.peak_kb || stale)
            && let Some(peak_kb) = files.status_peak_kb()
        {
            files.peak_kb = peak_kb;
            files.status_read_at = Some(std::time::Instant::now());
        }
        files.last_mb = files.peak_kb.max(resident_kb).div_ceil(1024);
        files.last_mb
    }
}

impl ProbeFiles {
    fn open(pid: u32) -> Option<Self> {
        Some(Self {
            pid,
            statm: std::fs::File::open(format!("/proc/{pid}/statm")).ok()?,
            status: std::fs::File::open(format!("/proc/{pid}/status")).ok()?,
            peak_kb: 0,
            status_read_at: None,
            statm_read_at: None,
            last_mb: 0,
        })
    }

    /// Resident size from `statm` (its second field, in pages).
    fn resident_kb(&self) -> Option<u64> {
        let mut buf = [0u8; 256];
        let n = std::os::unix::fs::FileExt::read_at(&self.statm, &mut buf, 0).ok()?;
        let pages: u64 = std::str::from_utf8(&buf[..n])
            .ok()?
            .split_ascii_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(pages * page_size_kb())
    }

    /// `VmHWM` from `status`, in one read: it sits well within the first 4 KB.
    fn status_peak_kb(&self) -> Option<u64> {
        let mut buf = [0u8; 4096];
        let n = std::os::unix::fs::FileExt::read_at(&self.status, &mut buf, 0).ok()?;
        parse_vm_hwm_kb(&String::from_utf8_lossy(&buf[..n]))
    }
}

fn parse_vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
}

fn page_size_kb() -> u64 {
    static PAGE_KB: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *PAGE_KB.get_or_init(|| {
        nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
            .ok()
            .flatten()
            .and_then(|b| u64::try_from(b).ok())
            .map_or(4, |b| (b / 1024).max(1))
    })
}

/// `YYYY/MM/DD` of now (UTC), for `AWS_LAMBDA_LOG_STREAM_NAME`.
pub(crate) fn utc_date_path(now: SystemTime) -> String {
    let days = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400);
    let (y, m, d) = civil_from_days(i64::try_from(days).unwrap_or(0));
    format!("{y:04}/{m:02}/{d:02}")
}

/// `2024-01-01T00:00:00.000Z`, the timestamp Lambda prefixes its own log lines with.
pub(crate) fn utc_timestamp(now: SystemTime) -> String {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3600,
        t / 60 % 60,
        t % 60,
        d.subsec_millis()
    )
}

/// Howard Hinnant's days-to-civil conversion (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut |l| out.push(l));
        }
        s.flush(&mut |l| out.push(l));
        out
    }

    #[test]
    fn lines_are_split_across_chunks_and_bounded() {
        assert_eq!(split(&[b"a\nb", b"c\r\nd"]), ["a", "bc", "d"]);
        let long = vec![b'x'; MAX_LINE_BYTES * 2 + 5];
        let lines = split(&[&long, b"\n"]);
        assert_eq!(
            lines.iter().map(String::len).collect::<Vec<_>>(),
            [MAX_LINE_BYTES, MAX_LINE_BYTES, 5]
        );
    }

    #[test]
    fn log_is_bounded_and_tail_cuts_on_char_boundary() {
        let mut log = InvocationLog::default();
        for i in 0..10_000 {
            log.push(format!("line {i}"));
        }
        assert!(log.text().len() <= LOG_CAPACITY_BYTES);
        assert!(log.dropped_lines() > 0);
        assert!(log.text().ends_with("line 9999\n"));
        let mut log = InvocationLog::default();
        log.push("ééé".to_owned());
        assert_eq!(log.tail(4), "é\n");
    }

    #[test]
    fn report_line_matches_aws_layout() {
        let r = Report {
            duration: Duration::from_micros(3_010),
            memory_mb: 128,
            max_memory_used_mb: 36,
            init_duration: Some(Duration::from_micros(110_100)),
            timed_out: false,
        };
        assert_eq!(
            report_line("abc", &r),
            "REPORT RequestId: abc\tDuration: 3.01 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\tInit Duration: 110.10 ms\t"
        );
        let r = Report {
            init_duration: None,
            timed_out: true,
            duration: Duration::from_secs(3),
            ..r
        };
        assert_eq!(
            report_line("abc", &r),
            "REPORT RequestId: abc\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 36 MB\tStatus: timeout"
        );
    }

    #[test]
    fn vm_hwm_is_read_from_status() {
        let status = "Name:\tnode\nVmPeak:\t  1000 kB\nVmHWM:\t   52344 kB\nVmRSS:\t 40000 kB\n";
        assert_eq!(parse_vm_hwm_kb(status), Some(52344));
        assert_eq!(parse_vm_hwm_kb("Name:\tnode\n"), None);
    }

    #[test]
    fn probe_reports_this_process_peak_and_follows_a_new_pid() {
        let mut probe = MemoryProbe::default();
        let me = std::process::id();
        let mb = probe.max_used_mb(Some(me));
        assert!(mb > 0, "a running process has resident memory");
        // A second reading never goes down.
        assert!(probe.max_used_mb(Some(me)) >= mb);
        assert_eq!(probe.max_used_mb(None), 0);
        // A pid that does not exist reads as unknown rather than failing.
        assert_eq!(probe.max_used_mb(Some(u32::MAX - 1)), 0);
    }

    #[test]
    fn probe_readings_closer_than_the_refresh_share_one_read() {
        let mut probe = MemoryProbe::default();
        let me = std::process::id();
        let before = probe.max_used_mb(Some(me));
        // Grow by 64 MB of touched memory (which may take longer than the refresh interval,
        // so the last read is dated now): an immediate reading is the cached one...
        let grown = vec![1u8; 64 * 1024 * 1024];
        probe.open.as_mut().unwrap().statm_read_at = Some(std::time::Instant::now());
        assert_eq!(probe.max_used_mb(Some(me)), before);
        // ...and one after the refresh interval sees the growth.
        std::thread::sleep(STATM_REFRESH + Duration::from_millis(1));
        let after = probe.max_used_mb(Some(me));
        assert!(after >= before + 60, "{before} MB then {after} MB");
        drop(grown);
    }

    #[tokio::test]
    async fn a_flooded_stdout_does_not_starve_stderr() {
        // 40 KB on stdout (five reads' worth) and one line on stderr, both written before the
        // pump starts reading.
        let mut child = tokio::process::Command::new("sh")
            .args([
                "-c",
                "head -c 40960 /dev/zero | tr '\\0' x; echo; echo err-line >&2; sleep 5",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut pump = OutputPump::new(child.stdout.take(), child.stderr.take(), "f".to_owned());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut log = InvocationLog::default();
        pump.pump(&mut log).await;
        pump.pump(&mut log).await;
        assert!(
            log.lines().any(|line| line == "err-line"),
            "stderr was read within two pumps"
        );
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date_path(UNIX_EPOCH), "1970/01/01");
        assert_eq!(
            utc_date_path(UNIX_EPOCH + Duration::from_secs(1_709_251_200)),
            "2024/03/01"
        );
        assert_eq!(
            utc_date_path(UNIX_EPOCH + Duration::from_secs(1_708_387_200)),
            "2024/02/20"
        );
        assert_eq!(
            utc_timestamp(UNIX_EPOCH + Duration::from_millis(1_708_387_261_042)),
            "2024-02-20T00:01:01.042Z"
        );
    }
}
