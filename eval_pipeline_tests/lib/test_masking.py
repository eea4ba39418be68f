"""Contract: the masker replaces e-mail, phone, card, IBAN, SSN, IP, URL credentials and tokens, secrets,
street addresses and dates of birth with typed, keyed pseudonyms (same value, same token; another key,
other tokens); it reaches recall >= 0.99 and precision >= 0.95 per pattern entity type on the labelled
set and leaves trace look-alikes (timestamps, versions, ids, dotted attribute names, paths, hashes)
alone; the vectorised masker and the plain-``re`` reference agree; masked_traces' frame keeps its
shape, pseudonymises ids and counts entities per row; the row policy drops opted-out, listed-service
and listed-tenant traces; the scan used by the blocking check finds survivors; names are pluggable."""

import importlib.util
from collections import Counter

import polars as pl
import pytest

from eval_pipeline.lib import masking, pii_names
from eval_pipeline_tests.support.masking_labelled import ENTITIES, LOOK_ALIKES, SAMPLES

KEY = b"k1"
RECALL_MIN = 0.99
PRECISION_MIN = 0.95
# Addresses and dates of birth are found "where a pattern can": a looser recall bar, the same precision.
RECALL_MIN_LOOSE = 0.9


def _scores() -> dict[str, tuple[float, float, int]]:
    """Recall and precision per entity type of the vectorised masker on the labelled set.

    A labelled entity counts as found when its text is gone from the output and the masker reported an
    entity of its type in that text; reported entities beyond the labelled ones of a type are false
    positives.
    """
    result = masking.mask_series(pl.Series([s.text for s in SAMPLES]), KEY)
    out = result.texts.to_list()
    detected = [Counter() for _ in SAMPLES]
    for index, kind in result.entities.iter_rows():
        detected[index][kind] += 1
    found, labelled, reported, correct = Counter(), Counter(), Counter(), Counter()
    for sample, text, det in zip(SAMPLES, out, detected, strict=True):
        labels = Counter(k for k, _ in sample.entities)
        gone = Counter(k for k, v in sample.entities if v not in text)
        for kind in set(labels) | set(det):
            labelled[kind] += labels[kind]
            reported[kind] += det[kind]
            found[kind] += min(gone[kind], det[kind])
            correct[kind] += min(det[kind], labels[kind])
    return {k: (found[k] / labelled[k] if labelled[k] else 1.0, correct[k] / reported[k] if reported[k] else 1.0,
                labelled[k]) for k in sorted(labelled | reported)}


def test_detectors_recall_and_precision_per_type_on_labelled_set() -> None:
    scores = _scores()
    print("\ntype        recall  precision  entities")  # shown with pytest -s
    for kind, (recall, precision, n) in scores.items():
        print(f"{kind:<11} {recall:6.3f}  {precision:9.3f}  {n:8d}")
    assert set(masking.PATTERN_KINDS) <= set(scores), "every pattern type has labelled examples"
    for kind, (recall, precision, _) in scores.items():
        floor = RECALL_MIN if kind in masking.PATTERN_KINDS else RECALL_MIN_LOOSE
        assert recall >= floor, (kind, recall)
        assert precision >= PRECISION_MIN, (kind, precision)


def test_labelled_set_is_well_formed() -> None:
    assert len(ENTITIES) >= 80 and len(LOOK_ALIKES) >= 80
    for sample in ENTITIES:
        pos = 0
        for _, value in sample.entities:
            pos = sample.text.index(value, pos) + len(value)


def test_mask_series_leaves_every_look_alike_alone() -> None:
    texts = [s.text for s in LOOK_ALIKES]
    result = masking.mask_series(pl.Series(texts), KEY)
    changed = [(a, b) for a, b in zip(texts, result.texts.to_list(), strict=True) if a != b]
    assert changed == []
    assert result.entities.is_empty()


def test_vectorised_masker_and_re_reference_agree() -> None:
    texts = [s.text for s in SAMPLES]
    vectorised = masking.mask_series(pl.Series(texts), KEY).texts.to_list()
    assert vectorised == [masking.mask_text_re(t, KEY) for t in texts]


@pytest.mark.parametrize("text", [
    "mail jane.doe+eval@example.co.uk today",
    "JANE@EXAMPLE.COM",
    "call +44 20 7946 0958",
    "call (415) 555-0132 please",
    "ring +1 415 555 0132",
    "card 4111-1111-1111-1111",
    "iban GB82 WEST 1234 5698 7654 32",
    "ssn 123-45-6789",
    "from 203.0.113.42",
    "key sk-proj-abcdefghijklmnopqrstuvwxyz0123",
    "Authorization: Bearer abcDEF123456ghiJKL7890",
])
def test_mask_text_removes_entities(text: str) -> None:
    counts: Counter = Counter()
    out = masking.mask_text(text, KEY, counts)
    assert masking.find_entities(out) == []
    assert sum(counts.values()) == 1
    assert f"<{next(iter(counts))}:" in out


