"""The Dagster instance the project's runs use, and what keeps one dead run from wedging the others.

- ``ensure_dagster_home``: ``$DAGSTER_HOME`` when set, else a folder beside the warehouse; its ``dagster.yaml``
  (written when missing) turns on run monitoring, and the storage is created under a file lock, so several
  processes starting on a fresh home at once do not race on Dagster's schema set-up.
- ``free_stale_claims``: a concurrency-pool claim held by a run that has finished, or whose process is gone
  (killed with ``kill -9``, out of memory), is freed and that run marked failed, with a message saying so.
- ``RunGuard``: what the warehouse resource does in each run's own process: frees stale claims, tags the
  run with its process (so a later run can tell when it died), and turns a SIGTERM or Ctrl-C that Dagster
  would hold back while the run waits for a pool slot into a prompt stop (which releases the run's claims).
"""

import contextlib
import json
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg

# Runs of the CLI, of `dagster job execute` and of `dg dev` share this instance. A pool of one step at a time
# keeps concurrent runs from queueing on DuckDB's single-writer lock. Run monitoring (run by the daemon that
# `dg dev` / `dagster-daemon run` start) fails runs stuck starting, canceling or running past 6 hours and frees
# the pool slots of ended runs after a minute.
DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_runtime_seconds: 21600
  max_resume_run_attempts: 0
  poll_interval_seconds: 60
  free_slots_after_run_end_seconds: 60
"""
# Dagster's sqlite storage in the layout of `storage: sqlite`, keeping one SQLAlchemy engine per file and process
# (instance_storage.py): about 2 s less CPU per run of daily_eval (bench/dagster_floor.py).
STORAGE_YAML = """\
run_storage:
  module: eval_pipeline.instance_storage
  class: EngineCachingSqliteRunStorage
  config:
    base_dir: {history}
event_log_storage:
  module: eval_pipeline.instance_storage
  class: EngineCachingSqliteEventLogStorage
  config:
    base_dir: {runs}
"""


def dagster_yaml(home: Path) -> str:
    """The dagster.yaml the project writes into ``home`` (the storage paths are absolute: a moved home needs them
    edited, as with Dagster's own ``storage: sqlite: base_dir``)."""
    return DAGSTER_YAML + STORAGE_YAML.format(history=json.dumps(str(home / "history")),
                                              runs=json.dumps(str(home / "history" / "runs")))

POOL = "warehouse"
# Tags naming the process that executes a run (the run worker): a later run reads them to tell a dead run.
HOST_TAG, PID_TAG = "eval/host", "eval/pid"
_STARTED_PROCESS = "Started process for run (pid: "
# Set when a guard turned a held-back interrupt into a stop, so the caller does not go on to the next run.
_INTERRUPT_SEEN = threading.Event()


def interrupt_seen() -> bool:
    return _INTERRUPT_SEEN.is_set()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    import fcntl

    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def ensure_dagster_home(default: Path) -> Path:
    """Use ``$DAGSTER_HOME``, else ``default``; write the project's dagster.yaml if the folder has none, and
    create the instance's storage, both under a file lock. Sets ``DAGSTER_HOME`` for this process."""
    home = Path(os.environ.get("DAGSTER_HOME") or default).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    with _file_lock(home / ".eval_pipeline.lock"):
        cfg = home / "dagster.yaml"
        if not cfg.exists():
            tmp = cfg.with_name(f".dagster.yaml.{os.getpid()}.tmp")
            tmp.write_text(dagster_yaml(home))
            tmp.replace(cfg)
        with dg.DagsterInstance.get() as instance:
            instance.get_runs(limit=1)
            instance.event_log_storage.get_concurrency_keys()
    return home


def this_process_tags() -> dict[str, str]:
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _process_start(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), None when it does not exist (or is a zombie); on a system
    without /proc, 0.0 for any live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                if line.startswith("btime"))
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def _started_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid in the run worker's start event (runs launched by a run launcher: the UI, the daemon)."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if entry.message and entry.message.startswith(_STARTED_PROCESS):
            return int(entry.message[len(_STARTED_PROCESS):].split(")")[0])
    return None


