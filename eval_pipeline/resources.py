"""Resources: where the warehouse, landing zone, reports and config live, and the judge.

Every setting is optional. An empty field falls back to its ``EVAL_*`` environment variable, read when
the resource is used (never at import), and then to a default under the project's ``data/`` folder,
so the demo works from a fresh clone.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from eval_pipeline import instance as run_instance
from eval_pipeline.lib import judging, masking, warehouse
from eval_pipeline.lib.config import Config, load_config


def _setting(value: str, env: str, default: str | Path | None) -> str | None:
    out = value or os.environ.get(env) or default
    return None if out is None else str(out)


class Warehouse(DuckDBResource):
    """The DuckDB warehouse (``EVAL_WAREHOUSE``, default ``data/warehouse.duckdb``).

    Unlike the stock DuckDBResource, a connection waits (up to ``lock_wait_s``) while another run
    holds DuckDB's single-writer lock, so a backfill running several days at once queues instead of
    failing, and the schema is created on first use. In a run, it also guards the run
    (``eval_pipeline.instance.RunGuard``): pool slots of dead or ended runs are freed first, and a SIGTERM or
    Ctrl-C stops the run promptly, also while it waits for the ``warehouse`` pool.
    """

    database: str = ""
    masking_key: str = ""
    lock_wait_s: float = 600.0
    memory_limit: str = "2GB"

    _guard: run_instance.RunGuard | None = PrivateAttr(default=None)

    def file(self) -> Path:
        return Path(_setting(self.database, "EVAL_WAREHOUSE", warehouse.data_dir() / "warehouse.duckdb"))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if context.instance is None:
            return
        self._guard = run_instance.RunGuard()
        self._guard.start(context.instance, context.run, context.log.warning if context.log else print)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._guard is not None:
            self._guard.stop()

    @contextmanager
    def get_connection(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with warehouse.connect(self.file(), read_only=read_only, wait_s=self.lock_wait_s,
                               memory_limit=self.memory_limit) as con:
            yield con

    def key(self) -> bytes:
        """The masking key: ``EVAL_MASKING_KEY``, else a generated key stored next to the warehouse."""
        explicit = _setting(self.masking_key, "EVAL_MASKING_KEY", None)
        f = self.file()
        return masking.load_or_create_key(explicit, f.with_name(f.name + ".masking.key"))


class LandingZone(dg.ConfigurableResource):
    """Where trace files land (``EVAL_LANDING_DIR``, default ``data/landing``)."""

    path: str = ""

    def dir(self) -> Path:
        return Path(_setting(self.path, "EVAL_LANDING_DIR", warehouse.data_dir() / "landing"))


class Settings(dg.ConfigurableResource):
    """The YAML config (``EVAL_CONFIG``, default: built-in defaults) and the reports folder
    (``EVAL_REPORTS_DIR``, default ``data/reports``)."""

    config_path: str = ""
    reports_path: str = ""

    def config(self) -> Config:
        return load_config(_setting(self.config_path, "EVAL_CONFIG", None))

    def reports_dir(self) -> Path:
        return Path(_setting(self.reports_path, "EVAL_REPORTS_DIR", warehouse.data_dir() / "reports"))


class Judge(dg.ConfigurableResource):
    """LLM judges through litellm (``EVAL_JUDGE_MODEL``, ``EVAL_JUDGE_API_BASE``); without a model the
    LLM judges answer ``unknown`` ("no judge model configured") and the code judges still run."""

    model: str = ""
    api_base: str = ""
    api_key: str = ""

    def resolved_model(self) -> str | None:
        return _setting(self.model, "EVAL_JUDGE_MODEL", None)

    def _api_key(self, model: str | None, api_base: str | None) -> str | None:
        """``EVAL_JUDGE_API_KEY``, else litellm's own provider variables; a local OpenAI-compatible
        server (vLLM, Ollama) needs no key, but the OpenAI client refuses to send without one."""
        key = _setting(self.api_key, "EVAL_JUDGE_API_KEY", None)
        if key is None and api_base and (model or "").startswith("openai/") and not os.environ.get("OPENAI_API_KEY"):
            key = "no-key-needed"
        return key

    def endpoint(self) -> judging.Endpoint:
        """Where the LLM judges are served: the fields, else ``EVAL_JUDGE_MODEL``, ``EVAL_JUDGE_API_BASE``,
        ``EVAL_JUDGE_API_KEY``; the rest of the judges' settings comes from the config (``judging``)."""
        model = self.resolved_model()
        api_base = _setting(self.api_base, "EVAL_JUDGE_API_BASE", None)
        return judging.Endpoint(model=model, api_base=api_base, api_key=self._api_key(model, api_base))