def test_mask_text_same_value_same_token_other_key_other_token() -> None:
    a = masking.mask_text("a@example.com", KEY)
    assert masking.mask_text("write to A@example.com", KEY) == f"write to {a}"
    assert masking.mask_text("a@example.com", b"k2") != a
    assert masking.mask_text("+1 415 555 0132", KEY) == masking.mask_text("+1-415-555-0132", KEY)
    assert masking.mask_text("4111 1111 1111 1111", KEY) == masking.mask_text("4111111111111111", KEY)
    assert masking.mask_text("GB82 WEST 1234 5698 7654 32", KEY) == masking.mask_text("GB82WEST12345698765432", KEY)


def test_pseudonym_is_typed_keyed_and_carries_nothing_of_the_value() -> None:
    token = masking.pseudonym("EMAIL", "jane@example.com", KEY)
    assert token.startswith("<EMAIL:") and len(token) == len("<EMAIL:>") + masking.TOKEN_HEX
    assert "jane" not in token and "example" not in token
    assert masking.pseudonym("EMAIL", "jane@example.com", b"k2") != token
    assert masking.pseudonym("USER", "jane@example.com", KEY) != token.replace("EMAIL", "USER")
    assert masking.pseudonym("EMAIL", "x", b"k" * 100) != masking.pseudonym("EMAIL", "x", b"k" * 101)


def test_mask_text_is_idempotent_and_tokens_are_not_entities() -> None:
    text = "jane@example.com, +44 20 7946 0958, 4111 1111 1111 1111, 10.0.0.1, password=hunter2!"
    once = masking.mask_text(text, KEY)
    assert masking.mask_text(once, KEY) == once
    assert masking.find_entities(once) == []


def test_mask_text_finds_an_entity_right_after_another() -> None:
    # the IP's boundary character is the '@' that ends the URL credentials
    out = masking.mask_text("postgres://svc:pa55word@10.0.0.5/db", KEY)
    assert "pa55word" not in out and "10.0.0.5" not in out


def test_mask_text_ignores_marker_characters_in_the_input() -> None:
    text = "evil \x01\x1e\x1f\x02 jane@example.com \x02"
    out = masking.mask_text(text, KEY)
    assert "jane@example.com" not in out and out.startswith("evil \x01\x1e\x1f\x02 <EMAIL:")


def _row(**over: object) -> dict:
    row = {"trace_id": "t1", "service_name": "svc", "root_span_name": "agent", "error_type": None,
           "request": "I am bob@example.com", "response": "ok, calling +44 20 7946 0958",
           "error_message": None, "session_id": "s1", "user_id": "bob",
           "tool_calls": [{"name": "crm", "arguments": '{"email": "bob@example.com"}',
                           "result": "phone (415) 555-0132", "status": "ok"},
                          {"name": "kb", "arguments": None, "result": "nothing here", "status": "error"}],
           "retrieved_context": ["contact: ann@example.org", None, "plain"]}
    row.update(over)
    return row


def test_mask_traces_masks_every_text_and_pseudonymises_ids() -> None:
    row = _row(error_message="timeout calling 10.0.0.7", root_span_name="GET /users/bob@example.com")
    [out], total = masking.mask_traces([row], KEY)
    assert total == Counter({"EMAIL": 4, "PHONE": 2, "IP": 1})
    assert out["pii_found"] == {"EMAIL": 4, "PHONE": 2, "IP": 1}
    flat = repr(out)
    for secret in ("bob@example.com", "7946", "555-0132", "ann@example.org", "10.0.0.7"):
        assert secret not in flat
    assert out["user_id"].startswith("<USER:") and out["session_id"].startswith("<SESSION:")
    assert out["retrieved_context"][1:] == [None, "plain"]  # list shape and nulls are kept
    assert out["tool_calls"][1] == row["tool_calls"][1]
    assert row["request"] == "I am bob@example.com"  # the input rows are not modified


