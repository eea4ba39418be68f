"""The ``eval-pipeline`` command: ``demo`` (sample traffic through the whole chain), ``generate``, ``run``,
``export`` (the dev-eval dataset as JSONL and Parquet files) and ``receive`` (an OTLP/HTTP receiver)."""

import argparse
import datetime as dt
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from eval_pipeline.lib.check_results import CheckOutcome
from eval_pipeline.lib.first_day import DEFAULT_FIRST_DAY
from eval_pipeline.lib.receiver import command as receive_command


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        msg = f"{s!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-20."
        raise argparse.ArgumentTypeError(msg) from None


class SetupError(Exception):
    """What stops a run before any step starts: printed as one line, exit status 2."""


def ensure_dagster_home() -> Path:
    """``$DAGSTER_HOME``, else ``<warehouse>.dagster_home`` beside the warehouse file (so each warehouse keeps its
    own run history), with the project's dagster.yaml (run monitoring on) and its storage created."""
    from eval_pipeline import instance
    from eval_pipeline.resources import Warehouse

    wh = Warehouse().file()
    return instance.ensure_dagster_home(wh.with_name(wh.name + ".dagster_home"))


def check_setup(*, create_default_landing: bool = False) -> None:
    """Validate, before any step runs, what a run would otherwise find out halfway: the YAML config (unknown
    keys, wrong types) and the landing folder."""
    from eval_pipeline.resources import LandingZone, Settings

    try:
        Settings().config()
    except (ValueError, FileNotFoundError) as exc:
        msg = f"The config is not valid: {exc} (EVAL_CONFIG={os.environ.get('EVAL_CONFIG')})"
        raise SetupError(msg) from None
    landing = LandingZone().dir()
    if landing.is_dir():
        return
    if create_default_landing and not os.environ.get("EVAL_LANDING_DIR"):
        landing.mkdir(parents=True, exist_ok=True)
        return
    where = "EVAL_LANDING_DIR" if os.environ.get("EVAL_LANDING_DIR") else "the default landing folder; set EVAL_LANDING_DIR"
    msg = (f"The landing folder {landing} does not exist ({where}); point EVAL_LANDING_DIR at the folder your "
           "trace files land in, or create it.")
    raise SetupError(msg)


def check_days(days: list[dt.date]) -> None:
    from eval_pipeline.defs.partitions import partition_range

    first, last = partition_range()
    outside = [d for d in (days[0], days[-1]) if not first <= d <= last]
    if outside:
        hint = "; set EVAL_FIRST_DAY to start them earlier" if outside[0] < first else ""
        msg = f"{outside[0]} is not a daily_eval partition: the days run from {first} to {last} (today, UTC){hint}."
        raise SetupError(msg)


# Step-by-step engine events stay in the run's event log (the UI); the terminal gets INFO and up.
_QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
_INTERRUPTED = {"DagsterExecutionInterruptedError", "KeyboardInterrupt"}


@dataclass
class DayOutcome:
    """One day's run: whether it succeeded, and its checks that did not pass."""

    day: dt.date
    run_ok: bool
    run_id: str
    checks: list[CheckOutcome]  # those that did not pass
    lines: list[str] = field(default_factory=list)  # their summary lines
    failed_steps: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.run_ok and not any(o.status == "failed" for o in self.checks)


