"""Where a run's records live, and how each run starts from the same seeded records.

Seeding goes through `affhost serve` (fixtures) and can take minutes at a million records, so a
seeded store is kept in the work directory as a pristine copy together with the parameters that
made it; every run (each of --repeat's, and a rerun with --workdir) measures a fresh copy, never a
store an earlier run already changed.
"""

import json
import os
import shutil

import postgres


class SQLiteFiles:
    """`sqlite:` stores: the seeded file is copied (with its WAL) for each run."""

    kind = "sqlite"

    def __init__(self, workdir):
        self.workdir = workdir
        self.seed_folder = os.path.join(workdir, "seed")
        self.marker = os.path.join(self.seed_folder, "parameters.json")

    def pristine(self, fingerprint):
        return _marker_matches(self.marker, fingerprint)

    def begin_seeding(self):
        shutil.rmtree(self.seed_folder, ignore_errors=True)
        os.makedirs(self.seed_folder)
        return "sqlite:seed/affhost.sqlite"

    def end_seeding(self, fingerprint):
        _write_marker(self.marker, fingerprint)

    def fresh(self):
        run = os.path.join(self.workdir, "run")
        shutil.rmtree(run, ignore_errors=True)
        os.makedirs(run)
        for suffix in ("", "-wal", "-shm"):
            source = os.path.join(self.seed_folder, "affhost.sqlite" + suffix)
            if os.path.exists(source):
                shutil.copyfile(source, os.path.join(run, "affhost.sqlite" + suffix))
        return "sqlite:run/affhost.sqlite"

    def close(self):
        pass


class PostgresCluster:
    """`--store postgres` without a URL: a throwaway cluster whose seeded data folder is copied
    for each run."""

    kind = "postgres"

    def __init__(self, workdir):
        self.cluster = postgres.Cluster(os.path.join(workdir, "pg"))
        self.marker = os.path.join(workdir, "pg", "parameters.json")
        self.running = None

    def pristine(self, fingerprint):
        return self.cluster.exists("seed") and _marker_matches(self.marker, fingerprint)

    def begin_seeding(self):
        shutil.rmtree(self.cluster.folder, ignore_errors=True)
        self.cluster.create("seed")
        self.running = "seed"
        return self.cluster.start("seed")

    def end_seeding(self, fingerprint):
        self.cluster.stop("seed")
        self.running = None
        _write_marker(self.marker, fingerprint)

    def fresh(self):
        # With --repeat, the previous run's cluster still runs on the folder about to be replaced.
        self.close()
        self.cluster.copy("seed", "run")
        self.running = "run"
        return self.cluster.start("run")

    def close(self):
        if self.running:
            self.cluster.stop(self.running)
            self.running = None


class PostgresURL:
    """`--postgres-url`: a database the operator provides; it cannot be copied, so it is seeded
    by every run and must start empty (fixtures never overwrite stored records)."""

    kind = "postgres"

    def __init__(self, url):
        self.url = url

    def pristine(self, fingerprint):
        return False

    def begin_seeding(self):
        return self.url

    def end_seeding(self, fingerprint):
        pass

    def fresh(self):
        return self.url

    def close(self):
        pass


def _marker_matches(path, fingerprint):
    if not os.path.exists(path):
        return False
    with open(path) as existing:
        return json.load(existing) == fingerprint


def _write_marker(path, fingerprint):
    with open(path, "w") as out:
        out.write(json.dumps(fingerprint))
