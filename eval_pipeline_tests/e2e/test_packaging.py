"""Contract: a non-editable install works: the wheel carries the SQL of the top-level sql/ folder, and the
installed package creates a warehouse and finds its statements from any working directory."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from eval_pipeline.lib.warehouse import PROJECT_ROOT, SQL_DIR

pytestmark = pytest.mark.slow

PROBE = """
import sys
from pathlib import Path
from eval_pipeline.lib import warehouse
assert warehouse.PROJECT_ROOT is None, warehouse.PROJECT_ROOT
assert Path(warehouse.SQL_DIR).is_relative_to(Path(sys.argv[1])), warehouse.SQL_DIR
with warehouse.connect(Path(sys.argv[2])) as con:
    n = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'judge_scores'").fetchall()[0][0]
print(n, len(warehouse.load_sql("dataset/eval_dataset_population")) > 0, warehouse.data_dir())
"""


def test_packaging_wheel_ships_sql_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    assert PROJECT_ROOT is not None, "run the tests from a checkout"
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the checkout.
    src = tmp_path / "src"
    shutil.copytree(PROJECT_ROOT, src, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", "data", "build", "*.egg-info", "__pycache__", ".dagster_home", "*.duckdb*"))
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-q", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    [wheel] = dist.glob("eval_pipeline-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"eval_pipeline/sql/{p.relative_to(SQL_DIR).as_posix()}" for p in SQL_DIR.rglob("*.sql")}
    assert expected and expected <= names, sorted(expected - names)[:5]
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(site),
                              str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = subprocess.run([sys.executable, "-c", PROBE, str(site), str(tmp_path / "wh.duckdb")], cwd=elsewhere,
                           env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split() == ["1", "True", str(elsewhere / "data")]
