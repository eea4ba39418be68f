"""Judging: verdicts and unknown reasons, code judges, LLM judges through litellm, a day's scores, and
agreement with human labels.

- ``verdict.py``      the Verdict type and every unknown reason (with the groups checks and dashboards count)
- ``settings.py``     JudgeSettings: the ``judging`` config plus the endpoint (model, base URL, key)
- ``code_judges.py``  pure functions of the record
- ``prompts.py``      versioned prompt constants, the answer schema, the fenced messages
- ``catalog.py``      the LLM judges: what each one is shown, custom guideline judges
- ``runner.py``       judge_records: code and LLM judges on records, cache keys, the random order under a budget
- ``calls.py``        one call through litellm: slots on the wire, budget, retries, the answer as a verdict
- ``prices.py``       what a call costs: litellm's price map, or the configured prices registered for the run
- ``day.py``          score_day: live sampling, cache lookup, the judge_scores and judge_cache rows
- ``agreement.py``    judge/human agreement: labels, accuracy, Cohen's kappa, confusion matrix
"""

from eval_pipeline.lib.judging.calls import import_litellm
from eval_pipeline.lib.judging.catalog import LLM_JUDGES, LLMJudge, guideline_judge, llm_judges
from eval_pipeline.lib.judging.code_judges import CODE_JUDGES
from eval_pipeline.lib.judging.day import DayScores, cache_rows, score_day, unit_hash
from eval_pipeline.lib.judging.prompts import build_messages, parse_answer
from eval_pipeline.lib.judging.runner import JudgingRun, cache_key, input_hash, judge_records, run_llm_judge
from eval_pipeline.lib.judging.settings import Endpoint, JudgeSettings, judge_names, judge_settings
from eval_pipeline.lib.judging.verdict import NO_ANSWER, UNKNOWN_REASONS, Verdict

__all__ = [
    "CODE_JUDGES",
    "LLM_JUDGES",
    "NO_ANSWER",
    "UNKNOWN_REASONS",
    "DayScores",
    "Endpoint",
    "JudgeSettings",
    "JudgingRun",
    "LLMJudge",
    "Verdict",
    "build_messages",
    "cache_key",
    "cache_rows",
    "guideline_judge",
    "import_litellm",
    "input_hash",
    "judge_names",
    "judge_records",
    "judge_settings",
    "llm_judges",
    "parse_answer",
    "run_llm_judge",
    "score_day",
    "unit_hash",
]