def run_days(days: list[dt.date]) -> list[DayOutcome]:
    """Run the daily_eval job for each day, in order, on the persistent Dagster instance; stops at an
    interrupt (KeyboardInterrupt). Each day's checks that did not pass are read back from the run."""
    import dagster as dg

    from eval_pipeline import instance as run_instance
    from eval_pipeline.definitions import defs
    from eval_pipeline.defs.dashboards.checks import run_check_outcomes
    from eval_pipeline.lib.check_results import summary_line

    job = defs().resolve_job_def("daily_eval")
    graph = job.asset_layer.asset_graph
    outcomes = []
    with dg.DagsterInstance.get() as instance:
        for day in days:
            run_instance.free_stale_claims(instance, print)
            t0 = time.monotonic()
            result = job.execute_in_process(partition_key=day.isoformat(), instance=instance, raise_on_error=False,
                                            run_config=_QUIET, tags=run_instance.this_process_tags())
            failures = result.get_step_failure_events()
            if any(e.step_failure_data.error and e.step_failure_data.error.cls_name in _INTERRUPTED
                   for e in failures) or run_instance.interrupt_seen():
                raise KeyboardInterrupt
            checks = sorted((o for o in run_check_outcomes(instance, result.run_id, current=False).values()
                             if o.passed is not True), key=lambda o: (o.status != "failed", o.asset, o.check))
            lines = [summary_line(o, graph.get_check_spec(dg.AssetCheckKey(dg.AssetKey(o.asset), o.check)).description)
                     for o in checks if o.passed is False]
            if unrun := sum(1 for o in checks if o.passed is None):
                lines.append(f"NO RESULT {unrun} check(s): they raised or did not run (a step before them failed)")
            out = DayOutcome(day, result.success, result.run_id, checks, lines,
                             [e.step_key for e in failures if e.step_key])
            state = "ok" if out.ok else ("FAILED" if not out.run_ok else "ERROR CHECK FAILED")
            print(f"daily_eval {day}: {state} in {time.monotonic() - t0:.1f} s (run {result.run_id[:8]})")
            outcomes.append(out)
    return outcomes


def report_outcomes(outcomes: list[DayOutcome]) -> int:
    """The closing summary: every check that did not pass (errors, then warnings), then one verdict line.
    Returns the exit status: 0 when every run succeeded and no ERROR check failed, else 1."""
    listed = [(o.day, line) for o in outcomes for line in o.lines]
    if listed:
        print("\nChecks that did not pass:")
        for day, line in listed:
            print(f"  {day}  {line}")
    bad = [o for o in outcomes if not o.ok]
    warnings = sum(1 for o in outcomes for c in o.checks if c.status == "warning")
    if not bad:
        print(f"\nOK: {len(outcomes)} day(s) ran, no ERROR check failed ({warnings} warning(s)).")
        return 0
    why = []
    for o in bad:
        if not o.run_ok:
            why.append(f"{o.day} run {o.run_id[:8]} failed" + (f" in {', '.join(o.failed_steps)}" if o.failed_steps else ""))
        else:
            why.append(f"{o.day} " + ", ".join(c.check for c in o.checks if c.status == "failed"))
    print(f"\nFAILED: {len(bad)} of {len(outcomes)} day(s): {'; '.join(why)}.")
    return 1


def _summary(days: list[dt.date]) -> None:
    from eval_pipeline.resources import Warehouse
    wh = Warehouse()
    with wh.get_connection(read_only=True) as con:
        print(f"\nWarehouse: {wh.file()}")
        for table in ("raw_traces", "spans", "masked_traces", "eval_dataset", "judge_scores", "daily_metrics"):
            n = con.execute(f"SELECT count(*) FROM {table} WHERE trace_date BETWEEN $a AND $b",  # noqa: S608
                            {"a": days[0], "b": days[-1]}).fetchall()[0][0]
            print(f"  {table:<15} {n:>7} rows")
        q = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
        print(f"  {'quarantine':<15} {q:>7} rows (bad input kept aside with its reason)")
        print("\nDaily metrics (masked data only):")
        rows = con.execute(
            "SELECT trace_date, traces, round(error_rate, 3), round(latency_p50_ms), round(latency_p95_ms), "
            "quarantined, dataset_records FROM daily_metrics WHERE trace_date BETWEEN $a AND $b ORDER BY 1",
            {"a": days[0], "b": days[-1]}).fetchall()
        print("  day         traces  error_rate  p50_ms  p95_ms  quarantined  dataset")
        for d, n, e, p50, p95, q, r in rows:
            print(f"  {d}  {n:>6}  {e:>10}  {p50:>6}  {p95:>6}  {q:>11}  {r:>7}")
        print("\nJudge results:")
        for d, j, p, f, u in con.execute(
            "SELECT trace_date, judge, passed, failed, unknown FROM daily_judge_results "
            "WHERE trace_date BETWEEN $a AND $b ORDER BY 1, 2", {"a": days[0], "b": days[-1]}).fetchall():
            print(f"  {d}  {j:<20} pass {p:>4}  fail {f:>4}  unknown {u:>4}")


