-- The newest window end whose dev-eval dataset has version $version (NULL: none has).
SELECT max(window_end) FROM dev_eval_dataset WHERE dataset_version = $version;
