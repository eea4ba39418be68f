"""Synthetic LLM-agent traffic, written as real OpenTelemetry trace files.

:func:`generate` fills a landing directory with what an ingester meets in production: multi-turn
customer-support agent sessions written in six semantic-convention families (OTel GenAI current and
legacy, OpenInference, MLflow, Traceloop, Vercel AI SDK), in every OTLP file format SDKs and the
Collector write (OTLP/JSON, Collector JSON lines, gzip variants, protobuf, the Collector's
length-prefixed proto stream), with the delivery defects real pipelines have: spans delivered twice,
traces split across files, a trace crossing midnight and, optionally, malformed files.

:func:`plan_traffic` returns what :func:`generate` writes, trace by trace (question, answer, tool path,
tokens, session, user), so tests can compare what an ingester reads back with what was meant.

:func:`generate_bulk` writes many spans of the same shape quickly, for the ingest benchmark.

Everything is deterministic for a seed: content comes from ``random.Random(seed)``, never from the
wall clock or the global random state.
"""

import base64
import dataclasses
import datetime
import gzip
import hashlib
import math
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

NS = 1_000_000_000
MS = 1_000_000
DAY_NS = 86_400 * NS

# Family names match what ``normalize.conventions_of`` reports for the span attributes they write.
FAMILIES = ("otel_genai", "otel_genai_legacy", "openinference", "mlflow", "traceloop", "vercel_ai")
FORMATS = ("json", "jsonl", "json.gz", "jsonl.gz", "pb", "binpb")

# A single attribute value above this many characters is over the ingester's limit (otlp.MAX_ATTRIBUTE_CHARS).
HUGE_ATTRIBUTE_CHARS = 1_300_000


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# ------------------------------------------------------------------------------------------ plans


@dataclass
class Step:
    """One child operation of an agent turn: an LLM call, a tool call or a retrieval."""

    kind: str  # "llm", "tool" or "retrieval"
    span_id: str
    start_ns: int
    end_ns: int
    # llm: the input messages (OpenAI-like neutral shape) and the assistant message produced
    messages: list[dict[str, Any]] = field(default_factory=list)
    output: dict[str, Any] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int = 0
    # tool
    tool: str | None = None
    call_id: str | None = None
    arguments: dict[str, Any] | None = None
    result: Any = None
    # retrieval
    query: str | None = None
    documents: list[dict[str, Any]] | None = None
    error_type: str | None = None
    error_message: str | None = None


@dataclass
class TracePlan:
    """One agent turn (one trace) as intended, before it is written in a convention and a format."""

    trace_id: str
    root_span_id: str
    family: str
    service: str
    session_id: str
    user_id: str
    turn: int
    question: str
    answer: str | None
    history: list[dict[str, Any]]
    model_request: str
    model: str
    provider: str
    start_ns: int
    end_ns: int
    steps: list[Step]
    error_type: str | None = None
    error_message: str | None = None
    variant: int = 0  # seeds the per-trace writing choices (message shapes, optional attributes)

    @property
    def tool_path(self) -> list[str]:
        return [s.tool for s in self.steps if s.kind == "tool"]

    @property
    def input_tokens(self) -> int:
        return sum(s.input_tokens or 0 for s in self.steps if s.kind == "llm")

    @property
    def output_tokens(self) -> int:
        return sum(s.output_tokens or 0 for s in self.steps if s.kind == "llm")

    @property
    def n_spans(self) -> int:
        return 1 + len(self.steps)


@dataclass(frozen=True)
class _App:
    family: str
    service: str
    agent: str
    language: str
    scope_agent: tuple[str, str]
    scope_llm: tuple[str, str]
    models: tuple[tuple[str, str, str], ...]  # request model, response model, provider as this producer writes it
    version: str


_SYSTEM_PROMPT = (
    "You are the customer-support assistant of Northwind Shop. Be brief and friendly. Use the tools to look "
    "up customers, orders, refunds and the help centre; never invent order details. Do not reveal internal notes."
)

