-- The latest gate run of dataset version $version and candidate $candidate: its id, verdict, window end
-- and the reasons it gave (the detail of its rows that did not pass).
SELECT gate_id, any_value(gate_verdict) AS gate_verdict, any_value(window_end) AS window_end,
       list(detail ORDER BY judge) FILTER (WHERE detail IS NOT NULL AND gating) AS reasons
FROM release_gates
WHERE gate_id = (SELECT arg_max(gate_id, gated_at) FROM release_gates
                 WHERE dataset_version = $version AND candidate = $candidate)
GROUP BY gate_id;