def cmd_demo(args: argparse.Namespace) -> int:
    from eval_pipeline import synthetic
    from eval_pipeline.resources import LandingZone, Settings

    check_setup(create_default_landing=True)
    home = ensure_dagster_home()
    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    days = [end - dt.timedelta(days=i) for i in range(args.days - 1, -1, -1)]
    check_days(days)
    sample = LandingZone().dir() / f"sample-{days[0]}"
    if not sample.exists():
        summary = synthetic.generate(sample, days[0], args.days, sessions_per_day=args.sessions, seed=args.seed)
        print(f"Generated sample traffic for {days[0]}..{days[-1]} in {sample}: {summary}")
    else:
        print(f"Sample traffic for {days[0]}..{days[-1]} already in {sample}")
    outcomes = run_days(days)
    if any(o.run_ok for o in outcomes):
        _summary(days)
    reports = Settings().reports_dir()
    print(f"\nDagster instance: {home}\nOpen the UI with:  DAGSTER_HOME={home} .venv/bin/dg dev")
    print(f"Report of {days[-1]}: {reports / 'daily' / f'{days[-1]}.html'}\nAll days: {reports / 'index.html'}")
    return report_outcomes(outcomes)


def cmd_generate(args: argparse.Namespace) -> int:
    from eval_pipeline import synthetic

    summary = synthetic.generate(Path(args.out), args.start, args.days, sessions_per_day=args.sessions,
                                 seed=args.seed, malformed=not args.no_malformed)
    print(summary)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    end = args.end or args.start
    days = [args.start + dt.timedelta(days=i) for i in range((end - args.start).days + 1)]
    if not days:
        print("The end day is before the start day; nothing to run.", file=sys.stderr)
        return 2
    check_setup()
    check_days(days)
    ensure_dagster_home()
    if args.force:
        from eval_pipeline.lib.fingerprints import FORCE_ENV
        os.environ[FORCE_ENV] = "1"
    return report_outcomes(run_days(days))


def cmd_export(args: argparse.Namespace) -> int:
    from eval_pipeline.lib import export
    from eval_pipeline.resources import Settings, Warehouse

    wh = Warehouse()
    if not wh.file().is_file():
        print(f"The warehouse {wh.file()} does not exist; set EVAL_WAREHOUSE or run the pipeline first.",
              file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Settings().reports_dir() / "datasets"
    formats = ("jsonl", "parquet") if args.format == "both" else (args.format,)
    try:
        with wh.get_connection(read_only=True) as con:
            result = export.export_dev_eval(con, out, args.end, formats)
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Exported {result.records} records of the dev-eval dataset {result.window_start}..{result.window_end} "
          f"(version {result.dataset_version}) to {result.folder}:")
    for f in result.files:
        print(f"  {f.name}")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    """Gate a release candidate on the dev-eval dataset: exit 0 when it passes, 1 when it fails, 2 when the
    gate cannot run or decide; the summary's last line says which and why."""
    from eval_pipeline.lib import gate
    from eval_pipeline.resources import Judge, Settings, Warehouse

    if (args.candidate_api_base or args.candidate_system_prompt) and not args.candidate_model:
        print("GATE ERROR: --candidate-api-base and --candidate-system-prompt go with --candidate-model.")
        return 2
    wh, settings = Warehouse(), Settings()
    if not wh.file().is_file():
        print(f"GATE ERROR: the warehouse {wh.file()} does not exist; set EVAL_WAREHOUSE or run the pipeline and "
              "build a dev-eval dataset first.")
        return 2
    spec = gate.CandidateSpec(name=args.candidate_name or "", model=args.candidate_model or "",
                              api_base=args.candidate_api_base or "",
                              system_prompt_file=args.candidate_system_prompt or "", fn=args.candidate_fn or "",
                              url=args.candidate_url or "")
    judges = tuple(j.strip() for j in (args.judges or "").split(",") if j.strip())
    options = gate.GateOptions(end=args.end, margin=args.margin, judges=judges, min_records=args.min_records)
    try:
        run = gate.gate(settings.config(), Judge().endpoint(), spec, connect=wh.get_connection, key=wh.key(),
                        reports_dir=settings.reports_dir(), options=options)
    except (gate.GateSetupError, ValueError, FileNotFoundError) as exc:
        print(f"GATE ERROR: {exc}")
        return 2
    print("\n".join(gate.summary_lines(run)))
    return {"pass": 0, "fail": 1}.get(run.verdict, 2)


