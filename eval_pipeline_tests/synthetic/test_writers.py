"""Contract of ``eval_pipeline.synthetic.writers``: every file format lands in its day folder and the reader
recognises each container for what it is; the JSON writers vary ids, enums, numbers and value kinds.
"""

import collections
import re
import zlib

from eval_pipeline.synthetic import FORMATS


def test_generate_writes_every_format_in_day_folders(landed) -> None:
    root, summary, _, reads, _ = landed
    suffixes = collections.Counter(f.name.split(".", 1)[1] for f in reads)
    assert set(suffixes) == set(FORMATS)
    assert {f.parent.name for f in reads} == {"2026-03-01", "2026-03-02"}
    assert sum(suffixes.values()) == summary["files"]
    names = [f.name for f in reads]
    assert len(set(names)) == len(names)
    # The reader recognised each container for what it is.
    fmts = {f.name.split(".", 1)[1]: r.fmt for f, r in reads.items() if r.spans and not r.problems}
    assert fmts["pb"] == "otlp-proto"
    assert fmts["binpb"] == "otlp-proto-stream"
    assert fmts["jsonl"] == fmts["jsonl.gz"] == "otlp-jsonl"
    assert fmts["json"] == fmts["json.gz"] == "otlp-json"


def test_generate_json_writers_vary_ids_enums_numbers_and_value_kinds(landed) -> None:
    _, _, _, reads, _ = landed
    text = ""
    for f in reads:
        data = f.read_bytes()
        if f.name.endswith(".gz"):
            data = zlib.decompressobj(wbits=47).decompress(data)
        if data[:1] == b"{":
            text += data.decode() + "\n"
    assert re.search(r'"traceId":\s*"[0-9a-f]{32}"', text)
    assert re.search(r'"traceId":\s*"(?=[0-9A-F]*[A-F])[0-9A-F]{32}"', text)  # upper-case hex
    assert re.search(r'"traceId":\s*"[A-Za-z0-9+/]{22}=="', text)  # base64, protobuf's JSON mapping
    assert '"SPAN_KIND_CLIENT"' in text and '"STATUS_CODE_ERROR"' in text
    assert re.search(r'"startTimeUnixNano":\s*\d', text) and re.search(r'"startTimeUnixNano":\s*"\d', text)
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue", "bytesValue"):
        assert f'"{kind}"' in text, kind
