"""Judging: verdicts, code and LLM judges, the litellm runner, a day's scores, agreement with human labels."""
