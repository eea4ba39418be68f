import dagster as dg

DAILY_CHAIN = dg.AssetSelection.groups("traces", "privacy", "dataset", "judging", "dashboards")

daily_eval = dg.define_asset_job(
    "daily_eval",
    selection=DAILY_CHAIN,
    description="The daily chain for one UTC day: raw traces -> masked -> eval dataset -> judge scores -> dashboards.",
)

# Runs shortly after midnight UTC for the day that just ended (the last complete partition).
daily_eval_schedule = dg.build_schedule_from_partitioned_job(daily_eval, hour_of_day=0, minute_of_hour=30)
