import datetime as dt

import dagster as dg

# UTC day of the trace's start: the single partitioning of every asset in the chain. The current,
# still open day is a partition too (end_offset=1), so the landing sensor can keep today's chain fresh.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC", end_offset=1)


def check_day(context: dg.AssetCheckExecutionContext) -> dt.date:
    """The day an asset check runs for: checks read one partition, named by the run's partition tag."""
    key = context.run.tags.get("dagster/partition")
    if not key:
        msg = "Asset checks here run for one day: launch them with a partition (the dagster/partition tag)."
        raise ValueError(msg)
    return dt.date.fromisoformat(key)
