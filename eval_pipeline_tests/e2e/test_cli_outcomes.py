"""Contract (issue 11 items 3 and 8): `eval-pipeline run` finds a bad config, a missing landing folder and days
outside the partitions before any step runs (exit 2, one line naming what is wrong); it exits 1 when an
ERROR-severity check fails, naming the check, its asset and its figures in the closing lines, and 0 on a good
day; `run DAY` runs one day; the default Dagster instance lives beside the warehouse; every subcommand's --help
explains its arguments and the EVAL_* variables it reads; the first partition is configurable."""

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eval_pipeline import cli, synthetic
from eval_pipeline.lib.check_results import ERROR, WARN, CheckOutcome, summary_line
from eval_pipeline.lib.first_day import DEFAULT_FIRST_DAY, first_day

DAY = dt.date(2026, 11, 20)


def test_cli_run_a_config_typo_fails_before_any_step(pipeline_env: dict[str, Path], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "eval.yaml"
    cfg.write_text("sampling:\n  target_sise: 50\n")  # planted: a typo of target_size
    monkeypatch.setenv("EVAL_CONFIG", str(cfg))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert cli.main(["run", DAY.isoformat()]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "target_sise" in err and "eval.yaml" in err and str(cfg) in err
    assert not list(tmp_path.glob("*.dagster_home")), "no run may start, not even the instance"


def test_cli_run_a_wrongly_typed_setting_names_it(pipeline_env: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "eval.yaml"
    cfg.write_text("judging:\n  concurrency: many\n")  # planted: not an integer
    monkeypatch.setenv("EVAL_CONFIG", str(cfg))
    assert cli.main(["run", DAY.isoformat()]) == 2
    assert "eval.yaml.judging.concurrency must be of type int" in capsys.readouterr().err


def test_cli_run_a_missing_landing_folder_is_an_error(pipeline_env: dict[str, Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "no-such-landing"
    monkeypatch.setenv("EVAL_LANDING_DIR", str(missing))
    assert cli.main(["run", DAY.isoformat()]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "EVAL_LANDING_DIR" in err and "Traceback" not in err


@pytest.mark.parametrize("day", ["2024-01-01", "2099-01-01"])
def test_cli_run_a_day_outside_the_partitions_gets_the_valid_range(pipeline_env: dict[str, Path], day: str,
                                                                   capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["run", day]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert day in line and f"from {first_day()} to " in line


def test_cli_run_an_existing_landing_folder_and_good_config_pass_the_setup_check(pipeline_env: dict[str, Path]) -> None:
    cli.check_setup()
    cli.check_days([DAY])


def _day(checks: list[CheckOutcome], run_ok: bool = True) -> cli.DayOutcome:
    return cli.DayOutcome(DAY, run_ok, "0123456789abcdef", checks, [summary_line(o) for o in checks],
                          [] if run_ok else ["raw_traces"])


def test_cli_report_outcomes_warnings_are_listed_and_exit_0(capsys: pytest.CaptureFixture) -> None:
    warn = CheckOutcome("daily_metrics", "traffic_no_drift", False, WARN, "latency p95 1.6x the trailing mean",
                        {"latency_p95_ms": 812.5, "latency_p95_jump": 1.5})
    assert cli.report_outcomes([_day([warn])]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "OK: 1 day(s) ran, no ERROR check failed (1 warning(s))."
    assert any(ln.split()[1:4] == ["WARNING", "traffic_no_drift", "on"] and "latency_p95_jump=1.5" in ln for ln in out)


def test_cli_report_outcomes_an_error_check_or_a_failed_run_exits_1(capsys: pytest.CaptureFixture) -> None:
    err = CheckOutcome("raw_traces", "quarantine_share_below_threshold", False, ERROR, None,
                       {"share": 0.0625, "threshold": 0.05, "quarantined": 6})
    assert cli.report_outcomes([_day([err]), _day([], run_ok=False)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (f"FAILED: 2 of 2 day(s): {DAY} quarantine_share_below_threshold; "
                       f"{DAY} run 01234567 failed in raw_traces.")
    assert "FAILED    quarantine_share_below_threshold on raw_traces: share=0.0625, threshold=0.05, quarantined=6" in "\n".join(out)


def test_first_day_is_configurable_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVAL_FIRST_DAY", raising=False)
    assert first_day() == DEFAULT_FIRST_DAY
    monkeypatch.setenv("EVAL_FIRST_DAY", "2025-06-01")
    assert first_day() == "2025-06-01"
    monkeypatch.setenv("EVAL_FIRST_DAY", "June 1st")
    with pytest.raises(ValueError, match="EVAL_FIRST_DAY='June 1st' is not a date; use YYYY-MM-DD"):
        first_day()


def test_partitions_start_at_eval_first_day() -> None:
    code = "from eval_pipeline.defs.partitions import daily_partitions as p; print(p.get_first_partition_key())"
    env = {**os.environ, "EVAL_FIRST_DAY": "2026-10-15", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "2026-10-15"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_cli_help_explains_every_argument_and_the_variables_read(command: str, capsys: pytest.CaptureFixture) -> None:
    parser = _subcommands()[command]
    for action in parser._actions:
        assert action.help and len(action.help) > 10, f"{command}: {action.dest} has no help"
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    if command in ("demo", "run", "export", "gate"):
        assert "environment variables read:" in out and "EVAL_WAREHOUSE" in out
    if command in ("demo", "run"):
        assert "EVAL_LANDING_DIR" in out and "DAGSTER_HOME" in out and "EVAL_FIRST_DAY" in out and "exit status" in out
    if command == "receive":
        assert "EVAL_RECEIVER_" in out and "EVAL_LANDING_DIR" in out


@pytest.mark.slow
def test_cli_run_one_day_exits_0_then_1_when_an_error_check_fails(pipeline_env: dict[str, Path],
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    synthetic.generate(pipeline_env["landing"], DAY, 1, sessions_per_day=12, seed=11, malformed=False)
    assert cli.main(["run", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"daily_eval {DAY}: ok" in out and out.strip().splitlines()[-1].startswith("OK: 1 day(s) ran")
    home = pipeline_env["warehouse"].with_name(pipeline_env["warehouse"].name + ".dagster_home")
    assert (home / "dagster.yaml").is_file() and "run_monitoring" in (home / "dagster.yaml").read_text()
    assert os.environ["DAGSTER_HOME"] == str(home)

    # planted: a day without traffic, so the ERROR check dataset_size_within_bounds fails
    empty = DAY + dt.timedelta(days=3)
    assert cli.main(["run", empty.isoformat()]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == f"FAILED: 1 of 1 day(s): {empty} dataset_size_within_bounds."
    (listed,) = [ln for ln in lines if "dataset_size_within_bounds on eval_dataset" in ln]
    assert listed.split()[:2] == [str(empty), "FAILED"] and "rows=0" in listed


@pytest.mark.parametrize(("argv", "forced"), [(["run", "--force", DAY.isoformat()], True),
                                              (["run", DAY.isoformat()], False)])
def test_cli_run_force_makes_the_run_rebuild_unchanged_days(pipeline_env: dict[str, Path],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            argv: list[str], forced: bool) -> None:
    from eval_pipeline.lib.fingerprints import FORCE_ENV, force_rebuild
    monkeypatch.setenv(FORCE_ENV, "0")  # restored (unset) after the test, whatever the command sets
    monkeypatch.setenv("DAGSTER_HOME", str(pipeline_env["warehouse"].parent / "home"))
    seen = []
    monkeypatch.setattr(cli, "run_days", lambda days: seen.append((days, force_rebuild())) or [
        cli.DayOutcome(days[0], True, "r1", [])])
    assert cli.main(argv) == 0
    assert seen == [([DAY], forced)]
