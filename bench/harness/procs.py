"""Processes the bench starts: each in its own process group, measured through /proc, and all
stopped at the end (normal exit, an error, Ctrl-C or SIGTERM alike).

Runtimes that a target starts may leave its process group (Portico's sandboxes get groups of
their own), so stopping walks the whole process tree by parent pid, not just the group.
"""

import http.client
import os
import signal
import socket
import subprocess
import threading
import time


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _parent_map():
    """pid -> parent pid for every process readable in /proc."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        rest = stat.rsplit(")", 1)[-1].split()
        if len(rest) >= 2 and rest[1].isdigit():
            parents[int(name)] = int(rest[1])
    return parents


def process_tree(root):
    """root and all its living descendants, root first."""
    parents = _parent_map()
    children = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in parents or pid == root:
            tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_kib(pid):
    """VmRSS of one process in KiB, or 0 if it is gone (or a zombie, which has none)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_kib(root):
    """(whole tree, root alone) resident memory in KiB."""
    tree = process_tree(root)
    return sum(rss_kib(pid) for pid in tree), rss_kib(root)


class RssSampler:
    """Peak resident memory of a process tree while load runs, sampled every `interval` s.

    Sampling during the run, not after it, matters: a target may stop its runtimes as soon as
    the load ends, and memory is what it holds while it serves.
    """

    def __init__(self, root, interval=0.25):
        self.root = root
        self.interval = interval
        self.peak_tree_kib = 0
        self.peak_main_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        tree, main = tree_rss_kib(self.root)
        self.peak_tree_kib = max(self.peak_tree_kib, tree)
        self.peak_main_kib = max(self.peak_main_kib, main)

    def _run(self):
        self._sample()
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        return False


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


class Registry:
    """Every process the bench started; stop_all() ends them and their descendants."""

    def __init__(self):
        self._procs = []

    def start(self, argv, log_path, env=None, cwd=None):
        log = open(log_path, "ab")
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,  # its own group: Ctrl-C reaches us, and we stop it
            )
        finally:
            log.close()
        self._procs.append(proc)
        return proc

    def adopt(self, proc):
        """Track a process started elsewhere (with start_new_session=True)."""
        self._procs.append(proc)

    def forget(self, proc):
        """Stop tracking a process that has ended on its own."""
        if proc in self._procs:
            self._procs.remove(proc)

    def stop(self, proc, grace=5.0):
        """SIGTERM to the group, then to strays of the tree; SIGKILL whatever outlives grace."""
        if proc not in self._procs:
            return
        self._procs.remove(proc)
        tree = [pid for pid in process_tree(proc.pid) if pid != proc.pid]
        own_group = os.getpgrp()
        self._signal_group(proc.pid, signal.SIGTERM, own_group)
        deadline = time.monotonic() + grace
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._signal_group(proc.pid, signal.SIGKILL, own_group)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        # Descendants that moved to groups of their own, or were orphaned by the root's exit.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            strays = [pid for pid in tree if _alive(pid)]
            if not strays:
                return
            for pid in strays:
                self._signal_group(pid, sig, own_group)
            end = time.monotonic() + (1.0 if sig == signal.SIGTERM else 0.5)
            while time.monotonic() < end and any(_alive(pid) for pid in strays):
                time.sleep(0.05)

    @staticmethod
    def _signal_group(pid, sig, own_group):
        """Signal pid's group, unless it is the bench's own group (then pid alone)."""
        try:
            group = os.getpgid(pid)
        except ProcessLookupError:
            return
        try:
            if group != own_group:
                os.killpg(group, sig)
            else:
                os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def stop_all(self):
        for proc in list(reversed(self._procs)):
            self.stop(proc)


def wait_http(host, port, path, deadline_s, proc=None, since=None, accept=None):
    """Poll GET path until an HTTP answer (returns seconds since `since`, status) or the deadline.

    `accept(status)` decides which answers count (default: any). Raises RuntimeError if the
    process exits first or the deadline passes.
    """
    start = time.perf_counter() if since is None else since
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"exited with status {proc.returncode} before answering")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if accept is None or accept(resp.status):
                return time.perf_counter() - start, resp.status
        except (OSError, http.client.HTTPException):
            pass
        if time.perf_counter() - start > deadline_s:
            raise RuntimeError(f"no answer on {host}:{port}{path} within {deadline_s:.0f} s")
        time.sleep(0.002)