_APPS = {
    "otel_genai": _App("otel_genai", "support-agent", "SupportAgent", "python",
                       ("agent_framework", "1.0.2"), ("opentelemetry.instrumentation.openai_v2", "2.3b0"),
                       (("gpt-4o", "gpt-4o-2024-08-06", "openai"), ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")),
                       "3.4.1"),
    "otel_genai_legacy": _App("otel_genai_legacy", "order-assistant", "OrderAssistant", "python",
                              ("order_assistant", "0.9.0"), ("opentelemetry.instrumentation.vertexai", "0.52b0"),
                              (("gemini-2.0-flash", "gemini-2.0-flash-001", "vertex_ai"),
                               ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")),
                              "0.9.0"),
    "openinference": _App("openinference", "shop-concierge", "concierge", "python",
                          ("openinference.instrumentation.langchain", "0.1.43"),
                          ("openinference.instrumentation.langchain", "0.1.43"),
                          (("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022", "anthropic"),
                           ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", "openai")),
                          "2.0.0"),
    "mlflow": _App("mlflow", "billing-agent", "billing_agent", "python", ("mlflow.tracing", "3.4.0"),
                   ("mlflow.tracing", "3.4.0"),
                   (("gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "openai"),
                    ("databricks-claude-sonnet-4", "databricks-claude-sonnet-4", "databricks")),
                   "1.12.0"),
    "traceloop": _App("traceloop", "travel-helper", "travel_helper", "python", ("traceloop.tracer", "0.40.7"),
                      ("opentelemetry.instrumentation.anthropic", "0.40.7"),
                      (("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "Anthropic"),
                       ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022", "Anthropic")),
                      "0.3.2"),
    "vercel_ai": _App("vercel_ai", "web-chat", "web-chat", "nodejs", ("ai", "4.3.16"), ("ai", "4.3.16"),
                      (("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai.chat"),
                       ("gemini-2.5-flash", "gemini-2.5-flash", "google.generative-ai")),
                      "1.8.0"),
}


def _resource(app: _App) -> dict[str, Any]:
    sdk_version = "1.45.0" if app.language == "python" else "2.0.1"
    return {"service.name": app.service, "service.version": app.version, "deployment.environment.name": "production",
            "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": app.language,
            "telemetry.sdk.version": sdk_version}


# Tool name: (description, median latency in ms)
_TOOLS = {
    "lookup_customer": ("Find a customer by e-mail address or phone number.", 90),
    "search_orders": ("Search orders by order id or customer id.", 140),
    "refund_payment": ("Refund an order to the original payment method.", 850),
    "send_email": ("Send an e-mail to a customer.", 320),
    "get_weather": ("Weather forecast for a city.", 210),
    "kb_search": ("Search the help-centre knowledge base.", 260),
    "update_address": ("Change a customer's delivery address.", 180),
    "cancel_subscription": ("Cancel a customer's subscription.", 400),
    "create_ticket": ("Open a ticket for the human support team.", 300),
    "check_inventory": ("Stock level and restock date of a product.", 120),
    "translate_text": ("Translate text into another language.", 650),
    "schedule_callback": ("Book a phone call-back by a human agent.", 240),
}

# ----------------------------------------------------------------------------------------- content

_FIRST = ("Jane", "Omar", "Priya", "Lukas", "Mei", "Carlos", "Aisha", "Tom", "Sofia", "Kenji", "Fatima", "Liam",
          "Ines", "Noah", "Yara", "Mateo", "Chloe", "Arjun")
_LAST = ("Doe", "Haddad", "Raman", "Becker", "Chen", "Ortega", "Bello", "Whitfield", "Rossi", "Tanaka", "Nasser",
         "Murphy", "Silva", "Novak", "Lindqvist", "Okafor")
_MAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
_CITIES = ("London", "Manchester", "San Francisco", "Berlin", "Lisbon", "Tokyo", "Toronto", "Sydney", "Paris")
_ITEMS = (("wireless headphones", 129.99), ("espresso machine", 349.0), ("running shoes", 89.5),
          ("4K monitor", 279.0), ("standing desk", 499.0), ("phone case", 19.99), ("robot vacuum", 229.0))
_CARRIERS = ("DHL", "UPS", "Royal Mail", "FedEx")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_STREETS = ("14 Harbour Road, Leith, Edinburgh EH6 6QA", "221 Elm Street, Apt 4B, Springfield, IL 62704",
            "Kastanienallee 12, 10435 Berlin", "Rua das Flores 88, 1200-195 Lisboa", "5 Queen Street, Toronto M5C 2B5")
_WEATHER = ("sunny", "light rain", "overcast", "thunderstorms", "snow showers", "partly cloudy")

_KB = (
    {"id": "kb-returns-01", "title": "Returns policy",
     "content": "Unopened items can be returned within 30 days for a full refund. Opened electronics can be returned "
                "within 14 days and are subject to a 10% restocking fee."},
    {"id": "kb-shipping-02", "title": "Shipping destinations",
     "content": "We ship to the EU, the UK, the US, Canada and Australia. Standard delivery takes 3-5 business days, "
                "express delivery 1-2 business days."},
    {"id": "kb-warranty-03", "title": "Warranty",
     "content": "All electronics carry a 2-year limited warranty covering manufacturing defects."},
    {"id": "kb-refunds-04", "title": "Refund timing",
     "content": "Refunds go back to the original payment method within 3-5 business days after approval."},
    {"id": "kb-subscriptions-05", "title": "Premium subscription",
     "content": "Premium can be cancelled at any time; the current month is refunded if cancelled within 7 days of "
                "renewal."},
    {"id": "kb-damaged-06", "title": "Damaged items",
     "content": "If an item arrives damaged, send a photo within 48 hours and we ship a replacement or refund it."},
    {"id": "kb-contact-07", "title": "Contact us",
     "content": "Our phone line +44 20 7946 0000 is open Monday to Friday, 8am to 6pm UK time."},
)


def _phone(rng: random.Random) -> str:
    """A fictional phone number (Ofcom drama ranges, NANP 555-01xx, French 01 99 00), varied formats."""
    n3, n2, m2 = rng.randrange(1000), rng.randrange(100), rng.randrange(100)
    forms = (f"+44 20 7946 0{n3:03d}", f"020 7946 0{n3:03d}", f"({rng.choice(('415', '212', '312'))}) 555-01{n2:02d}",
             f"+1 415-555-01{n2:02d}", f"0161 496 0{n3:03d}", f"+33 1 99 00 {n2:02d} {m2:02d}",
             f"+1 (646) 555-01{n2:02d}", f"+44 7700 900{n3:03d}")
    return rng.choice(forms)


@dataclass
class _Customer:
    first: str
    name: str
    email: str
    phone: str
    customer_id: str
    address: str
    card_last4: str
    orders: list[dict[str, Any]]

    def record(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "name": self.name, "email": self.email, "phone": self.phone,
                "tier": "gold" if self.customer_id[-1] in "0123" else "standard", "address": self.address}


def _customer(rng: random.Random) -> _Customer:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    style = rng.randrange(3)
    local = (f"{first}.{last}", f"{first[0]}{last}{rng.randrange(10, 99)}", f"{first}_{last}")[style].lower()
    orders = []
    for _ in range(2):
        item, price = rng.choice(_ITEMS)
        orders.append({
            "order_id": f"A{rng.randrange(10000, 99999)}", "item": item, "total": price,
            "status": rng.choice(("shipped", "shipped", "in transit", "delivered")),
            "carrier": rng.choice(_CARRIERS), "tracking": f"1Z{rng.randrange(10**9, 10**10)}",
            "shipped": rng.choice(_DAYS), "eta": rng.choice(_DAYS),
        })
    return _Customer(first, f"{first} {last}", f"{local}@{rng.choice(_MAIL_DOMAINS)}", _phone(rng),
                     f"C-{rng.randrange(10000, 99999)}", rng.choice(_STREETS), f"{rng.randrange(10000):04d}", orders)


@dataclass
class _Script:
    """What happens in one turn: the question, rounds of tool calls (name, arguments, result), the answer."""

    question: str
    rounds: list[list[tuple[str, dict[str, Any], Any]]]
    answer: str
    documents: list[dict[str, Any]] | None = None


def _kb_docs(rng: random.Random, first: dict[str, Any]) -> list[dict[str, Any]]:
    others = rng.sample([d for d in _KB if d is not first], rng.randint(1, 3))
    score = rng.uniform(0.82, 0.95)
    out = []
    for d in (first, *others):
        out.append({"id": d["id"], "title": d["title"], "content": d["content"], "score": round(score, 3)})
        score -= rng.uniform(0.08, 0.2)
    return out


def _sc_order_status(rng: random.Random, c: _Customer) -> _Script:
    o = c.orders[0]
    q = rng.choice((f"Hi, I'm {c.name} ({c.email}). Where is my order {o['order_id']}? It still hasn't arrived.",
                    f"Hello, order {o['order_id']} was due days ago, can you check? My phone is {c.phone}.",
                    f"my parcel never came, order number {o['order_id']}, email {c.email}"))
    rounds = [[("lookup_customer", {"email": c.email}, c.record())],
              [("search_orders", {"customer_id": c.customer_id, "order_id": o["order_id"]}, {"orders": [o]})]]
    a = (f"I found order {o['order_id']} ({o['item']}). It shipped on {o['shipped']} with {o['carrier']}, tracking "
         f"number {o['tracking']}, and should arrive by {o['eta']}.")
    return _Script(q, rounds, a)


def _sc_order_quick(rng: random.Random, c: _Customer) -> _Script:
    o = c.orders[1]
    q = rng.choice((f"What's the status of order {o['order_id']}?", f"Has {o['order_id']} shipped yet?"))
    rounds = [[("search_orders", {"order_id": o["order_id"]}, {"orders": [o]})]]
    return _Script(q, rounds, f"Order {o['order_id']} is {o['status']} with {o['carrier']} (tracking {o['tracking']}).")


def _sc_refund(rng: random.Random, c: _Customer, email: bool = False) -> _Script:
    o = c.orders[0]
    q = rng.choice((f"The {o['item']} from order {o['order_id']} arrived broken. I want my money back. "
                    f"You can call me on {c.phone}.",
                    f"I'd like a refund for {o['order_id']}, it's faulty. My account is {c.email}."))
    refund = {"refund_id": f"re_{rng.getrandbits(48):012x}", "status": "succeeded", "amount": o["total"],
              "currency": "GBP", "card_last4": c.card_last4}
    rounds = [[("lookup_customer", {"phone": c.phone}, c.record())],
              [("search_orders", {"customer_id": c.customer_id}, {"orders": c.orders})],
              [("refund_payment", {"order_id": o["order_id"], "amount": o["total"], "reason": "damaged"}, refund)]]
    a = (f"Sorry about that! I've refunded {o['total']:.2f} GBP to your card ending {c.card_last4} "
         f"(refund {refund['refund_id']}). It should show up within 3-5 business days.")
    if email:
        rounds.append([("send_email", {"to": c.email, "subject": f"Your refund for {o['order_id']}",
                                       "body": f"Hi {c.first}, we refunded {o['total']:.2f} GBP."},
                        {"message_id": f"<{rng.getrandbits(40):010x}@mail.northwind.example>", "status": "queued"})])
        a += f" I've also sent a confirmation to {c.email}."
    return _Script(q, rounds, a)


def _forecast(rng: random.Random, city: str) -> dict[str, Any]:
    lo = rng.randint(-3, 18)
    return {"city": city, "date": "tomorrow", "condition": rng.choice(_WEATHER), "low_c": lo,
            "high_c": lo + rng.randint(3, 11), "precipitation_mm": round(rng.uniform(0, 12), 1)}


def _sc_weather(rng: random.Random, c: _Customer) -> _Script:
    city = rng.choice(_CITIES)
    f = _forecast(rng, city)
    q = rng.choice((f"What's the weather going to be like in {city} tomorrow? My delivery is due then.",
                    f"Will it rain in {city} tomorrow?"))
    a = f"Tomorrow in {city}: {f['condition']}, between {f['low_c']} and {f['high_c']} degrees C."
    return _Script(q, [[("get_weather", {"city": city, "date": "tomorrow"}, f)]], a)


def _sc_weather_compare(rng: random.Random, c: _Customer) -> _Script:
    c1, c2 = rng.sample(_CITIES, 2)
    f1, f2 = _forecast(rng, c1), _forecast(rng, c2)
    q = f"Compare tomorrow's weather in {c1} and {c2}, I'm travelling between them."
    a = (f"{c1}: {f1['condition']}, up to {f1['high_c']} degrees C. {c2}: {f2['condition']}, up to "
         f"{f2['high_c']} degrees C.")
    return _Script(q, [[("get_weather", {"city": c1, "date": "tomorrow"}, f1),
                        ("get_weather", {"city": c2, "date": "tomorrow"}, f2)]], a)


_POLICY_QUESTIONS = (
    ("Can I return opened headphones?", 0), ("Do you ship to Canada, and how long does it take?", 1),
    ("How long is the warranty on a monitor?", 2), ("When will I get my refund?", 3),
    ("Can I cancel premium and get this month back?", 4), ("My vacuum arrived with a cracked lid, what now?", 5),
)


def _sc_policy_tool(rng: random.Random, c: _Customer) -> _Script:
    q, i = rng.choice(_POLICY_QUESTIONS)
    docs = _kb_docs(rng, _KB[i])
    result = {"results": [{"id": d["id"], "title": d["title"], "snippet": d["content"], "score": d["score"]}
                          for d in docs]}
    return _Script(q, [[("kb_search", {"query": q, "top_k": len(docs)}, result)]], f"{_KB[i]['content']}")


def _sc_policy_rag(rng: random.Random, c: _Customer) -> _Script:
    q, i = rng.choice(_POLICY_QUESTIONS)
    return _Script(q, [], f"According to our help centre: {_KB[i]['content']}", documents=_kb_docs(rng, _KB[i]))


def _sc_parallel(rng: random.Random, c: _Customer) -> _Script:
    q = f"I'm {c.name}, {c.phone}. Did my last two orders go out?"
    rounds = [[("lookup_customer", {"phone": c.phone}, c.record()),
               ("search_orders", {"customer_phone": c.phone, "limit": 2}, {"orders": c.orders})]]
    o1, o2 = c.orders
    return _Script(q, rounds, f"Yes: {o1['order_id']} is {o1['status']} and {o2['order_id']} is {o2['status']}.")


def _sc_invoice(rng: random.Random, c: _Customer) -> _Script:
    o = c.orders[0]
    to = f"accounts@{c.name.split()[1].lower()}-consulting.example.com"
    q = f"Please email the invoice for order {o['order_id']} to {to}."
    rounds = [[("search_orders", {"order_id": o["order_id"]}, {"orders": [o]})],
              [("send_email", {"to": to, "subject": f"Invoice {o['order_id']}",
                               "attachments": [f"{o['order_id']}.pdf"]},
                {"message_id": f"<{rng.getrandbits(40):010x}@mail.northwind.example>", "status": "queued"})]]
    return _Script(q, rounds, f"Done, the invoice for {o['order_id']} is on its way to {to}.")


def _sc_address(rng: random.Random, c: _Customer) -> _Script:
    new = rng.choice([s for s in _STREETS if s != c.address])
    q = f"I moved. Please change the delivery address on my account ({c.email}) to {new}."
    rounds = [[("lookup_customer", {"email": c.email}, c.record())],
              [("update_address", {"customer_id": c.customer_id, "address": new}, {"ok": True})],
              [("send_email", {"to": c.email, "subject": "Address updated"}, {"status": "queued"})]]
    return _Script(q, rounds, f"Your address is now {new}; I've emailed you a confirmation.")


def _sc_cancel(rng: random.Random, c: _Customer) -> _Script:
    q = f"Cancel my premium subscription and refund this month. Account email {c.email}, phone {c.phone}."
    rounds = [[("lookup_customer", {"email": c.email}, c.record())],
              [("cancel_subscription", {"customer_id": c.customer_id, "plan": "premium"},
                {"status": "cancelled", "refundable_amount": 9.99})],
              [("refund_payment", {"customer_id": c.customer_id, "amount": 9.99, "reason": "subscription"},
                {"status": "succeeded", "card_last4": c.card_last4})],
              [("send_email", {"to": c.email, "subject": "Premium cancelled"}, {"status": "queued"})]]
    return _Script(q, rounds, "Premium is cancelled and 9.99 GBP is on its way back to the card ending "
                              f"{c.card_last4}.")


def _sc_escalate(rng: random.Random, c: _Customer) -> _Script:
    q = (f"This is the third time I'm writing about a double charge on my card. Call me on {c.phone}, "
         "I want to speak to a human.")
    ticket = f"T-{rng.randrange(100000, 999999)}"
    rounds = [[("kb_search", {"query": "double charge"}, {"results": []})],
              [("lookup_customer", {"phone": c.phone}, c.record())],
              [("create_ticket", {"customer_id": c.customer_id, "summary": "double charge, customer asks for a call",
                                  "priority": "high"}, {"ticket_id": ticket})],
              [("send_email", {"to": c.email, "subject": f"Ticket {ticket}"}, {"status": "queued"})]]
    return _Script(q, rounds, f"I'm sorry. I've opened ticket {ticket} with high priority; a colleague will call "
                              f"you on {c.phone} today.")


def _sc_restock(rng: random.Random, c: _Customer) -> _Script:
    o = c.orders[1]
    sku = f"SKU-{rng.randrange(100000, 999999)}"
    q = f"The {o['item']} in order {o['order_id']} was out of stock, when will it be back?"
    rounds = [[("search_orders", {"order_id": o["order_id"]}, {"orders": [o | {"sku": sku}]})],
              [("check_inventory", {"sku": sku}, {"sku": sku, "in_stock": 0, "restock": rng.choice(_DAYS)})],
              [("create_ticket", {"summary": f"notify {c.email} on restock of {sku}", "priority": "low"},
                {"ticket_id": f"T-{rng.randrange(100000, 999999)}"})]]
    return _Script(q, rounds, f"The {o['item']} should be back in stock soon; I'll let you know by email.")


def _sc_translate(rng: random.Random, c: _Customer) -> _Script:
    q = f"Hola, ¿puedo devolver un producto sin recibo? Mi correo es {c.email}."
    rounds = [[("translate_text", {"text": q, "target": "en"},
                {"translation": f"Hello, can I return a product without a receipt? My email is {c.email}.",
                 "source_lang": "es"})],
              [("kb_search", {"query": "return without receipt"},
                {"results": [{"id": "kb-returns-01", "snippet": _KB[0]["content"], "score": 0.77}]})]]
    return _Script(q, rounds, "Sí, puede devolverlo en 30 días; buscaremos su pedido con su correo.")


def _sc_callback(rng: random.Random, c: _Customer) -> _Script:
    city = rng.choice(_CITIES)
    q = f"Will the storm in {city} delay my delivery? Please call me back at {c.phone} tomorrow morning."
    rounds = [[("get_weather", {"city": city, "date": "tomorrow"}, _forecast(rng, city))],
              [("kb_search", {"query": "weather delays"}, {"results": [{"id": "kb-shipping-02", "score": 0.64}]})],
              [("schedule_callback", {"phone": c.phone, "when": "tomorrow 09:00"},
                {"callback_id": f"cb_{rng.getrandbits(32):08x}", "status": "booked"})]]
    return _Script(q, rounds, f"Deliveries to {city} may slip by a day. I've booked a call to {c.phone} "
                              "tomorrow at 9am.")


def _sc_thanks(rng: random.Random, c: _Customer) -> _Script:
    q = rng.choice(("Thanks, that's all!", "Great, thank you.", "ok cheers"))
    return _Script(q, [], f"You're welcome, {c.first}! Have a great day.")


def _sc_phone_line(rng: random.Random, c: _Customer) -> _Script:
    return _Script("Is there a phone number I can call instead?", [],
                   "Yes: +44 20 7946 0000, Monday to Friday 8am-6pm, or (415) 555-0100 from the US.")


def _sc_followup_email(rng: random.Random, c: _Customer) -> _Script:
    q = f"Could you email me a summary at {c.email}?"
    rounds = [[("send_email", {"to": c.email, "subject": "Your conversation with Northwind"},
                {"message_id": f"<{rng.getrandbits(40):010x}@mail.northwind.example>", "status": "queued"})]]
    return _Script(q, rounds, f"Sent to {c.email}.")


# (scenario, weight as a first turn, weight as a follow-up): common paths first, then the long tail.
_SCENARIOS = (
    (_sc_order_status, 18, 4), (_sc_order_quick, 10, 6), (lambda r, c: _sc_refund(r, c), 7, 3),
    (lambda r, c: _sc_refund(r, c, email=True), 3, 1), (_sc_weather, 8, 3), (_sc_weather_compare, 3, 1),
    (_sc_policy_tool, 12, 5), (_sc_policy_rag, 10, 5), (_sc_parallel, 4, 2), (_sc_invoice, 4, 3),
    (_sc_address, 1, 1), (_sc_cancel, 1, 0.5), (_sc_escalate, 1, 1), (_sc_restock, 1, 0.5),
    (_sc_translate, 1, 0.3), (_sc_callback, 0.5, 0.3), (_sc_thanks, 0.5, 14), (_sc_phone_line, 1, 3),
    (_sc_followup_email, 0, 6),
)

_TRANSIENT_ERRORS = (("TimeoutError", "{tool} did not answer within 10 s"),
                     ("ConnectionError", "{tool}: upstream returned 503 Service Unavailable"),
                     ("httpx.ReadTimeout", "timed out reading from {tool} backend"))
_FATAL_ERRORS = (("PaymentDeclinedError", "card_declined: the issuer refused the operation"),
                 ("PermissionError", "agent may not call {tool} for an unverified customer"),
                 ("KeyError", "'customer_id'"))
_LLM_ERRORS = {"rate_limit": ("RateLimitError", "Error code: 429 - Rate limit reached for requests per minute"),
               "context_length": ("BadRequestError",
                                  "Error code: 400 - context_length_exceeded: maximum context length is 128000 tokens")}


def _tokens(text: str | None) -> int:
    return (len(text) + 3) // 4 if text else 0


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    n = 3 + 55 * len(_TOOLS)  # tool schemas sent with every request
    for m in messages:
        n += 4 + _tokens(m.get("content"))
        for tc in m.get("tool_calls") or ():
            n += 8 + _tokens(_dumps(tc["arguments"]))
    return n


def _lognormal_ms(rng: random.Random, median: float, sigma: float) -> float:
    return rng.lognormvariate(math.log(median), sigma)


def _llm_ns(rng: random.Random, out_tokens: int) -> int:
    ms = _lognormal_ms(rng, 380, 0.35) + out_tokens * rng.uniform(9, 22)
    if rng.random() < 0.03:  # the latency tail: overloaded provider, retries inside the client
        ms *= rng.uniform(4, 12)
    return int(ms * MS)


def _tool_ns(rng: random.Random, tool: str) -> int:
    ms = _lognormal_ms(rng, _TOOLS[tool][1], 0.55)
    if rng.random() < 0.025:
        ms *= rng.uniform(10, 40)
    return int(ms * MS)


def _span_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(64) or 1:016x}"


def _call_id(rng: random.Random, family: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    tail = "".join(rng.choice(alphabet) for _ in range(24))
    return f"toolu_01{tail}" if family in ("traceloop", "openinference") and rng.random() < 0.5 else f"call_{tail}"


def _plan_trace(rng: random.Random, app: _App, script: _Script, t0: int, history: list[dict[str, Any]],
                session_id: str, user_id: str, turn: int, pre_gap_ns: int | None = None) -> TracePlan:
    req_model, model, provider = app.models[0] if rng.random() < 0.65 else rng.choice(app.models[1:])
    trace_id = f"{rng.getrandbits(128) or 1:032x}"
    root_id = _span_id(rng)
    t = t0 + (pre_gap_ns if pre_gap_ns is not None else rng.randint(2, 25) * MS)
    messages: list[dict[str, Any]] = [{"role": "system", "content": _SYSTEM_PROMPT}, *history,
                                      {"role": "user", "content": script.question}]
    steps: list[Step] = []

    def gap() -> int:
        return rng.randint(1, 15) * MS

    def add_llm(output: dict[str, Any] | None, error: tuple[str, str] | None = None) -> None:
        nonlocal t
        inp = _prompt_tokens(messages)
        if output is None:
            out = 0
        elif output.get("tool_calls"):
            out = sum(12 + _tokens(_dumps(tc["arguments"])) for tc in output["tool_calls"])
        else:
            out = _tokens(output["content"]) + rng.randint(0, 6)
        cached = 0
        if (turn or steps) and inp >= 1024 and rng.random() < 0.6:
            cached = int(inp * rng.uniform(0.5, 0.9)) // 128 * 128
        dur = _llm_ns(rng, out)
        if error:
            dur = min(dur, rng.randint(150, 900) * MS)
        step = Step("llm", _span_id(rng), t, t + dur, messages=list(messages), output=output,
                    input_tokens=None if error else inp, output_tokens=None if error else out,
                    cached_tokens=0 if error else cached)
        if error:
            step.error_type, step.error_message = error
        steps.append(step)
        t += dur + gap()

    def add_tools(calls: list[dict[str, Any]], results: list[Any], errors: list[tuple[str, str] | None]) -> None:
        nonlocal t
        end = t
        for call, result, error in zip(calls, results, errors, strict=True):
            start = t + rng.randint(0, 3) * MS  # parallel calls start together
            dur = _tool_ns(rng, call["name"])
            step = Step("tool", _span_id(rng), start, start + dur, tool=call["name"], call_id=call["id"],
                        arguments=call["arguments"], result=None if error else result)
            content = _dumps(result)
            if error:
                step.error_type, step.error_message = error
                content = f"Error: {error[1]}"
            steps.append(step)
            messages.append({"role": "tool", "tool_call_id": call["id"], "name": call["name"], "content": content})
            end = max(end, start + dur)
        t = end + gap()

    if script.documents:
        dur = int(_lognormal_ms(rng, 180, 0.4) * MS)
        steps.append(Step("retrieval", _span_id(rng), t, t + dur, query=script.question,
                          documents=script.documents))
        t += dur + gap()
        context = "\n".join(d["content"] for d in script.documents)
        messages[0] = {"role": "system", "content": f"{_SYSTEM_PROMPT}\n\nHelp-centre passages:\n{context}"}

    mode = None
    if rng.random() < 0.07:
        mode = rng.choice(("rate_limit", "context_length", "tool_fatal"))
        if mode == "tool_fatal" and not script.rounds:
            mode = "rate_limit"
    fatal_round = rng.randrange(len(script.rounds)) if mode == "tool_fatal" else None
    retry_round = rng.randrange(len(script.rounds)) if script.rounds and not mode and rng.random() < 0.15 else None
    root_error: tuple[str, str] | None = None

    for ri, round_ in enumerate(script.rounds):
        calls = [{"id": _call_id(rng, app.family), "name": name, "arguments": args} for name, args, _ in round_]
        results = [result for _, _, result in round_]
        add_llm({"role": "assistant", "content": None, "tool_calls": calls, "finish_reason": "tool_calls"})
        messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        errors: list[tuple[str, str] | None] = [None] * len(calls)
        if ri in (fatal_round, retry_round):
            kind, text = rng.choice(_FATAL_ERRORS if ri == fatal_round else _TRANSIENT_ERRORS)
            errors[0] = (kind, text.format(tool=calls[0]["name"]))
        add_tools(calls, results, errors)
        if ri == fatal_round:
            root_error = errors[0]
            break
        if ri == retry_round:  # the model reads the error and calls the tool again, which works this time
            retry = [{"id": _call_id(rng, app.family), "name": calls[0]["name"], "arguments": calls[0]["arguments"]}]
            add_llm({"role": "assistant", "content": None, "tool_calls": retry, "finish_reason": "tool_calls"})
            messages.append({"role": "assistant", "content": None, "tool_calls": retry})
            add_tools(retry, [results[0]], [None])

    if root_error is None:
        if mode in _LLM_ERRORS:
            root_error = _LLM_ERRORS[mode]
            add_llm(None, root_error)
        else:
            add_llm({"role": "assistant", "content": script.answer, "finish_reason": "stop"})
    end = t + rng.randint(1, 8) * MS
    return TracePlan(
        trace_id, root_id, app.family, app.service, session_id, user_id, turn, script.question,
        None if root_error else script.answer, list(history), req_model, model, provider, t0, end, steps,
        root_error[0] if root_error else None, root_error[1] if root_error else None, rng.getrandbits(32),
    )


def _session_user(rng: random.Random, family: str) -> tuple[str, str]:
    h = rng.getrandbits(128)
    if family == "otel_genai":
        return f"conv_{h:032x}"[:29], f"user-{rng.randrange(100000):05d}"
    if family == "openinference":
        s = f"{h:032x}"
        return f"{s[:8]}-{s[8:12]}-4{s[13:16]}-a{s[17:20]}-{s[20:]}", f"u_{rng.getrandbits(32):08x}"
    if family == "mlflow":
        return f"sess-{h % 10**8:08d}", f"acct_{rng.randrange(10**6):06d}"
    if family == "vercel_ai":
        return f"chat_{h:032x}"[:21], f"usr_{rng.getrandbits(40):010x}"
    return f"session-{h:032x}"[:24], f"user-{rng.randrange(100000):05d}"


def _pick(rng: random.Random, first: bool) -> Any:
    weights = [s[1] if first else s[2] for s in _SCENARIOS]
    return rng.choices(_SCENARIOS, weights=weights)[0][0]


def _plan_session(rng: random.Random, family: str, n_turns: int | None = None,
                  pre_gap_ns: int | None = None) -> list[TracePlan]:
    """A session's turns, timed from 0; the caller shifts them into place."""
    customer = _customer(rng)
    session_id, user_id = _session_user(rng, family)
    if n_turns is None:
        n_turns = rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 28, 20, 11, 7, 4))[0]
    plans: list[TracePlan] = []
    history: list[dict[str, Any]] = []
    t = 0
    for turn in range(n_turns):
        script = _pick(rng, turn == 0)(rng, customer)
        plan = _plan_trace(rng, _APPS[family], script, t, history, session_id, user_id, turn,
                           pre_gap_ns if turn == 0 else None)
        plans.append(plan)
        history = [*history, {"role": "user", "content": plan.question}]
        if plan.answer:
            history.append({"role": "assistant", "content": plan.answer})
        t = plan.end_ns + int(_lognormal_ms(rng, 40_000, 0.7) * MS)  # the user reads and types
    return plans


def _shift(plan: TracePlan, delta: int) -> TracePlan:
    plan.start_ns += delta
    plan.end_ns += delta
    for s in plan.steps:
        s.start_ns += delta
        s.end_ns += delta
    return plan


# Relative traffic per UTC hour: quiet at night, busy in European and American working hours.
_HOURLY = (2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 10, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3)


def _day_ns(day: datetime.date) -> int:
    return (day - datetime.date(1970, 1, 1)).days * DAY_NS


def plan_traffic(start: datetime.date, days: int, sessions_per_day: int = 30, seed: int = 7) -> list[TracePlan]:
    """The traces :func:`generate` writes for these arguments, ordered by start time."""
    if days < 1 or sessions_per_day < 1:
        msg = f"days ({days}) and sessions_per_day ({sessions_per_day}) must both be at least 1."
        raise ValueError(msg)
    rng = random.Random(seed)
    plans: list[TracePlan] = []
    for d in range(days):
        day0 = _day_ns(start) + d * DAY_NS
        order = list(FAMILIES)
        rng.shuffle(order)
        for i in range(sessions_per_day):
            session = _plan_session(rng, order[i % len(order)])
            duration = session[-1].end_ns
            hour = rng.choices(range(24), weights=_HOURLY)[0]
            t = day0 + hour * 3600 * NS + rng.randrange(3600 * NS)
            t = max(day0, min(t, day0 + DAY_NS - duration - NS))
            plans.extend(_shift(p, t) for p in session)
        if d < days - 1:
            # One trace crossing midnight: the root starts at 23:59:5x, its children after 00:00.
            before = rng.randint(1, 9) * NS
            session = _plan_session(rng, order[sessions_per_day % len(order)], n_turns=1,
                                    pre_gap_ns=before + rng.randint(50, 400) * MS)
            plans.extend(_shift(p, day0 + DAY_NS - before) for p in session)
    plans.sort(key=lambda p: (p.start_ns, p.trace_id))
    return plans


# --------------------------------------------------------------------------------------- encoding


@dataclass
class _Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: int
    start: int
    end: int
    attrs: dict[str, Any]
    events: list[tuple[str, int, dict[str, Any]]]
    status: int
    message: str | None
    family: str
    scope: tuple[str, str]


def _exception_event(t: int, etype: str, message: str, language: str) -> tuple[str, int, dict[str, Any]]:
    if language == "nodejs":
        stack = f"{etype}: {message}\n    at executeTools (node_modules/ai/dist/index.mjs:4123:17)\n    at async run"
    else:
        stack = ("Traceback (most recent call last):\n  File \"agent/runtime.py\", line 88, in run\n"
                 f"    return await self._call(**kwargs)\n{etype}: {message}")
    return ("exception", t, {"exception.type": etype, "exception.message": message,
                             "exception.stacktrace": stack, "exception.escaped": False})


def _mk(p: TracePlan, app: _App, span_id: str, parent: str | None, name: str, kind: int, start: int, end: int,
        attrs: dict[str, Any], scope: tuple[str, str], events: list | None = None,
        error: tuple[str | None, str | None] = (None, None), ok: bool = False) -> _Span:
    events = list(events or ())
    status, message = (1 if ok else 0), None
    if error[0]:
        status, message = 2, error[1]
        events.append(_exception_event(end, error[0], error[1] or "", app.language))
    return _Span(p.trace_id, span_id, parent, name, kind, start, end, attrs, events, status, message, app.family,
                 scope)


def _root_messages(p: TracePlan) -> list[dict[str, Any]]:
    return [*p.history, {"role": "user", "content": p.question}]


def _finish(s: Step) -> str:
    return (s.output or {}).get("finish_reason") or "error"


def _genai_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        if m["role"] == "system":
            continue
        if m["role"] == "tool":
            parts = [{"type": "tool_call_response", "id": m["tool_call_id"], "response": m["content"]}]
        elif m.get("tool_calls"):
            parts = [{"type": "tool_call", "id": tc["id"], "name": tc["name"], "arguments": tc["arguments"]}
                     for tc in m["tool_calls"]]
        else:
            parts = [{"type": "text", "content": m["content"]}]
        msg = {"role": m["role"], "parts": parts}
        if "finish_reason" in m:
            msg["finish_reason"] = "tool_call" if m["finish_reason"] == "tool_calls" else m["finish_reason"]
        out.append(msg)
    return out


def _openai_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        if m.get("tool_calls"):
            out.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": tc["id"], "type": "function",
                 "function": {"name": tc["name"], "arguments": _dumps(tc["arguments"])}} for tc in m["tool_calls"]]})
        elif m["role"] == "tool":
            out.append({"role": "tool", "tool_call_id": m["tool_call_id"], "content": m["content"]})
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def _vercel_messages(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for m in msgs:
        if m["role"] == "system":
            out.append({"role": "system", "content": m["content"]})
        elif m.get("tool_calls"):
            out.append({"role": "assistant", "content": [
                {"type": "tool-call", "toolCallId": tc["id"], "toolName": tc["name"], "args": tc["arguments"]}
                for tc in m["tool_calls"]]})
        elif m["role"] == "tool":
            out.append({"role": "tool", "content": [{"type": "tool-result", "toolCallId": m["tool_call_id"],
                                                     "toolName": m["name"], "result": _decode_or_text(m["content"])}]})
        else:
            out.append({"role": m["role"], "content": [{"type": "text", "text": m["content"]}]})
    return out


def _decode_or_text(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _flat_legacy(prefix: str, msgs: list[dict[str, Any]], a: dict[str, Any]) -> None:
    for i, m in enumerate(msgs):
        a[f"{prefix}.{i}.role"] = m["role"]
        if m.get("content") is not None:
            a[f"{prefix}.{i}.content"] = m["content"]
        if "finish_reason" in m:
            a[f"{prefix}.{i}.finish_reason"] = m["finish_reason"]
        for j, tc in enumerate(m.get("tool_calls") or ()):
            a[f"{prefix}.{i}.tool_calls.{j}.id"] = tc["id"]
            a[f"{prefix}.{i}.tool_calls.{j}.name"] = tc["name"]
            a[f"{prefix}.{i}.tool_calls.{j}.arguments"] = _dumps(tc["arguments"])
        if m["role"] == "tool":
            a[f"{prefix}.{i}.tool_call_id"] = m["tool_call_id"]


def _flat_oi(prefix: str, msgs: list[dict[str, Any]], a: dict[str, Any], contents: bool) -> None:
    for i, m in enumerate(msgs):
        b = f"{prefix}.{i}.message."
        a[b + "role"] = m["role"]
        if m.get("content") is not None:
            if contents and m["role"] == "user":  # the multi-part form some instrumentors write
                a[b + "contents.0.message_content.type"] = "text"
                a[b + "contents.0.message_content.text"] = m["content"]
            else:
                a[b + "content"] = m["content"]
        for k, tc in enumerate(m.get("tool_calls") or ()):
            a[f"{b}tool_calls.{k}.tool_call.id"] = tc["id"]
            a[f"{b}tool_calls.{k}.tool_call.function.name"] = tc["name"]
            a[f"{b}tool_calls.{k}.tool_call.function.arguments"] = _dumps(tc["arguments"])
        if m["role"] == "tool":
            a[b + "tool_call_id"] = m["tool_call_id"]
            a[b + "name"] = m["name"]


def _legacy_events(s: Step, system: str) -> list[tuple[str, int, dict[str, Any]]]:
    names = {"system": "gen_ai.system.message", "user": "gen_ai.user.message",
             "assistant": "gen_ai.assistant.message", "tool": "gen_ai.tool.message"}
    out = []
    for m in s.messages:
        ea: dict[str, Any] = {"gen_ai.system": system}
        if m.get("content") is not None:
            ea["content"] = m["content"]
        if m.get("tool_calls"):
            ea["tool_calls"] = [{"id": tc["id"], "type": "function",
                                 "function": {"name": tc["name"], "arguments": _dumps(tc["arguments"])}}
                                for tc in m["tool_calls"]]
        if m["role"] == "tool":
            ea["id"] = m["tool_call_id"]
        out.append((names[m["role"]], s.start_ns, ea))
    if s.output:
        msg: dict[str, Any] = {"role": "assistant"}
        if s.output.get("content"):
            msg["content"] = s.output["content"]
        if s.output.get("tool_calls"):
            msg["tool_calls"] = [{"id": tc["id"], "type": "function",
                                  "function": {"name": tc["name"], "arguments": _dumps(tc["arguments"])}}
                                 for tc in s.output["tool_calls"]]
        out.append(("gen_ai.choice", s.end_ns, {"gen_ai.system": system, "index": 0,
                                                "finish_reason": _finish(s), "message": msg}))
    return out


def _hexid(v: random.Random, n: int) -> str:
    return f"{v.getrandbits(n * 4):0{n}x}"


def _enc_otel_genai(p: TracePlan, app: _App, v: random.Random) -> list[_Span]:
    spans = []
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {
                "gen_ai.operation.name": "chat", "gen_ai.provider.name": p.provider,
                "gen_ai.request.model": p.model_request, "gen_ai.request.temperature": 0.2,
                "gen_ai.request.max_tokens": 1024, "gen_ai.conversation.id": p.session_id,
                "server.address": "api.openai.com", "server.port": 443,
                "gen_ai.system_instructions": _dumps([{"type": "text", "content": s.messages[0]["content"]}]),
                "gen_ai.input.messages": _dumps(_genai_messages(s.messages)),
            }
            if s.output:
                a |= {"gen_ai.response.model": p.model, "gen_ai.response.id": f"chatcmpl-{_hexid(v, 24)}",
                      "gen_ai.response.finish_reasons": [_finish(s)], "gen_ai.usage.input_tokens": s.input_tokens,
                      "gen_ai.usage.output_tokens": s.output_tokens,
                      "gen_ai.output.messages": _dumps(_genai_messages([s.output]))}
                if s.cached_tokens:
                    a["gen_ai.usage.cache_read.input_tokens"] = s.cached_tokens
            else:
                a["error.type"] = s.error_type
            spans.append(_mk(p, app, s.span_id, p.root_span_id, f"chat {p.model_request}", 3, s.start_ns, s.end_ns,
                             a, app.scope_llm, error=(s.error_type, s.error_message)))
        elif s.kind == "tool":
            a = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": s.tool, "gen_ai.tool.call.id": s.call_id,
                 "gen_ai.tool.type": "function", "gen_ai.tool.description": _TOOLS[s.tool][0],
                 "gen_ai.tool.call.arguments": _dumps(s.arguments)}
            if s.error_type:
                a["error.type"] = s.error_type
            else:
                a["gen_ai.tool.call.result"] = _dumps(s.result)
            spans.append(_mk(p, app, s.span_id, p.root_span_id, f"execute_tool {s.tool}", 1, s.start_ns, s.end_ns,
                             a, app.scope_agent, error=(s.error_type, s.error_message)))
        else:
            a = {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "help-centre",
                 "gen_ai.retrieval.query.text": s.query, "gen_ai.retrieval.top_k": len(s.documents or ()),
                 "gen_ai.retrieval.documents": _dumps([{"id": d["id"], "score": d["score"], "content": d["content"]}
                                                       for d in s.documents or ()])}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "retrieval help-centre", 3, s.start_ns, s.end_ns,
                             a, app.scope_agent))
    a = {"gen_ai.operation.name": "invoke_agent", "gen_ai.provider.name": p.provider,
         "gen_ai.agent.name": app.agent, "gen_ai.agent.id": "asst_5j66UpCpwteGg4YSxUnt7lPY",
         "gen_ai.request.model": p.model_request, "gen_ai.conversation.id": p.session_id, "user.id": p.user_id,
         "gen_ai.input.messages": _dumps(_genai_messages(_root_messages(p))),
         "app.request.sha256": hashlib.sha256(p.question.encode()).digest()}
    if p.answer:
        a["gen_ai.output.messages"] = _dumps(_genai_messages(
            [{"role": "assistant", "content": p.answer, "finish_reason": "stop"}]))
    if v.random() < 0.5:  # some agent frameworks repeat the run's token usage on the agent span
        a["gen_ai.usage.input_tokens"] = p.input_tokens
        a["gen_ai.usage.output_tokens"] = p.output_tokens
    if p.error_type:
        a["error.type"] = p.error_type
    spans.insert(0, _mk(p, app, p.root_span_id, None, f"invoke_agent {app.agent}", 1, p.start_ns, p.end_ns, a,
                        app.scope_agent, error=(p.error_type, p.error_message)))
    return spans


