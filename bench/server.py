"""The affhost server under test: started from the release binary, watched, stopped cleanly."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


class BenchFailure(Exception):
    """Something the run cannot go on from; its message says what and where to look."""


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, binary, config, workdir, log_path, port, arguments=()):
        self.binary = binary
        self.arguments = list(arguments)
        self.config = config
        self.workdir = workdir
        self.log_path = log_path
        self.port = port
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout):
        """Starts `affhost serve` and returns the seconds until /healthz answered (fixtures
        are loaded before the listener opens, so this is also the seeding time)."""
        log = open(self.log_path, "ab")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [self.binary, "serve", "--config", self.config] + self.arguments,
            cwd=self.workdir, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailure(
                    f"affhost serve exited with status {self.process.returncode} before serving; see {self.log_path}"
                )
            if self.healthy():
                return time.monotonic() - started
            time.sleep(0.05)
        self.stop()
        raise BenchFailure(f"affhost serve did not answer /healthz within {timeout} s; see {self.log_path}")

    def healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                return answer.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def memory_kib(self):
        """VmRSS, VmHWM (the peak), and RssAnon/RssFile (heap versus mapped file pages, such
        as SQLite's memory map) of the server process, in KiB."""
        values = {}
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                name, _, rest = line.partition(":")
                if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    values[name] = int(rest.split()[0])
        return values

    def cpu_seconds(self):
        """User plus system CPU time the server has used so far: divided by the requests of a
        scenario it gives a cost per request that other load on the machine skews far less than
        req/s or latency."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout=120):
        """SIGTERM, as systemd stops it; a server that does not exit in time is killed and
        reported."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise BenchFailure(f"affhost serve did not stop within {timeout} s of SIGTERM; see {self.log_path}")
        if code != 0:
            raise BenchFailure(f"affhost serve exited with status {code} after SIGTERM; see {self.log_path}")

    def kill(self):
        """Last resort when the run itself failed: the process must not outlive the script."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
