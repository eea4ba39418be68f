-- Gating rows of gate $gate_id that decided (verdict other than 'error') without an estimate, a 95 %
-- interval or a record behind them.
SELECT judge, verdict, estimate, ci_low, ci_high, n
FROM release_gates
WHERE gate_id = $gate_id AND gating AND verdict <> 'error'
  AND (estimate IS NULL OR ci_low IS NULL OR ci_high IS NULL OR n IS NULL OR n < 1 OR ci_low > ci_high)
ORDER BY judge;
