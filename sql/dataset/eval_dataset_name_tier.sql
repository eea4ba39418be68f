-- Which name tier masked $day's eval records ($tier: presidio:<model>, off, unavailable: <why>).
UPDATE eval_dataset_days SET name_tier = $tier WHERE trace_date = $day;