def test_mask_frame_keeps_rows_order_and_empty_lists() -> None:
    rows = [_row(trace_id=f"t{i}") for i in range(3)] + [
        _row(trace_id="t9", request=None, response=None, tool_calls=[], retrieved_context=[], user_id=None)]
    df = pl.DataFrame(rows)
    masked, counts = masking.mask_frame(df, KEY)
    assert masked.columns == [*df.columns, "pii_found"]
    assert masked["trace_id"].to_list() == ["t0", "t1", "t2", "t9"]
    assert masked["pii_found"].to_list()[3] == [] and masked["tool_calls"].to_list()[3] == []
    assert masked["user_id"].to_list()[3] is None
    assert counts == Counter({"EMAIL": 9, "PHONE": 6})
    assert masked["request"].n_unique() == 2  # the same request gives the same masked text


def test_scan_frame_reports_survivors_and_raw_ids_without_masked_ones() -> None:
    df = pl.DataFrame([_row()])
    found = masking.scan_frame(df)
    assert set(found["kind"]) == {"EMAIL", "PHONE", "USER_ID", "SESSION_ID"}
    assert set(found["column"]) >= {"request", "tool_calls.arguments", "tool_calls.result", "retrieved_context"}
    masked, _ = masking.mask_frame(df, KEY)
    assert masking.scan_frame(masked.drop("pii_found")).is_empty()


def test_redacted_keeps_the_shape_only() -> None:
    assert masking.redacted("Jane.Doe@example.com") == "Xxxx.Xxx@xxxxxxx.xxx"
    assert masking.redacted("+44 20 7946 0958") == "+00 00 0000 0000"


def test_apply_row_policy_drops_opted_out_services_and_tenants() -> None:
    df = pl.DataFrame({
        "trace_id": ["a", "b", "c", "d", "e"],
        "service_name": ["web", "web", "internal-admin", "web", "web"],
        "opted_out": [False, True, False, False, None],  # b: the user opted out
        "tenant": [None, None, None, "acme-health", "acme"],  # d: a listed tenant
    })
    kept, dropped = masking.apply_row_policy(df, drop_services=["internal-admin"], drop_tenants=["acme-health"])
    assert kept["trace_id"].to_list() == ["a", "e"]
    assert "opted_out" not in kept.columns and "tenant" not in kept.columns
    assert dropped == Counter({"opt_out": 1, "service": 1, "tenant": 1})


def test_json_paths_quote_dotted_attribute_names() -> None:
    assert masking.json_paths(["eval.opt_out"]) == ['$."eval.opt_out"']
    assert len(masking.json_paths([])) == 1  # a path that cannot match keeps the list typed


def test_name_detector_plugs_into_mask_frame() -> None:
    def names(text: str) -> list[tuple[int, int]]:
        i = text.find("Jane Doe")
        return [] if i < 0 else [(i, i + len("Jane Doe"))]

    df = pl.DataFrame([_row(response="Thanks Jane Doe, mailed bob@example.com")])
    masked, counts = masking.mask_frame(df, KEY, names=names)
    assert "Jane Doe" not in masked["response"][0] and "<PERSON:" in masked["response"][0]
    assert counts["PERSON"] == 1
    assert {e["key"] for e in masked["pii_found"][0]} >= {"PERSON", "EMAIL"}
    plain, _ = masking.mask_frame(df, KEY)
    assert "Jane Doe" in plain["response"][0]  # off by default


def test_name_detector_load_is_off_by_default_and_explains_what_is_missing() -> None:
    assert pii_names.load("") is None
    with pytest.raises(ValueError, match="privacy.name_detector"):
        pii_names.load("spacy-magic")
    if importlib.util.find_spec("presidio_analyzer") is None:
        with pytest.raises(RuntimeError, match="pip install presidio-analyzer"):
            pii_names.load("presidio")


def test_load_or_create_key_is_stable_and_stored_outside_tables(tmp_path) -> None:
    f = tmp_path / "wh.duckdb.masking.key"
    k1 = masking.load_or_create_key(None, f)
    assert masking.load_or_create_key(None, f) == k1 and len(k1) == 64
    assert masking.load_or_create_key("explicit", f) == b"explicit"
    assert f.stat().st_mode & 0o077 == 0


def test_mask_series_in_parallel_chunks_equals_one_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = pl.Series("t", [f"mail user{i}@example.com or call +44 20 7946 {i % 10000:04d} re order {i}"
                            if i % 3 else None for i in range(3001)])
    whole = masking._mask_chunk(texts, b"k")
    monkeypatch.setattr(masking, "_CHUNK_TEXTS", 700)  # one chunk per core, the last one shorter
    parallel = masking.mask_series(texts, b"k")
    assert parallel.texts.equals(whole.texts) and parallel.texts.name == "t"
    assert parallel.entities.sort(["index", "kind"]).equals(whole.entities.sort(["index", "kind"]))
    assert parallel.counts == whole.counts == Counter({"EMAIL": 2000, "PHONE": 2000})
    assert len(whole.texts) == 3001