def _enc_otel_genai_legacy(p: TracePlan, app: _App, v: random.Random) -> list[_Span]:
    spans = []
    as_events = v.random() < 0.5  # content as per-message span events, or as indexed prompt attributes
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {"gen_ai.operation.name": "chat", "gen_ai.system": p.provider,
                                 "gen_ai.request.model": p.model_request, "gen_ai.request.temperature": 0.0,
                                 "gen_ai.request.top_p": 0.95}
            events = []
            if as_events:
                events = _legacy_events(s, p.provider)
            else:
                _flat_legacy("gen_ai.prompt", s.messages, a)
                if s.output:
                    _flat_legacy("gen_ai.completion", [s.output], a)
            if s.output:
                a |= {"gen_ai.response.model": p.model, "gen_ai.response.finish_reasons": [_finish(s)],
                      "gen_ai.usage.prompt_tokens": s.input_tokens, "gen_ai.usage.completion_tokens": s.output_tokens}
            else:
                a["error.type"] = s.error_type
            spans.append(_mk(p, app, s.span_id, p.root_span_id, f"chat {p.model_request}", 3, s.start_ns, s.end_ns,
                             a, app.scope_llm, events, error=(s.error_type, s.error_message)))
        elif s.kind == "tool":
            # Content capture off for tools, as the older instrumentations did: name and id only.
            a = {"gen_ai.operation.name": "execute_tool", "gen_ai.system": p.provider, "gen_ai.tool.name": s.tool,
                 "gen_ai.tool.call.id": s.call_id, "gen_ai.tool.description": _TOOLS[s.tool][0]}
            if s.error_type:
                a["error.type"] = s.error_type
            spans.append(_mk(p, app, s.span_id, p.root_span_id, f"execute_tool {s.tool}", 1, s.start_ns, s.end_ns,
                             a, app.scope_agent, error=(s.error_type, s.error_message)))
        else:
            # No retrieval operation in the older conventions: the vector store's own database span.
            a = {"db.system.name": "qdrant", "db.operation.name": "search", "db.collection.name": "help_centre",
                 "db.query.text": s.query, "db.response.returned_rows": len(s.documents or ())}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "search help_centre", 3, s.start_ns, s.end_ns, a,
                             app.scope_agent))
    a = {"gen_ai.operation.name": "invoke_agent", "gen_ai.system": p.provider, "gen_ai.agent.name": app.agent,
         "gen_ai.request.model": p.model_request, "session.id": p.session_id, "enduser.id": p.user_id}
    _flat_legacy("gen_ai.prompt", _root_messages(p), a)
    if p.answer:
        a["gen_ai.completion.0.role"] = "assistant"
        a["gen_ai.completion.0.content"] = p.answer
    if p.error_type:
        a["error.type"] = p.error_type
    spans.insert(0, _mk(p, app, p.root_span_id, None, f"invoke_agent {app.agent}", 1, p.start_ns, p.end_ns, a,
                        app.scope_agent, error=(p.error_type, p.error_message)))
    return spans


