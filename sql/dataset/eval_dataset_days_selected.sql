-- The days in [$start, $end] whose eval dataset was selected.
SELECT trace_date FROM eval_dataset_days WHERE trace_date BETWEEN $start AND $end ORDER BY trace_date;
