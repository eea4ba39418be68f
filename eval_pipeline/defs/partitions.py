import datetime as dt

import dagster as dg

from eval_pipeline.lib.first_day import first_day

# UTC day of the trace's start: the single partitioning of every asset in the chain, from EVAL_FIRST_DAY (read
# when the code location loads: a change takes effect on the next load) or its fixed default. The current,
# still open day is a partition too (end_offset=1), so the landing sensor can keep today's chain fresh.
daily_partitions = dg.DailyPartitionsDefinition(start_date=first_day(), timezone="UTC", end_offset=1)


def partition_range() -> tuple[dt.date, dt.date]:
    """The first and the last day that are partitions now."""
    first = daily_partitions.get_first_partition_key()
    last = daily_partitions.get_last_partition_key()
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
