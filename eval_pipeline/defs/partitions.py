import dagster as dg

# UTC day of the trace's start: the single partitioning of every asset in the chain.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="UTC")
