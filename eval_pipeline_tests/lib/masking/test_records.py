"""Contract of mask_records (the name tier over eval records, without the model): every text of a record is
read (request, response, documents, tool calls' arguments and results, error message), a name found in one is
masked in all of the record's texts with one pseudonym, never in another record's; JSON tool texts stay valid,
plain ones are read whole; nulls (a missing list, a null call, a null field) pass through unchanged."""

import json
import re

import polars as pl

from eval_pipeline.lib.masking import mask_records, normal_form, tokenizer

KEY = b"test-key"


def person(name: str) -> str:
    return tokenizer(KEY)("PERSON", normal_form("PERSON", name))
_SCRIPTED = re.compile(r"Maria Schmidt|Jonathan Miller")


def scripted(text: str) -> list[tuple[int, int, str]]:
    """Finds the two names only where they stand in a sentence (after 'for'), as a model that misses them in
    a bare JSON value would; the record's other texts must then get them from the group."""
    return [(m.start(), m.end(), "PERSON") for m in _SCRIPTED.finditer(text) if text[:m.start()].endswith("for ")]


def _rows() -> pl.DataFrame:
    call = {"name": "crm", "arguments": '{"customer":"Maria Schmidt","id":"A-1","n":2}',
            "result": "found Maria Schmidt", "status": "ok"}
    return pl.DataFrame([
        {"trace_id": "a", "request": "refund for Maria Schmidt", "response": "Done, Maria Schmidt.",
         "retrieved_context": ["note on Maria Schmidt", None], "tool_calls": [call, None],
         "error_message": "no order of Maria Schmidt"},
        {"trace_id": "b", "request": "hello", "response": None, "retrieved_context": None,
         "tool_calls": [{"name": "crm", "arguments": '{"customer":"Maria Schmidt"}', "result": None,
                         "status": None}], "error_message": "lookup for Jonathan Miller failed"},
    ])


def test_a_name_found_in_one_text_is_masked_in_every_text_of_its_record_only() -> None:
    out, entities = mask_records(_rows(), KEY, scripted)
    a, b = out.to_dicts()
    token = person("Maria Schmidt")
    assert a["request"] == f"refund for {token}" and a["response"] == f"Done, {token}."
    assert a["retrieved_context"] == [f"note on {token}", None] and a["error_message"] == f"no order of {token}"
    first, second = a["tool_calls"]
    assert json.loads(first["arguments"]) == {"customer": token, "id": "A-1", "n": 2}
    assert first["arguments"].endswith(',"id":"A-1","n":2}')  # the rest of the JSON byte for byte
    assert first["result"] == f"found {token}" and (first["name"], first["status"]) == ("crm", "ok")
    assert second is None
    # Record b: its own name is masked; Maria Schmidt was found in record a only, so b's JSON keeps it.
    assert b["error_message"] == f"lookup for {person('Jonathan Miller')} failed"
    assert b["tool_calls"] == [{"name": "crm", "arguments": '{"customer":"Maria Schmidt"}', "result": None,
                                "status": None}]
    assert (b["response"], b["retrieved_context"]) == (None, None)
    assert entities.height == 7  # a: request, response, document, 2 tool texts, error; b: error


def test_records_without_names_come_back_unchanged() -> None:
    rows = _rows().with_columns(pl.col("request").str.replace("for ", "of "),
                                pl.col("error_message").str.replace("for ", "of "))
    out, entities = mask_records(rows, KEY, scripted)
    assert entities.height == 0 and out.to_dicts() == rows.to_dicts()
