"""Resources: where the warehouse, landing zone, reports and config live, and the judge.

Every setting is optional. An empty field falls back to its ``EVAL_*`` environment variable, read when
the resource is used (never at import), and then to a default under the project's ``data/`` folder,
so the demo works from a fresh clone.
"""

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from eval_pipeline.lib import masking, warehouse
from eval_pipeline.lib.judging import runner as judges
from eval_pipeline.lib.config import Config, load_config

def _setting(value: str, env: str, default: str | Path | None) -> str | None:
    out = value or os.environ.get(env) or default
    return None if out is None else str(out)


class Warehouse(DuckDBResource):
    """The DuckDB warehouse (``EVAL_WAREHOUSE``, default ``data/warehouse.duckdb``).

    Unlike the stock DuckDBResource, a connection waits (up to ``lock_wait_s``) while another run
    holds DuckDB's single-writer lock, so a backfill running several days at once queues instead of
    failing, and the schema is created on first use.
    """

    database: str = ""
    masking_key: str = ""
    lock_wait_s: float = 600.0
    memory_limit: str = "2GB"

    def file(self) -> Path:
        return Path(_setting(self.database, "EVAL_WAREHOUSE", warehouse.data_dir() / "warehouse.duckdb"))

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

    def settings(self, config: Config, seed: str = "") -> judges.JudgeSettings:
        """The judges' settings from this resource and the ``judging`` section of the config."""
        model = self.resolved_model()
        api_base = _setting(self.api_base, "EVAL_JUDGE_API_BASE", None)
        j = config.judging
        priced = j.input_price_per_mtok > 0 or j.output_price_per_mtok > 0
        return judges.JudgeSettings(
            model=model, api_base=api_base, api_key=self._api_key(model, api_base),
            concurrency=j.concurrency, timeout_s=j.timeout_s, num_retries=j.num_retries,
            max_backoff_s=j.max_backoff_s, max_tokens=j.max_tokens,
            input_cost_per_token=j.input_price_per_mtok / 1e6 if priced else None,
            output_cost_per_token=j.output_price_per_mtok / 1e6 if priced else None,
            budget_usd=j.budget_usd or None, latency_slo_ms=j.latency_slo_ms,
            seed=f"{config.sampling.seed}/{seed}",
            custom=tuple(judges.GuidelineJudge(c.name, c.guideline, tuple(c.tools), c.status) for c in j.custom),
        )

    def score(self, records: Sequence[dict], names: Sequence[str], config: Config, *, seed: str = "",
              lookup=None) -> judges.JudgingRun:
        """Every named judge on every record; ``lookup`` returns cached judgements by key."""
        return judges.judge_records(list(records), list(names), self.settings(config, seed), lookup=lookup)
