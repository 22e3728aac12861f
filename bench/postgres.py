"""A throwaway PostgreSQL cluster in the work directory, for `bench/run --store postgres`.

Built from the installed `initdb` and `pg_ctl` (the script installs nothing), listening on a free
loopback port and on a socket in its own folder, with PostgreSQL's default durability (fsync on):
the store is compared with SQLite at the same promise, an acknowledged write survives a crash.
Like the SQLite file, the seeded data folder is kept as a pristine copy that each run starts from.
"""

import glob
import os
import shutil
import subprocess

from server import BenchFailure, free_port


def binaries():
    """The folder holding initdb and pg_ctl: the newest Debian version, else PATH; or None."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda f: int(f.split("/")[-2]), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return folder
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return os.path.dirname(initdb)
    return None


class Cluster:
    def __init__(self, folder):
        self.bin = binaries()
        if self.bin is None:
            raise BenchFailure("--store postgres: initdb/pg_ctl not found (apt-get install postgresql), "
                               "or pass --postgres-url of an empty database")
        self.folder = os.path.abspath(folder)
        self.port = None

    def data(self, name):
        return os.path.join(self.folder, name)

    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program, *arguments):
        command = [os.path.join(self.bin, program), *arguments]
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(command, capture_output=True, text=True)
        if completed.returncode != 0:
            raise BenchFailure(f"{program} failed:\n{completed.stdout}{completed.stderr}")

    def _own(self, path):
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", path], check=True)

    def _check_reachable(self):
        """As root the cluster runs as user postgres, which must be able to reach its folder:
        say which folder is in the way rather than leave initdb's "Permission denied"."""
        if os.geteuid() != 0:
            return
        reachable = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", self.folder])
        if reachable.returncode != 0:
            raise BenchFailure(
                f"user postgres cannot reach {self.folder}: a folder above it is not searchable by others "
                "(chmod o+x it, or give --workdir a folder under one that is, such as /tmp)"
            )

    def create(self, name):
        os.makedirs(self.folder, exist_ok=True)
        self._own(self.folder)
        self._check_reachable()
        self._run("initdb", "-D", self.data(name), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")

    def copy(self, source, target):
        shutil.rmtree(self.data(target), ignore_errors=True)
        subprocess.run(["cp", "-a", self.data(source), self.data(target)], check=True)

    def exists(self, name):
        return os.path.exists(os.path.join(self.data(name), "PG_VERSION"))

    def start(self, name):
        self.port = free_port()
        options = f"-p {self.port} -k {self.folder} -h 127.0.0.1 -N 200"
        self._run("pg_ctl", "-D", self.data(name), "-l", os.path.join(self.folder, f"{name}.log"), "-w", "-t", "120",
                  "-o", options, "start")
        return self.url()

    def stop(self, name):
        if os.path.exists(os.path.join(self.data(name), "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data(name), "-m", "fast", "-w", "stop")