def _worker_pid(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int | None:
    """The pid of the process executing ``run`` on this host, when known: the run worker's start event (only for
    the default run launcher, whose workers run on this host), else the run's tags (runs executed in the
    launching process: `eval-pipeline run`, `dagster job execute`)."""
    from dagster._core.launcher import DefaultRunLauncher

    if isinstance(instance.run_launcher, DefaultRunLauncher) and (pid := _started_pid(instance, run.run_id)):
        return pid
    if run.tags.get(HOST_TAG) == socket.gethostname() and run.tags.get(PID_TAG, "").isdigit():
        return int(run.tags[PID_TAG])
    return None


def _dead(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """Why ``run`` (in progress by its status) is dead, or None when it may be alive."""
    if run.status != dg.DagsterRunStatus.STARTED:
        return None
    pid = _worker_pid(instance, run)
    if pid is None:
        return None
    started = _process_start(pid)
    if started is None:
        return f"its process {pid} is gone"
    record = instance.get_run_record_by_id(run.run_id)
    run_start = record.start_time if record else None
    if run_start and started > run_start + 5:  # the pid was reused by a process that started after the run
        return f"its process {pid} is gone (the pid now belongs to a newer process)"
    return None


def free_stale_claims(instance: dg.DagsterInstance, say: Callable[[str], None]) -> list[str]:
    """Free the pool claims of runs that finished or whose process is gone (marking the latter failed);
    ``say`` each one. Returns the run ids freed."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    freed = []
    for run_id in sorted(storage.get_concurrency_run_ids()):
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            why = _dead(instance, run)
            if why is None:
                continue
            instance.report_run_failed(run, f"Marked failed by a later run: {why}, so it can never finish; "
                                            "its concurrency pool slots were freed.")
        else:
            why = f"it has ended ({run.status.value})" if run is not None else "the run no longer exists"
        storage.free_concurrency_slots_for_run(run_id)
        freed.append(run_id)
        say(f"Freed the concurrency pool slots held by run {run_id}: {why}.")
    return freed


class RunGuard:
    """Guards one run from inside its process (see the module's docstring). ``start`` and ``stop`` bracket the
    run; only the main thread of a run's own process (not a step subprocess) installs the interrupt relay."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: object = None

    def start(self, instance: dg.DagsterInstance, run: dg.DagsterRun | None, say: Callable[[str], None]) -> None:
        free_stale_claims(instance, say)
        if run is None or not self._in_run_process(instance, run):
            return
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGUSR1, self._raise_interrupt)
            self._thread = threading.Thread(target=self._relay, name="eval-run-guard", daemon=True)
            self._thread.start()

    @staticmethod
    def _in_run_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
        """Whether this is the process executing the run (not a step subprocess of a multiprocess executor);
        a run executed where it was launched (no run worker start event) is tagged with this process."""
        import multiprocessing

        worker = _started_pid(instance, run.run_id)
        if worker is not None:
            return worker == os.getpid()
        if multiprocessing.parent_process() is not None:
            return False
        if PID_TAG not in run.tags:
            instance.add_run_tags(run.run_id, this_process_tags())
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            signal.signal(signal.SIGUSR1, self._previous)  # type: ignore[arg-type]
            self._thread = None

    def _raise_interrupt(self, _signo: int, _frame: object) -> None:
        raise KeyboardInterrupt

    def _relay(self) -> None:
        """Dagster holds a SIGINT / SIGTERM back until the next step starts; a run waiting for a pool slot would
        wait (holding its place) until then. Seeing one held back, interrupt the main thread now."""
        from dagster._utils.interrupts import check_captured_interrupt

        while not self._stop.wait(0.2):
            if check_captured_interrupt():
                _INTERRUPT_SEEN.set()
                os.kill(os.getpid(), signal.SIGUSR1)
                return