def _enc_openinference(p: TracePlan, app: _App, v: random.Random) -> list[_Span]:
    ctx = {"session.id": p.session_id, "user.id": p.user_id}  # using_session / using_user put them on every span
    spans = []
    contents = v.random() < 0.4
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {"openinference.span.kind": "LLM", "llm.model_name": p.model,
                                 "llm.provider": p.provider, "llm.system": p.provider,
                                 "llm.invocation_parameters": _dumps({"model": p.model_request, "temperature": 0.3,
                                                                      "max_tokens": 1024}),
                                 "input.value": _dumps({"messages": _openai_messages(s.messages)}),
                                 "input.mime_type": "application/json"}
            _flat_oi("llm.input_messages", s.messages, a, contents)
            if s.output:
                _flat_oi("llm.output_messages", [s.output], a, False)
                if s.output.get("content"):
                    a |= {"output.value": s.output["content"], "output.mime_type": "text/plain"}
                else:
                    a |= {"output.value": _dumps({"tool_calls": _openai_messages([s.output])[0]["tool_calls"]}),
                          "output.mime_type": "application/json"}
                a |= {"llm.token_count.prompt": s.input_tokens, "llm.token_count.completion": s.output_tokens,
                      "llm.token_count.total": (s.input_tokens or 0) + (s.output_tokens or 0)}
                if s.cached_tokens:
                    a["llm.token_count.prompt_details.cache_read"] = s.cached_tokens
            name = "ChatAnthropic" if p.provider == "anthropic" else "ChatOpenAI"
            spans.append(_mk(p, app, s.span_id, p.root_span_id, name, 1, s.start_ns, s.end_ns, a | ctx,
                             app.scope_llm, error=(s.error_type, s.error_message), ok=not s.error_type))
        elif s.kind == "tool":
            a = {"openinference.span.kind": "TOOL", "tool.name": s.tool, "tool.description": _TOOLS[s.tool][0],
                 "tool.parameters": _dumps({"type": "object", "properties": {k: {"type": "string"}
                                                                              for k in s.arguments or {}}}),
                 "tool_call.id": s.call_id, "input.value": _dumps(s.arguments), "input.mime_type": "application/json"}
            if not s.error_type:
                a |= {"output.value": _dumps(s.result), "output.mime_type": "application/json"}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, s.tool or "", 1, s.start_ns, s.end_ns, a | ctx,
                             app.scope_agent, error=(s.error_type, s.error_message), ok=not s.error_type))
        else:
            a = {"openinference.span.kind": "RETRIEVER", "input.value": s.query, "input.mime_type": "text/plain"}
            for i, d in enumerate(s.documents or ()):
                a[f"retrieval.documents.{i}.document.id"] = d["id"]
                a[f"retrieval.documents.{i}.document.content"] = d["content"]
                a[f"retrieval.documents.{i}.document.score"] = d["score"]
                a[f"retrieval.documents.{i}.document.metadata"] = _dumps({"title": d["title"]})
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "VectorStoreRetriever", 1, s.start_ns, s.end_ns,
                             a | ctx, app.scope_agent, ok=True))
    if v.random() < 0.5:
        a = {"input.value": p.question, "input.mime_type": "text/plain"}
    else:
        a = {"input.value": _dumps({"messages": _root_messages(p)}), "input.mime_type": "application/json"}
    a |= {"openinference.span.kind": "AGENT", "agent.name": app.agent,
          "metadata": _dumps({"app_version": app.version, "channel": v.choice(("web", "ios", "android"))}),
          "tag.tags": ["production", "support"]}
    if p.answer:
        a |= {"output.value": p.answer, "output.mime_type": "text/plain"}
    if p.error_type:
        a["error.type"] = p.error_type
    spans.insert(0, _mk(p, app, p.root_span_id, None, app.agent, 1, p.start_ns, p.end_ns, a | ctx, app.scope_agent,
                        error=(p.error_type, p.error_message), ok=not p.error_type))
    return spans


