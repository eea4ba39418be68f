-- One check's outcome on $day (eval_pipeline.lib.checks.record).
INSERT INTO check_results BY NAME
SELECT CAST($day AS DATE) AS trace_date, $asset AS asset, $check_name AS check_name,
       CAST($passed AS BOOLEAN) AS passed, $severity AS severity, $description AS description,
       CAST($figures AS JSON) AS figures,
       coalesce(CAST($evaluated_at AS TIMESTAMP), now()::TIMESTAMP) AS computed_at;
