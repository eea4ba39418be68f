"""Contract: the Dagster webserver starts on the project's workspace.yaml and its GraphQL API lists the
code location's assets, asset checks, job, schedule and sensor."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from eval_pipeline.lib.warehouse import PROJECT_ROOT

# Whole-chain runs and servers: the slow tier.
pytestmark = pytest.mark.slow

QUERY = """
{
  assetNodes { assetKey { path } assetChecksOrError { ... on AssetChecks { checks { name } } } }
  workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
    ... on RepositoryLocation { repositories { jobs { name } schedules { name } sensors { name } } }
    ... on PythonError { message }
  } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["data"]


def test_webserver_graphql_lists_assets_checks_schedule_and_sensor(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    webserver = str(Path(sys.executable).parent / "dagster-webserver")
    proc = subprocess.Popen([webserver, "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "the webserver did not start within 120 s"
                time.sleep(0.5)
        data = _graphql(port, QUERY)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assets = {"/".join(n["assetKey"]["path"]): {c["name"] for c in n["assetChecksOrError"]["checks"]}
              for n in data["assetNodes"]}
    assert {"raw_traces", "spans", "masked_traces", "eval_dataset", "judge_scores", "daily_metrics"} <= set(assets)
    assert {"trace_id_unique", "quarantine_share_below_threshold"} <= assets["raw_traces"]
    [location] = data["workspaceOrError"]["locationEntries"]
    assert location["name"] == "eval_pipeline"
    [repo] = location["locationOrLoadError"]["repositories"]
    assert "daily_eval" in {j["name"] for j in repo["jobs"]}
    assert {s["name"] for s in repo["schedules"]} == {"daily_eval_schedule"}
    assert "landing_sensor" in {s["name"] for s in repo["sensors"]}