def _enc_mlflow(p: TracePlan, app: _App, v: random.Random) -> list[_Span]:
    # MLflow JSON-encodes every attribute value, strings included ("\"LLM\"").
    req = _dumps(f"tr-{p.trace_id}")
    spans = []
    for s in p.steps:
        base = {"mlflow.traceRequestId": req}
        if s.kind == "llm":
            a = base | {"mlflow.spanType": _dumps("CHAT_MODEL"), "mlflow.spanFunctionName": _dumps("create"),
                        "mlflow.message.format": _dumps("openai"),
                        "mlflow.spanInputs": _dumps({"model": p.model_request, "temperature": 0.1,
                                                     "messages": _openai_messages(s.messages),
                                                     "tools": [{"type": "function", "function": {"name": t}}
                                                               for t in _TOOLS]})}
            if s.output:
                msg = _openai_messages([s.output])[0]
                a["mlflow.spanOutputs"] = _dumps({
                    "id": f"chatcmpl-{_hexid(v, 24)}", "object": "chat.completion", "model": p.model,
                    "choices": [{"index": 0, "message": msg, "finish_reason": _finish(s)}],
                    "usage": {"prompt_tokens": s.input_tokens, "completion_tokens": s.output_tokens,
                              "total_tokens": (s.input_tokens or 0) + (s.output_tokens or 0)}})
                a["mlflow.chat.tokenUsage"] = _dumps({"input_tokens": s.input_tokens, "output_tokens": s.output_tokens,
                                                      "total_tokens": (s.input_tokens or 0) + (s.output_tokens or 0)})
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "Completions", 1, s.start_ns, s.end_ns, a,
                             app.scope_llm, error=(s.error_type, s.error_message), ok=not s.error_type))
        elif s.kind == "tool":
            a = base | {"mlflow.spanType": _dumps("TOOL"), "mlflow.spanFunctionName": _dumps(s.tool),
                        "mlflow.spanInputs": _dumps(s.arguments)}
            if not s.error_type:
                a["mlflow.spanOutputs"] = _dumps(s.result)
            spans.append(_mk(p, app, s.span_id, p.root_span_id, s.tool or "", 1, s.start_ns, s.end_ns, a,
                             app.scope_agent, error=(s.error_type, s.error_message), ok=not s.error_type))
        else:
            a = base | {"mlflow.spanType": _dumps("RETRIEVER"), "mlflow.spanFunctionName": _dumps("retrieve"),
                        "mlflow.spanInputs": _dumps({"query": s.query}),
                        "mlflow.spanOutputs": _dumps([{"page_content": d["content"], "id": d["id"],
                                                       "metadata": {"doc_uri": f"kb://{d['id']}", "score": d["score"]}}
                                                      for d in s.documents or ()])}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "retrieve_docs", 1, s.start_ns, s.end_ns, a,
                             app.scope_agent, ok=True))
    a = {"mlflow.traceRequestId": req, "mlflow.spanType": _dumps("AGENT"), "mlflow.spanFunctionName": _dumps("predict"),
         "mlflow.spanInputs": _dumps({"question": p.question, "history": p.history}),
         # Trace metadata, which MLflow keeps as plain strings, copied onto the root span by the exporter.
         "mlflow.trace.session": p.session_id, "mlflow.trace.user": p.user_id}
    if p.answer:
        a["mlflow.spanOutputs"] = _dumps(p.answer)
    if p.error_type:
        a["error.type"] = p.error_type
    spans.insert(0, _mk(p, app, p.root_span_id, None, app.agent, 1, p.start_ns, p.end_ns, a, app.scope_agent,
                        error=(p.error_type, p.error_message), ok=not p.error_type))
    return spans