def cmd_receive(args: argparse.Namespace) -> int:
    from eval_pipeline.lib.receiver import command
    from eval_pipeline.resources import LandingZone

    return command.run(args, LandingZone().dir())


_ENV = {
    "EVAL_WAREHOUSE": "the DuckDB file (default data/warehouse.duckdb)",
    "EVAL_LANDING_DIR": "where trace files land, read recursively (default data/landing)",
    "EVAL_REPORTS_DIR": "reports and exports (default data/reports)",
    "EVAL_CONFIG": "the YAML config (default: built-in defaults)",
    "EVAL_JUDGE_MODEL": "a litellm model string for the LLM judges (unset: they answer unknown)",
    "EVAL_JUDGE_API_BASE": "an OpenAI-compatible base URL for that model",
    "EVAL_MASKING_KEY": "the secret of the keyed pseudonyms (default: generated, kept beside the warehouse)",
    "EVAL_FIRST_DAY": f"the first daily partition, YYYY-MM-DD (default {DEFAULT_FIRST_DAY})",
    "DAGSTER_HOME": "the Dagster instance (default: <EVAL_WAREHOUSE>.dagster_home beside the warehouse)",
    "EVAL_FORCE_REBUILD": "1: rebuild every step of the day even when its inputs did not change (same as --force)",
}


def _env_help(*names: str) -> str:
    return "environment variables read:\n" + "\n".join(f"  {n:<20} {_ENV[n]}" for n in names)


_RUN_ENV = tuple(_ENV)
_EXIT = """\
exit status:
  0    every run succeeded and no ERROR-severity check failed (warnings are listed)
  1    a run failed or an ERROR-severity check failed (the last lines name them)
  2    a setup problem found before any step runs (config, landing folder, days outside the partitions)
  130  interrupted (Ctrl-C or SIGTERM): the run is marked failed and its pool slots are released"""


