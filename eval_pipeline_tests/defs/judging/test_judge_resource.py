"""Contract of the Judge resource: it resolves only the endpoint (its fields, else EVAL_JUDGE_MODEL,
EVAL_JUDGE_API_BASE, EVAL_JUDGE_API_KEY, read when used, never at import); a local OpenAI-compatible server
gets a placeholder key because the OpenAI client refuses to send without one."""

import pytest

from eval_pipeline.lib.judging import Endpoint
from eval_pipeline.resources import Judge


def test_judge_endpoint_reads_fields_then_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EVAL_JUDGE_MODEL", "openai/from-env")
    monkeypatch.setenv("EVAL_JUDGE_API_BASE", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("EVAL_JUDGE_API_KEY", "sk-env")
    assert Judge().endpoint() == Endpoint("openai/from-env", "http://127.0.0.1:8000/v1", "sk-env")
    assert Judge(model="ollama/llama3.1", api_base="http://127.0.0.1:11434", api_key="k").endpoint() == \
        Endpoint("ollama/llama3.1", "http://127.0.0.1:11434", "k")


def test_judge_endpoint_without_settings_has_no_model_and_a_local_server_needs_no_key(
        monkeypatch: pytest.MonkeyPatch):
    for var in ("EVAL_JUDGE_MODEL", "EVAL_JUDGE_API_BASE", "EVAL_JUDGE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    assert Judge().endpoint() == Endpoint(None, None, None)
    local = Judge(model="openai/llama3.1", api_base="http://127.0.0.1:11434/v1").endpoint()
    assert local.api_key == "no-key-needed"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-provider")
    # The provider's own variable is litellm's to read: nothing is filled in for it.
    assert Judge(model="openai/gpt-4.1-mini", api_base="http://127.0.0.1:11434/v1").endpoint().api_key is None