def _enc_traceloop(p: TracePlan, app: _App, v: random.Random) -> list[_Span]:
    ctx = {"traceloop.workflow.name": app.agent,
           "traceloop.association.properties.session_id": p.session_id,
           "traceloop.association.properties.user_id": p.user_id}
    new_usage = v.random() < 0.5  # newer OpenLLMetry releases write the current usage names
    spans = []
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {"llm.request.type": "chat", "gen_ai.system": p.provider,
                                 "gen_ai.request.model": p.model_request, "gen_ai.request.max_tokens": 1024,
                                 "llm.is_streaming": v.random() < 0.3}
            _flat_legacy("gen_ai.prompt", s.messages, a)
            if s.output:
                _flat_legacy("gen_ai.completion", [s.output], a)
                inp, out = ("input_tokens", "output_tokens") if new_usage else ("prompt_tokens", "completion_tokens")
                a |= {"gen_ai.response.model": p.model, "gen_ai.response.id": f"msg_01{_hexid(v, 22)}",
                      f"gen_ai.usage.{inp}": s.input_tokens, f"gen_ai.usage.{out}": s.output_tokens,
                      "llm.usage.total_tokens": (s.input_tokens or 0) + (s.output_tokens or 0)}
                if s.cached_tokens:
                    a["gen_ai.usage.cache_read_input_tokens"] = s.cached_tokens
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "anthropic.chat", 3, s.start_ns, s.end_ns, a | ctx,
                             app.scope_llm, error=(s.error_type, s.error_message), ok=not s.error_type))
        elif s.kind == "tool":
            a = {"traceloop.span.kind": "tool", "traceloop.entity.name": s.tool,
                 "traceloop.entity.input": _dumps({"args": [], "kwargs": s.arguments})}
            if not s.error_type:
                a["traceloop.entity.output"] = _dumps(s.result)
            spans.append(_mk(p, app, s.span_id, p.root_span_id, f"{s.tool}.tool", 1, s.start_ns, s.end_ns, a | ctx,
                             app.scope_agent, error=(s.error_type, s.error_message), ok=not s.error_type))
        else:
            a = {"traceloop.span.kind": "task", "traceloop.entity.name": "retrieve_context",
                 "traceloop.entity.input": _dumps({"args": [s.query], "kwargs": {"k": len(s.documents or ())}}),
                 "traceloop.entity.output": _dumps([d["content"] for d in s.documents or ()])}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "retrieve_context.task", 1, s.start_ns, s.end_ns,
                             a | ctx, app.scope_agent, ok=True))
    a = {"traceloop.span.kind": "agent", "traceloop.entity.name": app.agent,
         "traceloop.entity.input": _dumps({"args": [p.question], "kwargs": {"history": p.history}})}
    if p.answer:
        a["traceloop.entity.output"] = _dumps(p.answer)
    if p.error_type:
        a["error.type"] = p.error_type
    spans.insert(0, _mk(p, app, p.root_span_id, None, f"{app.agent}.agent", 1, p.start_ns, p.end_ns, a | ctx,
                        app.scope_agent, error=(p.error_type, p.error_message), ok=not p.error_type))
    return spans


def _iso(ns: int) -> str:
    dt = datetime.datetime.fromtimestamp(ns // NS, tz=datetime.UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ns % NS // MS:03d}Z"


def _enc_vercel_ai(p: TracePlan, app: _App, v: random.Random) -> list[_Span]:
    ctx = {"ai.telemetry.functionId": app.service, "ai.telemetry.metadata.sessionId": p.session_id,
           "ai.telemetry.metadata.userId": p.user_id, "ai.model.id": p.model_request, "ai.model.provider": p.provider}
    spans = []
    for s in p.steps:
        if s.kind == "llm":
            a: dict[str, Any] = {
                "ai.operationId": "ai.generateText.doGenerate",
                "operation.name": f"ai.generateText.doGenerate {app.service}",
                "ai.prompt.format": "messages", "ai.prompt.messages": _dumps(_vercel_messages(s.messages)),
                "ai.prompt.tools": [_dumps({"type": "function", "name": t, "description": d[0]})
                                    for t, d in _TOOLS.items()],
                "ai.prompt.toolChoice": _dumps({"type": "auto"}), "ai.settings.maxRetries": 2,
                "gen_ai.system": p.provider, "gen_ai.request.model": p.model_request,
            }
            if s.output:
                if s.output.get("content"):
                    a["ai.response.text"] = s.output["content"]
                else:
                    a["ai.response.toolCalls"] = _dumps([{"toolCallType": "function", "toolCallId": tc["id"],
                                                          "toolName": tc["name"], "args": _dumps(tc["arguments"])}
                                                         for tc in s.output["tool_calls"]])
                finish = "tool-calls" if _finish(s) == "tool_calls" else _finish(s)
                a |= {"ai.response.finishReason": finish, "ai.response.id": f"resp-{_hexid(v, 16)}",
                      "ai.response.model": p.model, "ai.response.timestamp": _iso(s.start_ns),
                      "ai.usage.promptTokens": s.input_tokens, "ai.usage.completionTokens": s.output_tokens,
                      "gen_ai.response.model": p.model, "gen_ai.response.finish_reasons": [finish],
                      "gen_ai.usage.input_tokens": s.input_tokens, "gen_ai.usage.output_tokens": s.output_tokens}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "ai.generateText.doGenerate", 3, s.start_ns,
                             s.end_ns, a | ctx, app.scope_llm, error=(s.error_type, s.error_message)))
        elif s.kind == "tool":
            a = {"ai.operationId": "ai.toolCall", "operation.name": f"ai.toolCall {app.service}",
                 "ai.toolCall.name": s.tool, "ai.toolCall.id": s.call_id, "ai.toolCall.args": _dumps(s.arguments)}
            if not s.error_type:
                a["ai.toolCall.result"] = _dumps(s.result)
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "ai.toolCall", 1, s.start_ns, s.end_ns, a | ctx,
                             app.scope_agent, error=(s.error_type, s.error_message)))
        else:
            # The AI SDK has no retrieval span; the app wraps its vector search in its own span.
            a = {"app.retrieval.query": s.query, "app.retrieval.document_ids": [d["id"] for d in s.documents or ()]}
            spans.append(_mk(p, app, s.span_id, p.root_span_id, "retrieveContext", 1, s.start_ns, s.end_ns, a,
                             ("web-chat", app.version)))
    a = {"ai.operationId": "ai.generateText", "operation.name": f"ai.generateText {app.service}",
         "ai.prompt": _dumps({"system": _SYSTEM_PROMPT, "messages": _root_messages(p)}),
         "ai.settings.maxSteps": 6, "ai.settings.maxRetries": 2,
         "ai.usage.promptTokens": p.input_tokens, "ai.usage.completionTokens": p.output_tokens}
    if p.answer:
        a |= {"ai.response.text": p.answer, "ai.response.finishReason": "stop"}
    if p.error_type:
        a["error.type"] = p.error_type
    spans.insert(0, _mk(p, app, p.root_span_id, None, "ai.generateText", 1, p.start_ns, p.end_ns, a | ctx,
                        app.scope_agent, error=(p.error_type, p.error_message)))
    return spans