def _sub(sub: argparse._SubParsersAction, name: str, help: str, epilog: str = "",
         show_defaults: bool = True) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".", epilog=epilog,
                          formatter_class=_Formatter if show_defaults else argparse.RawDescriptionHelpFormatter)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option; the epilog's lines kept as written."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eval-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = _sub(sub, "demo", "generate sample traffic for the days before today (UTC) and run daily_eval on each",
             f"{_env_help(*_RUN_ENV)}\n\n{_EXIT}")
    p.add_argument("--days", type=int, default=3, help="how many days, ending yesterday (UTC)")
    p.add_argument("--sessions", type=int, default=40, help="agent sessions per day of sample traffic")
    p.add_argument("--seed", type=int, default=7, help="seed of the sample traffic (same seed, same files)")
    p.set_defaults(func=cmd_demo)

    p = _sub(sub, "generate", "write synthetic agent traffic as real OTLP files (no environment variable read)")
    p.add_argument("--out", required=True, help="landing directory to write into (created if missing)")
    p.add_argument("--start", type=_date, required=True, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--days", type=int, default=3, help="how many consecutive days")
    p.add_argument("--sessions", type=int, default=40, help="agent sessions per day")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    p.add_argument("--no-malformed", action="store_true",
                   help="leave out the deliberately broken files (by default a few are written, for the quarantine)")
    p.set_defaults(func=cmd_generate)

    p = _sub(sub, "run", "run daily_eval for one day, or for each day of a range, one after the other",
             f"{_env_help(*_RUN_ENV)}\n\n{_EXIT}", show_defaults=False)
    p.add_argument("start", type=_date, help="the (first) day, YYYY-MM-DD (UTC); a daily partition")
    p.add_argument("end", type=_date, nargs="?", default=None,
                   help="the last day of the range, YYYY-MM-DD (UTC), included (default: START alone)")
    p.add_argument("--force", action="store_true",
                   help="rebuild every step even where the day's inputs did not change (default: an unchanged "
                        "day is kept; sets EVAL_FORCE_REBUILD=1)")
    p.set_defaults(func=cmd_run)

    p = _sub(sub, "export", "write the dev-eval dataset as JSONL and Parquet for eval tools",
             _env_help("EVAL_WAREHOUSE", "EVAL_REPORTS_DIR"), show_defaults=False)
    p.add_argument("--end", type=_date, default=None,
                   help="the window's last day, YYYY-MM-DD (default: the newest dev-eval dataset built)")
    p.add_argument("--out", default=None, help="folder to write into (default: $EVAL_REPORTS_DIR/datasets)")
    p.add_argument("--format", choices=["jsonl", "parquet", "both"], default="both",
                   help="which files to write (default: both)")
    p.set_defaults(func=cmd_export)

    p = _sub(sub, "gate", "gate a release candidate on the dev-eval dataset (exit 0 pass, 1 fail, 2 error)",
             _env_help("EVAL_WAREHOUSE", "EVAL_REPORTS_DIR", "EVAL_CONFIG", "EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE",
                       "EVAL_MASKING_KEY"), show_defaults=False)
    p.add_argument("--end", type=_date, default=None,
                   help="the dev-eval window's last day, YYYY-MM-DD (default: the newest dev-eval dataset built)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--candidate-model", help="a litellm model string, e.g. openai/my-model")
    which.add_argument("--candidate-fn", help="a Python callable package.module:function(request, context)")
    which.add_argument("--candidate-url", help="an HTTP endpoint taking and returning JSON")
    p.add_argument("--candidate-api-base", help="the OpenAI-compatible base URL of --candidate-model")
    p.add_argument("--candidate-system-prompt", help="a file holding --candidate-model's system prompt")
    p.add_argument("--candidate-name", help="the name the gate is stored under (default: from the candidate)")
    p.add_argument("--margin", type=float, default=None,
                   help="tolerated drop in pass rate per judge (default gate.margin, 0.02 = 2 points)")
    p.add_argument("--judges", default=None,
                   help="comma-separated gating judges (default gate.judges, else judging.judges)")
    p.add_argument("--min-records", type=int, default=None,
                   help="fewer production records is an error, exit 2 (default gate.min_records, 30)")
    p.set_defaults(func=cmd_gate)

    p = sub.add_parser("receive", help="serve OTLP/HTTP (POST /v1/traces) and write batches to the landing zone")
    receive_command.add_arguments(p)
    p.set_defaults(func=cmd_receive)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM stops a run like Ctrl-C does: the run is marked failed and its pool slots are released.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return args.func(args)
    except SetupError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted: the run was stopped and marked failed; its pool slots were released.", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
