import datetime as dt

import dagster as dg

# UTC day of the trace's start: the single partitioning of every asset in the chain. The current,
# still open day is a partition too (end_offset=1), so the landing sensor can keep today's chain fresh.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC", end_offset=1)

