"""Contract of json_values: the name tier reads a tool call's JSON value by value (decoded, keys never), and a
masked value written back keeps the text valid JSON with every key, number and untouched value as it was; a
text that is not JSON is read whole."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from eval_pipeline.lib.masking.json_values import string_values

TOKEN = "<PERSON:0123456789>"  # the shape of a pseudonym: no quote, no backslash


def test_string_values_are_decoded_values_never_keys() -> None:
    text = '{"customer":"Margaret Thornbury","id":"A-12","n":3,"tags":["vip","J\\u00fcrgen"],"k":"42"}'
    v = string_values(text)
    assert v is not None
    assert v.values == ("Margaret Thornbury", "A-12", "vip", "Jürgen")  # "42" holds no letter: no name
    masked = v.replaced([TOKEN if x in ("Margaret Thornbury", "Jürgen") else x for x in v.values])
    assert json.loads(masked) == {"customer": TOKEN, "id": "A-12", "n": 3, "tags": ["vip", TOKEN], "k": "42"}
    assert masked.startswith('{"customer":"<PERSON:') and '"id":"A-12","n":3' in masked  # the rest byte for byte


def test_unchanged_values_leave_the_text_byte_for_byte() -> None:
    text = '{ "q" : "refund for order \\"7\\"",\n  "user": "\\u004daria" }'
    v = string_values(text)
    assert v is not None and v.values == ('refund for order "7"', "Maria")
    assert v.replaced(list(v.values)) == text


def test_text_that_is_not_json_is_read_whole() -> None:
    for text in ("customer=Maria Schmidt", "{'customer': 'Maria'}", '{"unterminated": "Maria', "42", "null", "", None):
        assert string_values(text) is None
    assert string_values('"Maria Schmidt"').values == ("Maria Schmidt",)  # a JSON string on its own


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def _replace_strings(value: object, new: str) -> object:
    if isinstance(value, str):
        return new if any(c.isalpha() for c in value) else value
    if isinstance(value, list):
        return [_replace_strings(v, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, new) for k, v in value.items()}
    return value


@settings(max_examples=300, deadline=None)
@given(_JSON, st.booleans(), st.sampled_from([TOKEN, 'a "quoted" \\ value']))
def test_replacing_every_value_keeps_valid_json_with_the_same_keys(document: object, ascii_only: bool,
                                                                   new: str) -> None:
    text = json.dumps(document, ensure_ascii=ascii_only)
    v = string_values(text)
    if not isinstance(document, (dict, list, str)):
        assert v is None
        return
    assert v is not None
    assert json.loads(v.replaced([new] * len(v.values))) == _replace_strings(document, new)
