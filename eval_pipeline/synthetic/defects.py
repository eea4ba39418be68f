"""The delivery defects real pipelines have, planted among the batches before they are written: malformed files
(a gzip stream cut short, a broken JSON line, a logs export, an empty file, an attribute over the size limit),
traces split across two files and spans delivered twice."""

import dataclasses
import random
from dataclasses import dataclass, field

import orjson

from eval_pipeline.synthetic.content import APPS, resource_attributes
from eval_pipeline.synthetic.conventions.spans import Span
from eval_pipeline.synthetic.plans import DAY_NS, MS, NS, TracePlan, dumps
from eval_pipeline.synthetic.writers import Batch, Style, attrs_json

# A single attribute value above this many characters is over the ingester's limit (ingest.readers.MAX_ATTRIBUTE_CHARS).
HUGE_ATTRIBUTE_CHARS = 1_300_000

_RESULT_KEYS = ("gen_ai.tool.call.result", "output.value", "mlflow.spanOutputs", "traceloop.entity.output",
                "ai.toolCall.result")


@dataclass
class Malformed:
    """What :func:`plant_malformed` did besides marking batches with their ``defect``."""

    damaged: set[str] = field(default_factory=set)  # traces a malformed file cuts or alters
    files: list[tuple[int, int, str, bytes]] = field(default_factory=list)  # day, export time, extension, content
    huge_span: Span | None = None  # the span whose tool result is over the attribute limit


def _logs_export(p: TracePlan, span_id: str) -> bytes:
    """An OTLP *logs* export (GenAI inference-details events) that landed among the trace files."""
    body = {"gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": p.question}]}]}
    record = {"timeUnixNano": str(p.start_ns), "observedTimeUnixNano": str(p.start_ns + 3 * MS),
              "severityNumber": 9, "severityText": "INFO", "eventName": "gen_ai.client.inference.operation.details",
              "body": Style().value(body), "traceId": p.trace_id, "spanId": span_id,
              "attributes": attrs_json({"gen_ai.operation.name": "chat", "gen_ai.request.model": p.model_request},
                                       Style())}
    doc = {"resourceLogs": [{"resource": {"attributes": attrs_json(resource_attributes(APPS[p.family]), Style())},
                             "scopeLogs": [{"scope": {"name": APPS[p.family].scope_llm[0]}, "logRecords": [record]}]}]}
    return orjson.dumps(doc) + b"\n"


def _huge_value(rng: random.Random) -> str:
    """A tool result nobody should have put in a span: a whole exported document, over 1 MiB."""
    para = ("<tr><td>Order</td><td>A{n}</td><td>shipped</td><td>Customer note: leave at the door, "
            "call +44 20 7946 0{m:03d} if absent</td></tr>\n")
    rows = []
    size = 0
    while size < HUGE_ATTRIBUTE_CHARS:
        row = para.format(n=rng.randrange(10000, 99999), m=rng.randrange(1000))
        rows.append(row)
        size += len(row)
    return dumps({"html": "<table>\n" + "".join(rows) + "</table>"})


def plant_malformed(batches: list[Batch], by_day: dict[int, list[TracePlan]], day0: int,
                    rng: random.Random) -> Malformed:
    """Mark two batches broken (truncated gzip, a bad line), add a logs export and an empty file, and put an
    over-limit tool result into one span, each on another day where there are several."""
    day_list = sorted(by_day)
    out = Malformed()

    def pick_batch(day: int, min_traces: int) -> int | None:
        cands = [i for i, b in enumerate(batches) if b.day == day and not b.defect and len(b.traces) >= min_traces]
        cands = cands or [i for i, b in enumerate(batches) if not b.defect and len(b.traces) >= min_traces]
        return cands[len(cands) // 2] if cands else None

    i = pick_batch(day_list[0], 3)
    if i is None:
        i = pick_batch(day_list[0], 1)
    if i is not None:  # a collector that died mid-write: the gzip stream stops short
        batches[i].fmt, batches[i].defect = "jsonl.gz", "truncated"
        out.damaged.update(batches[i].traces)
    i = pick_batch(day_list[1 % len(day_list)], 2)
    if i is not None:  # a partial write, then the whole request again on the next line
        batches[i].fmt, batches[i].defect = "jsonl", "bad_line"
    d = day_list[2 % len(day_list)]
    genai = [p for p in by_day[d] if p.family == "otel_genai" and any(s.kind == "llm" for s in p.steps)]
    p = genai[0] if genai else by_day[d][0]
    logged = min(p.end_ns + 5 * NS, day0 + (d + 1) * DAY_NS - 1)
    out.files.append((d, logged, "json", _logs_export(p, next(
        (s.span_id for s in p.steps if s.kind == "llm"), p.root_span_id))))
    d = day_list[3 % len(day_list)]
    out.files.append((d, day0 + d * DAY_NS + rng.randrange(DAY_NS - NS), "jsonl", b""))
    d = day_list[4 % len(day_list)]
    tool_spans = {s.span_id for p in by_day[d] for s in p.steps if s.kind == "tool" and not s.error_type}
    for b in (b for b in batches if b.day == d and not b.defect):
        for j, s in enumerate(b.spans):
            key = next((k for k in _RESULT_KEYS if k in s.attrs), None)
            if s.span_id in tool_spans and key:
                out.huge_span = dataclasses.replace(s, attrs=s.attrs | {key: _huge_value(rng)})
                b.spans[j] = out.huge_span
                out.damaged.add(s.trace_id)
                break
        if out.huge_span:
            break
    return out


def _usable(batches: list[Batch]) -> list[int]:
    return [i for i, b in enumerate(batches) if b.defect != "truncated"]


def split_traces(batches: list[Batch], by_day: dict[int, list[TracePlan]], damaged: set[str],
                 rng: random.Random) -> int:
    """Move the roots of some traces into the next file, as when the children are flushed before the root has
    ended; returns how many traces were split."""
    n_split = 0
    usable = _usable(batches)
    for d in sorted(by_day):
        todo = max(1, len(by_day[d]) // 12)
        for i in usable:
            if todo == 0 or batches[i].day != d or i + 1 >= len(batches) or batches[i + 1].defect == "truncated":
                continue
            for tid in batches[i].traces:
                if tid in damaged or rng.random() < 0.5:
                    continue
                root = next(s for s in batches[i].spans if s.trace_id == tid and s.parent_id is None)
                batches[i].spans.remove(root)
                batches[i + 1].spans.insert(0, root)
                n_split += 1
                todo -= 1
                break
    return n_split


def duplicate_spans(batches: list[Batch], by_day: dict[int, list[TracePlan]], huge_span: Span | None,
                    rng: random.Random) -> int:
    """Copy a few spans into a later file, as when an exporter retried a request the receiver had in fact
    accepted; returns how many spans are delivered twice."""
    usable = _usable(batches)
    duplicated: set[tuple[str, str]] = set()
    for d in sorted(by_day):
        for _ in range(3):
            src = rng.choice([i for i in usable if batches[i].day == d])
            dst = min(len(batches) - 1, src + rng.randint(1, 2))
            if dst == src or batches[dst].defect == "truncated":
                continue
            s = rng.choice(batches[src].spans)
            if s is huge_span or (s.trace_id, s.span_id) in duplicated:
                continue
            duplicated.add((s.trace_id, s.span_id))
            batches[dst].spans.append(s)
    return len(duplicated)