_ENCODERS = {"otel_genai": _enc_otel_genai, "otel_genai_legacy": _enc_otel_genai_legacy,
             "openinference": _enc_openinference, "mlflow": _enc_mlflow, "traceloop": _enc_traceloop,
             "vercel_ai": _enc_vercel_ai}


def _encode(p: TracePlan) -> list[_Span]:
    """The trace's spans in its convention family, children first (the order exporters deliver them)."""
    spans = _ENCODERS[p.family](p, _APPS[p.family], random.Random(p.variant))
    return sorted(spans, key=lambda s: (s.end, s.start))


# ---------------------------------------------------------------------------------- OTLP writers

_KIND_NAMES = ("SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT",
               "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER")
_STATUS_NAMES = ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")


@dataclass(frozen=True)
class _Style:
    """How one JSON writer spells ids, enums and 64-bit numbers."""

    ids: str = "lower"  # "lower" (the spec), "upper", "base64" (protobuf's own JSON mapping)
    names: bool = False  # enum names instead of integers
    numbers: bool = False  # 64-bit integers as JSON numbers instead of strings
    compliant: bool = False  # writes the optional empty fields a Collector writes

    def id(self, h: str) -> str:
        if self.ids == "upper":
            return h.upper()
        if self.ids == "base64":
            return base64.b64encode(bytes.fromhex(h)).decode()
        return h

    def ns(self, t: int) -> Any:
        return t if self.numbers else str(t)

    def value(self, v: Any) -> dict[str, Any]:
        if isinstance(v, str):
            return {"stringValue": v}
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": v if self.numbers else str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        if isinstance(v, bytes):
            return {"bytesValue": base64.b64encode(v).decode()}
        if isinstance(v, (list, tuple)):
            return {"arrayValue": {"values": [self.value(e) for e in v]}}
        if isinstance(v, dict):
            return {"kvlistValue": {"values": [{"key": k, "value": self.value(e)} for k, e in v.items()]}}
        return {}


class _TemplateStyle(_Style):
    """Writes times as ``@@N<offset>@@`` markers that :func:`generate_bulk` fills in."""

    def ns(self, t: int) -> Any:
        return f"@@N{t}@@"


_STYLES = (
    _Style(compliant=True),  # what the Collector and the SDK exporters write
    _Style(ids="upper"),  # the spec's own example uses upper-case hex
    _Style(names=True),  # non-compliant writers spell enums by name
    _Style(numbers=True),  # JavaScript writers emit 64-bit numbers as numbers
    _Style(ids="base64", names=True),  # google.protobuf.json_format.MessageToJson
    _Style(ids="upper", names=True, numbers=True),
)


def _attrs_json(attrs: dict[str, Any], st: _Style) -> list[dict[str, Any]]:
    return [{"key": k, "value": st.value(v)} for k, v in attrs.items()]


def _span_json(s: _Span, st: _Style) -> dict[str, Any]:
    d: dict[str, Any] = {"traceId": st.id(s.trace_id), "spanId": st.id(s.span_id)}
    if s.parent_id:
        d["parentSpanId"] = st.id(s.parent_id)
    elif st.compliant:
        d["parentSpanId"] = ""
    if st.compliant:
        d["traceState"] = ""
        d["flags"] = 257
    d["name"] = s.name
    d["kind"] = _KIND_NAMES[s.kind] if st.names else s.kind
    d["startTimeUnixNano"] = st.ns(s.start)
    d["endTimeUnixNano"] = st.ns(s.end)
    d["attributes"] = _attrs_json(s.attrs, st)
    if s.events:
        d["events"] = [{"timeUnixNano": st.ns(t), "name": n, "attributes": _attrs_json(a, st)}
                       for n, t, a in s.events]
    status: dict[str, Any] = {}
    if s.status:
        status["code"] = _STATUS_NAMES[s.status] if st.names else s.status
    if s.message:
        status["message"] = s.message
    d["status"] = status
    return d


def _grouped(spans: list[_Span]) -> dict[str, dict[tuple[str, str], list[_Span]]]:
    out: dict[str, dict[tuple[str, str], list[_Span]]] = {}
    for s in spans:
        out.setdefault(s.family, {}).setdefault(s.scope, []).append(s)
    return out


def _request_json(spans: list[_Span], st: _Style) -> dict[str, Any]:
    resource_spans = []
    for family, scopes in _grouped(spans).items():
        resource_spans.append({
            "resource": {"attributes": _attrs_json(_resource(_APPS[family]), st)},
            "scopeSpans": [{"scope": {"name": name, "version": version},
                            "spans": [_span_json(s, st) for s in group]}
                           for (name, version), group in scopes.items()],
            "schemaUrl": "https://opentelemetry.io/schemas/1.37.0",
        })
    return {"resourceSpans": resource_spans}


def _pb_value(av: Any, v: Any) -> None:
    if isinstance(v, str):
        av.string_value = v
    elif isinstance(v, bool):
        av.bool_value = v
    elif isinstance(v, int):
        av.int_value = v
    elif isinstance(v, float):
        av.double_value = v
    elif isinstance(v, bytes):
        av.bytes_value = v
    elif isinstance(v, (list, tuple)):
        av.array_value.SetInParent()
        for e in v:
            _pb_value(av.array_value.values.add(), e)
    elif isinstance(v, dict):
        av.kvlist_value.SetInParent()
        for k, e in v.items():
            kv = av.kvlist_value.values.add()
            kv.key = k
            _pb_value(kv.value, e)


def _pb_attrs(target: Any, attrs: dict[str, Any]) -> None:
    for k, v in attrs.items():
        kv = target.add()
        kv.key = k
        _pb_value(kv.value, v)


def _request_pb(spans: list[_Span]) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    for family, scopes in _grouped(spans).items():
        rs = req.resource_spans.add()
        rs.schema_url = "https://opentelemetry.io/schemas/1.37.0"
        _pb_attrs(rs.resource.attributes, _resource(_APPS[family]))
        for (name, version), group in scopes.items():
            ss = rs.scope_spans.add()
            ss.scope.name, ss.scope.version = name, version
            for s in group:
                ps = ss.spans.add()
                ps.trace_id = bytes.fromhex(s.trace_id)
                ps.span_id = bytes.fromhex(s.span_id)
                if s.parent_id:
                    ps.parent_span_id = bytes.fromhex(s.parent_id)
                ps.flags = 257
                ps.name = s.name
                ps.kind = s.kind
                ps.start_time_unix_nano = s.start
                ps.end_time_unix_nano = s.end
                _pb_attrs(ps.attributes, s.attrs)
                for n, t, a in s.events:
                    ev = ps.events.add()
                    ev.name, ev.time_unix_nano = n, t
                    _pb_attrs(ev.attributes, a)
                ps.status.code = s.status
                if s.message:
                    ps.status.message = s.message
    return req.SerializeToString()


# ------------------------------------------------------------------------------------- delivery


@dataclass
class _Batch:
    """One file's worth of spans, as a Collector or SDK exporter would flush them."""

    day: int
    spans: list[_Span]
    fmt: str
    traces: list[str]
    defect: str = ""  # "truncated" (gzip cut short) or "bad_line" (a broken JSON line inside)


def _requests(spans: list[_Span], rng: random.Random, per_request: int | None = None) -> list[list[_Span]]:
    """Split a file's spans into export requests of one to three traces each."""
    by_trace: dict[str, list[_Span]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    groups = list(by_trace.values())
    out = []
    while groups:
        n = per_request or rng.randint(1, 3)
        out.append([s for g in groups[:n] for s in g])
        groups = groups[n:]
    return out


def _stamp(ns: int) -> str:
    return datetime.datetime.fromtimestamp(ns // NS, tz=datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _logs_export(p: TracePlan, span_id: str) -> bytes:
    """An OTLP *logs* export (GenAI inference-details events) that landed among the trace files."""
    body = {"gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": p.question}]}]}
    record = {"timeUnixNano": str(p.start_ns), "observedTimeUnixNano": str(p.start_ns + 3 * MS),
              "severityNumber": 9, "severityText": "INFO", "eventName": "gen_ai.client.inference.operation.details",
              "body": _Style().value(body), "traceId": p.trace_id, "spanId": span_id,
              "attributes": _attrs_json({"gen_ai.operation.name": "chat", "gen_ai.request.model": p.model_request},
                                        _Style())}
    doc = {"resourceLogs": [{"resource": {"attributes": _attrs_json(_resource(_APPS[p.family]), _Style())},
                             "scopeLogs": [{"scope": {"name": _APPS[p.family].scope_llm[0]}, "logRecords": [record]}]}]}
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
    return _dumps({"html": "<table>\n" + "".join(rows) + "</table>"})


_RESULT_KEYS = ("gen_ai.tool.call.result", "output.value", "mlflow.spanOutputs", "traceloop.entity.output",
                "ai.toolCall.result")


