-- Empty the day's partition before it is written again, in the same transaction: re-runs replace it.
DELETE FROM masked_traces WHERE trace_date = $day;
