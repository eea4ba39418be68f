import datetime as dt
import json

import dagster as dg

from eval_pipeline.defs.partitions import daily_partitions
from eval_pipeline.lib import ingest
from eval_pipeline.resources import LandingZone

# Runs requested by the landing sensor carry this tag; their LLM judging is sampled
# (monitoring.live_judge_sample_rate), the nightly run judges the rest.
LIVE_TAG = "eval/trigger"
LIVE_TRIGGER = "landing_sensor"

DAILY_CHAIN = dg.AssetSelection.groups("traces", "privacy", "dataset", "judging", "dashboards")

# One process per run (the in-process executor): the steps share one Python process, so a run does not pay
# ~20 step processes each importing Dagster, polars and GX; the warehouse pool serialises the writers anyway.
# It also keeps daily_report (lowest dagster/priority) after every check that is ready. Checks are still
# reported per asset.
daily_eval = dg.define_asset_job(
    "daily_eval",
    selection=DAILY_CHAIN,
    executor_def=dg.in_process_executor,
    description="The daily chain for one UTC day: raw traces -> masked -> eval dataset -> judge scores -> dashboards.",
)


@dg.schedule(cron_schedule="30 0 * * *", job=daily_eval, execution_timezone="UTC")
def daily_eval_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Every night at 00:30 UTC, the day that just ended."""
    yesterday = (context.scheduled_execution_time.astimezone(dt.UTC) - dt.timedelta(days=1)).date()
    return dg.RunRequest(run_key=yesterday.isoformat(), partition_key=yesterday.isoformat())


@dg.sensor(job=daily_eval, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
    """New files in the landing zone: refresh the chain for the days their spans touch, and for the days whose
    traces the runs found late spans of."""
    cursor = _cursor(context.cursor)
    days, landed = ingest.landed_since(landing.dir(), cursor["landed"])
    stale, marked = ingest.stale_since(landing.dir(), cursor["stale"])
    valid = set(daily_partitions.get_partition_keys())
    for day in sorted(set(days) | set(stale)):
        if day in valid:
            yield dg.RunRequest(run_key=f"{day}@{landed}/{marked}", partition_key=day, tags={LIVE_TAG: LIVE_TRIGGER})
        else:
            context.log.warning("Spans of %s landed, which is outside the partitions; skipped.", day)
    context.update_cursor(json.dumps({"landed": landed, "stale": marked}))


def _cursor(text: str | None) -> dict[str, int]:
    """The sensor's cursor: the newest landing and rebuild mark seen (an older cursor was the landing time alone)."""
    if not text:
        return {"landed": 0, "stale": 0}
    if text.isdigit():
        return {"landed": int(text), "stale": 0}
    return json.loads(text)