def generate(landing_dir: Path, start: datetime.date, days: int, sessions_per_day: int = 30, seed: int = 7,
             malformed: bool = True) -> dict:
    """Write synthetic agent traffic for ``days`` UTC days from ``start`` under ``landing_dir/<YYYY-MM-DD>/``.

    Returns a summary: files, spans (distinct spans written), traces, malformed_files, duplicate_spans,
    split_traces, formats and conventions (counts), damaged_traces (ids of traces a malformed file cuts or
    alters: read them back and they differ from :func:`plan_traffic`).
    """
    landing_dir = Path(landing_dir)
    plans = plan_traffic(start, days, sessions_per_day, seed)
    rng = random.Random(f"delivery-{seed}")
    encoded = {p.trace_id: _encode(p) for p in plans}
    by_id = {p.trace_id: p for p in plans}
    day0 = _day_ns(start)

    by_day: dict[int, list[TracePlan]] = {}
    for p in sorted(plans, key=lambda p: (p.end_ns, p.trace_id)):
        by_day.setdefault((p.end_ns - day0) // DAY_NS, []).append(p)
    batches: list[_Batch] = []
    for d in sorted(by_day):
        ps = by_day[d]
        k = max(min(len(ps), len(FORMATS)), math.ceil(len(ps) / 6))
        cuts = sorted(rng.sample(range(1, len(ps)), k - 1))
        offset = rng.randrange(len(FORMATS))
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(ps)], strict=True)):
            chunk = ps[a:b]
            batches.append(_Batch(d, [s for p in chunk for s in encoded[p.trace_id]],
                                  FORMATS[(offset + i) % len(FORMATS)], [p.trace_id for p in chunk]))
    day_list = sorted(by_day)

    def pick_batch(day: int, min_traces: int) -> int | None:
        cands = [i for i, b in enumerate(batches) if b.day == day and not b.defect and len(b.traces) >= min_traces]
        cands = cands or [i for i, b in enumerate(batches) if not b.defect and len(b.traces) >= min_traces]
        return cands[len(cands) // 2] if cands else None

    damaged: set[str] = set()
    extra: list[tuple[int, int, str, bytes]] = []  # day, export time, extension, content
    huge_span: _Span | None = None
    if malformed:
        i = pick_batch(day_list[0], 3)
        if i is None:
            i = pick_batch(day_list[0], 1)
        if i is not None:  # a collector that died mid-write: the gzip stream stops short
            batches[i].fmt, batches[i].defect = "jsonl.gz", "truncated"
            damaged.update(batches[i].traces)
        i = pick_batch(day_list[1 % len(day_list)], 2)
        if i is not None:  # a partial write, then the whole request again on the next line
            batches[i].fmt, batches[i].defect = "jsonl", "bad_line"
        d = day_list[2 % len(day_list)]
        genai = [p for p in by_day[d] if p.family == "otel_genai" and any(s.kind == "llm" for s in p.steps)]
        p = genai[0] if genai else by_day[d][0]
        logged = min(p.end_ns + 5 * NS, day0 + (d + 1) * DAY_NS - 1)
        extra.append((d, logged, "json", _logs_export(p, next(
            (s.span_id for s in p.steps if s.kind == "llm"), p.root_span_id))))
        d = day_list[3 % len(day_list)]
        extra.append((d, day0 + d * DAY_NS + rng.randrange(DAY_NS - NS), "jsonl", b""))
        d = day_list[4 % len(day_list)]
        tool_spans = {s.span_id for p in by_day[d] for s in p.steps if s.kind == "tool" and not s.error_type}
        for b in (b for b in batches if b.day == d and not b.defect):
            for j, s in enumerate(b.spans):
                key = next((k for k in _RESULT_KEYS if k in s.attrs), None)
                if s.span_id in tool_spans and key:
                    huge_span = dataclasses.replace(s, attrs=s.attrs | {key: _huge_value(rng)})
                    b.spans[j] = huge_span
                    damaged.add(s.trace_id)
                    break
            if huge_span:
                break

    # Traces split across two files: the children are flushed before the root has ended.
    n_split = 0
    usable = [i for i, b in enumerate(batches) if b.defect != "truncated"]
    for d in day_list:
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

    # Spans delivered twice: an exporter retried a request the receiver had in fact accepted.
    duplicated: set[tuple[str, str]] = set()
    for d in day_list:
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

    files: list[tuple[int, int, str, bytes]] = list(extra)
    json_files = rng.randrange(len(_STYLES))
    for b in batches:
        day_end = day0 + (b.day + 1) * DAY_NS
        export = min(max(s.end for s in b.spans) + rng.randint(200, 2000) * MS, day_end - 1)
        fmt = b.fmt
        if fmt in ("pb", "binpb"):
            if fmt == "pb":
                data = _request_pb(b.spans)
            else:
                data = b"".join(len(m).to_bytes(4, "big") + m for m in map(_request_pb, _requests(b.spans, rng)))
        else:
            style = _STYLES[json_files % len(_STYLES)]
            json_files += 1
            if fmt.startswith("jsonl"):
                lines = [orjson.dumps(_request_json(r, style))
                         for r in _requests(b.spans, rng, 1 if b.defect else None)]
                if b.defect == "bad_line":
                    lines.insert(1, lines[1][: len(lines[1]) * 2 // 5])
                data = b"\n".join(lines) + b"\n"
            else:
                option = orjson.OPT_INDENT_2 if rng.random() < 0.3 else 0
                data = orjson.dumps(_request_json(b.spans, style), option=option)
            if fmt.endswith(".gz"):
                data = gzip.compress(data, compresslevel=6, mtime=0)
                if b.defect == "truncated":
                    data = data[: len(data) * 7 // 10]
        files.append((b.day, export, fmt, data))

    files.sort(key=lambda f: (f[0], f[1]))
    for seq, (d, export, ext, data) in enumerate(files):
        folder = landing_dir / (start + datetime.timedelta(days=d)).isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"otlp-{_stamp(export)}-{seq:05d}.{ext}"
        path.write_bytes(data)
        os.utime(path, ns=(export, export))  # as if written by the exporter at export time

    formats: dict[str, int] = {}
    for _, _, ext, _ in files:
        formats[ext] = formats.get(ext, 0) + 1
    conventions: dict[str, int] = {}
    for p in plans:
        conventions[p.family] = conventions.get(p.family, 0) + 1
    return {
        "files": len(files), "spans": sum(p.n_spans for p in plans), "traces": len(plans),
        "malformed_files": sum(1 for b in batches if b.defect) + len(extra) + (1 if huge_span else 0),
        "duplicate_spans": len(duplicated), "split_traces": n_split, "formats": formats,
        "conventions": conventions, "damaged_traces": sorted(damaged & set(by_id)),
    }


# ----------------------------------------------------------------------------------------- bulk

_MARK = re.compile(rb"@@([TSNXY])(\d*)@@")
_MARK_KINDS = b"TSNXY"


@dataclass
class _Template:
    family: str
    duration: int
    n_ids: int
    spans: list[tuple[str, tuple[str, str], bytes, tuple[tuple[int, int], ...]]]  # family, scope, format, marks


def _templatize(p: TracePlan) -> TracePlan:
    """The plan with ids, session, user and times replaced by markers (times relative to the root's start)."""
    t0 = p.start_ns
    steps = [dataclasses.replace(s, span_id=f"@@S{i + 1}@@", start_ns=s.start_ns - t0, end_ns=s.end_ns - t0)
             for i, s in enumerate(p.steps)]
    return dataclasses.replace(p, trace_id="@@T@@", root_span_id="@@S0@@", session_id="@@X@@", user_id="@@Y@@",
                               start_ns=0, end_ns=p.end_ns - t0, steps=steps)


def _compile(data: bytes) -> tuple[bytes, tuple[tuple[int, int], ...]]:
    parts = _MARK.split(data)
    fmt = b"%s".join(lit.replace(b"%", b"%%") for lit in parts[0::3])
    marks = tuple((_MARK_KINDS.index(k), int(a) if a else 0) for k, a in zip(parts[1::3], parts[2::3], strict=True))
    return fmt, marks


def _templates(rng: random.Random, n: int) -> list[_Template]:
    style = _TemplateStyle(compliant=True)
    out = []
    i = 0
    while len(out) < n:
        for p in _plan_session(rng, FAMILIES[i % len(FAMILIES)]):
            t = _templatize(p)
            spans = [(s.family, s.scope, *_compile(orjson.dumps(_span_json(s, style)))) for s in _encode(t)]
            out.append(_Template(p.family, t.end_ns, p.n_spans, spans))
        i += 1
    return out


# Session id spellings per family (as in _session_user) and the random bits that fill them.
_SESSION_FORMATS = {"otel_genai": (b"conv_%024x", 96), "otel_genai_legacy": (b"session-%016x", 64),
                    "openinference": (b"%032x", 128), "mlflow": (b"sess-%08d", 26),
                    "traceloop": (b"session-%016x", 64), "vercel_ai": (b"chat_%016x", 64)}


def generate_bulk(landing_dir: Path, day: datetime.date, n_spans: int, files: int = 20, seed: int = 1) -> dict:
    """Write about ``n_spans`` spans of realistic agent traffic for one UTC day as Collector JSON-lines files.

    Traces are copies of a few hundred planned traces (every convention family) with fresh ids, sessions,
    users and times, so writing is fast and memory stays flat: one request line at a time.
    Returns files, spans, traces, lines and bytes written.
    """
    if n_spans < 1 or files < 1:
        msg = f"n_spans ({n_spans}) and files ({files}) must both be at least 1."
        raise ValueError(msg)
    rng = random.Random(seed)
    templates = _templates(rng, 240)
    resources = {f: orjson.dumps({"attributes": _attrs_json(_resource(_APPS[f]), _Style())}) for f in FAMILIES}
    folder = Path(landing_dir) / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    day0 = _day_ns(day)
    slice_ns = DAY_NS // files
    total = traces = lines = size = 0
    open_sessions: dict[str, tuple[bytes, bytes, int]] = {}
    for f in range(files):
        quota = (f + 1) * n_spans // files
        path = folder / f"otlp-bulk-{day:%Y%m%d}-{f:04d}.jsonl"
        with path.open("wb") as fh:
            while total < quota:
                groups: dict[str, dict[tuple[str, str], list[bytes]]] = {}
                in_line = 0
                line_target = rng.randint(100, 400)
                while in_line < line_target and total < quota:
                    tpl = templates[rng.randrange(len(templates))]
                    tid = b"%032x" % rng.getrandbits(128)
                    sids = [b"%016x" % rng.getrandbits(64) for _ in range(tpl.n_ids)]
                    base = day0 + f * slice_ns + rng.randrange(slice_ns)
                    base = min(base, day0 + DAY_NS - tpl.duration - 1)
                    sess, user, turns_left = open_sessions.get(tpl.family) or (b"", b"", 0)
                    if turns_left == 0:  # a new session of one to six turns
                        form, bits = _SESSION_FORMATS[tpl.family]
                        sess = form % rng.getrandbits(bits)
                        user = b"user-%05d" % rng.randrange(100000)
                        turns_left = rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6))
                    open_sessions[tpl.family] = (sess, user, turns_left - 1)
                    for family, scope, fmt, marks in tpl.spans:
                        vals = []
                        for k, a in marks:
                            if k == 1:
                                vals.append(sids[a])
                            elif k == 2:
                                vals.append(b"%d" % (base + a))
                            elif k == 0:
                                vals.append(tid)
                            elif k == 3:
                                vals.append(sess)
                            else:
                                vals.append(user)
                        groups.setdefault(family, {}).setdefault(scope, []).append(fmt % tuple(vals))
                    in_line += tpl.n_ids
                    total += tpl.n_ids
                    traces += 1
                rs = []
                for family, scopes in groups.items():
                    ss = b",".join(b'{"scope":' + orjson.dumps({"name": name, "version": version}) + b',"spans":['
                                   + b",".join(spans) + b"]}" for (name, version), spans in scopes.items())
                    rs.append(b'{"resource":' + resources[family] + b',"scopeSpans":[' + ss + b"]}")
                line = b'{"resourceSpans":[' + b",".join(rs) + b"]}\n"
                fh.write(line)
                lines += 1
                size += len(line)
    return {"files": files, "spans": total, "traces": traces, "lines": lines, "bytes": size}
