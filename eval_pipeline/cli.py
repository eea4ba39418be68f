"""The ``eval-pipeline`` command: ``demo`` (sample traffic through the whole chain), ``generate``, ``run``,
``export`` (the dev-eval dataset as JSONL and Parquet files) and ``receive`` (an OTLP/HTTP receiver)."""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from eval_pipeline.lib.receiver import command as receive_command
from eval_pipeline.lib.warehouse import data_dir

# Runs of the demo and of `dg dev` share this instance, so the UI shows what the demo did. A writer
# pool of one keeps concurrent runs from queueing on DuckDB's single-writer lock.
_DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""


def _date(s: str) -> dt.date:
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        msg = f"{s!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-20."
        raise argparse.ArgumentTypeError(msg) from None


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, else the project's .dagster_home (created with a dagster.yaml)."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir().parent / ".dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(_DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# Step-by-step engine events stay in the run's event log (the UI); the terminal gets INFO and up.
_QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def run_days(days: list[dt.date]) -> bool:
    """Run the daily_eval job for each day, in order, on the persistent Dagster instance."""
    import dagster as dg

    from eval_pipeline.definitions import defs

    job = defs().resolve_job_def("daily_eval")
    ok = True
    with dg.DagsterInstance.get() as instance:
        for day in days:
            t0 = time.monotonic()
            result = job.execute_in_process(partition_key=day.isoformat(), instance=instance,
                                            raise_on_error=False, run_config=_QUIET)
            state = "ok" if result.success else "FAILED"
            print(f"daily_eval {day}: {state} in {time.monotonic() - t0:.1f} s (run {result.run_id[:8]})")
            ok = ok and result.success
    return ok


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
    from eval_pipeline.resources import LandingZone

    home = ensure_dagster_home()
    end = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    days = [end - dt.timedelta(days=i) for i in range(args.days - 1, -1, -1)]
    sample = LandingZone().dir() / f"sample-{days[0]}"
    if not sample.exists():
        summary = synthetic.generate(sample, days[0], args.days, sessions_per_day=args.sessions, seed=args.seed)
        print(f"Generated sample traffic for {days[0]}..{days[-1]} in {sample}: {summary}")
    else:
        print(f"Sample traffic for {days[0]}..{days[-1]} already in {sample}")
    ok = run_days(days)
    _summary(days)
    print(f"\nDagster instance: {home}\nOpen the UI with:  DAGSTER_HOME={home} .venv/bin/dg dev")
    return 0 if ok else 1


def cmd_generate(args: argparse.Namespace) -> int:
    from eval_pipeline import synthetic

    summary = synthetic.generate(Path(args.out), args.start, args.days, sessions_per_day=args.sessions,
                                 seed=args.seed, malformed=not args.no_malformed)
    print(summary)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    ensure_dagster_home()
    days = [args.start + dt.timedelta(days=i) for i in range((args.end - args.start).days + 1)]
    if not days:
        print("The end day is before the start day; nothing to run.", file=sys.stderr)
        return 2
    return 0 if run_days(days) else 1


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eval-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="generate sample traffic for the last days and run the whole chain on it")
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--sessions", type=int, default=40, help="sessions per day")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("generate", help="write synthetic agent traffic as real OTLP files")
    p.add_argument("--out", required=True, help="landing directory to write into")
    p.add_argument("--start", type=_date, required=True, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--days", type=int, default=3)
    p.add_argument("--sessions", type=int, default=40, help="sessions per day")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-malformed", action="store_true", help="leave out the deliberately broken files")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("run", help="run daily_eval for each day of a range, one after the other")
    p.add_argument("start", type=_date)
    p.add_argument("end", type=_date)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("export", help="write the dev-eval dataset as JSONL and Parquet for eval tools")
    p.add_argument("--end", type=_date, default=None,
                   help="the window's last day, YYYY-MM-DD (default: the newest dev-eval dataset built)")
    p.add_argument("--out", default=None, help="folder to write into (default: $EVAL_REPORTS_DIR/datasets)")
    p.add_argument("--format", choices=["jsonl", "parquet", "both"], default="both")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("gate", help="gate a release candidate on the dev-eval dataset (exit 0 pass, 1 fail, 2 error)")
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

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
