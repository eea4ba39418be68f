"""What a turn says: support scenarios (the question, rounds of tool calls with their results, the answer),
weighted so that a few common paths dominate and a long tail remains."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eval_pipeline.synthetic.content import CITIES, KB, STREETS, WEATHER, WEEKDAYS, Customer


@dataclass
class Script:
    """What happens in one turn: the question, rounds of tool calls (name, arguments, result), the answer."""

    question: str
    rounds: list[list[tuple[str, dict[str, Any], Any]]]
    answer: str
    documents: list[dict[str, Any]] | None = None


def _kb_docs(rng: random.Random, first: dict[str, Any]) -> list[dict[str, Any]]:
    others = rng.sample([d for d in KB if d is not first], rng.randint(1, 3))
    score = rng.uniform(0.82, 0.95)
    out = []
    for d in (first, *others):
        out.append({"id": d["id"], "title": d["title"], "content": d["content"], "score": round(score, 3)})
        score -= rng.uniform(0.08, 0.2)
    return out


def _sc_order_status(rng: random.Random, c: Customer) -> Script:
    o = c.orders[0]
    q = rng.choice((f"Hi, I'm {c.name} ({c.email}). Where is my order {o['order_id']}? It still hasn't arrived.",
                    f"Hello, order {o['order_id']} was due days ago, can you check? My phone is {c.phone}.",
                    f"my parcel never came, order number {o['order_id']}, email {c.email}"))
    rounds = [[("lookup_customer", {"email": c.email}, c.record())],
              [("search_orders", {"customer_id": c.customer_id, "order_id": o["order_id"]}, {"orders": [o]})]]
    a = (f"I found order {o['order_id']} ({o['item']}). It shipped on {o['shipped']} with {o['carrier']}, tracking "
         f"number {o['tracking']}, and should arrive by {o['eta']}.")
    return Script(q, rounds, a)


def _sc_order_quick(rng: random.Random, c: Customer) -> Script:
    o = c.orders[1]
    q = rng.choice((f"What's the status of order {o['order_id']}?", f"Has {o['order_id']} shipped yet?"))
    rounds = [[("search_orders", {"order_id": o["order_id"]}, {"orders": [o]})]]
    return Script(q, rounds, f"Order {o['order_id']} is {o['status']} with {o['carrier']} (tracking {o['tracking']}).")


def _sc_refund(rng: random.Random, c: Customer, email: bool = False) -> Script:
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
    return Script(q, rounds, a)


def _forecast(rng: random.Random, city: str) -> dict[str, Any]:
    lo = rng.randint(-3, 18)
    return {"city": city, "date": "tomorrow", "condition": rng.choice(WEATHER), "low_c": lo,
            "high_c": lo + rng.randint(3, 11), "precipitation_mm": round(rng.uniform(0, 12), 1)}


def _sc_weather(rng: random.Random, c: Customer) -> Script:
    city = rng.choice(CITIES)
    f = _forecast(rng, city)
    q = rng.choice((f"What's the weather going to be like in {city} tomorrow? My delivery is due then.",
                    f"Will it rain in {city} tomorrow?"))
    a = f"Tomorrow in {city}: {f['condition']}, between {f['low_c']} and {f['high_c']} degrees C."
    return Script(q, [[("get_weather", {"city": city, "date": "tomorrow"}, f)]], a)


def _sc_weather_compare(rng: random.Random, c: Customer) -> Script:
    c1, c2 = rng.sample(CITIES, 2)
    f1, f2 = _forecast(rng, c1), _forecast(rng, c2)
    q = f"Compare tomorrow's weather in {c1} and {c2}, I'm travelling between them."
    a = (f"{c1}: {f1['condition']}, up to {f1['high_c']} degrees C. {c2}: {f2['condition']}, up to "
         f"{f2['high_c']} degrees C.")
    return Script(q, [[("get_weather", {"city": c1, "date": "tomorrow"}, f1),
                       ("get_weather", {"city": c2, "date": "tomorrow"}, f2)]], a)


_POLICY_QUESTIONS = (
    ("Can I return opened headphones?", 0), ("Do you ship to Canada, and how long does it take?", 1),
    ("How long is the warranty on a monitor?", 2), ("When will I get my refund?", 3),
    ("Can I cancel premium and get this month back?", 4), ("My vacuum arrived with a cracked lid, what now?", 5),
)


def _sc_policy_tool(rng: random.Random, c: Customer) -> Script:
    q, i = rng.choice(_POLICY_QUESTIONS)
    docs = _kb_docs(rng, KB[i])
    result = {"results": [{"id": d["id"], "title": d["title"], "snippet": d["content"], "score": d["score"]}
                          for d in docs]}
    return Script(q, [[("kb_search", {"query": q, "top_k": len(docs)}, result)]], f"{KB[i]['content']}")


def _sc_policy_rag(rng: random.Random, c: Customer) -> Script:
    q, i = rng.choice(_POLICY_QUESTIONS)
    return Script(q, [], f"According to our help centre: {KB[i]['content']}", documents=_kb_docs(rng, KB[i]))


def _sc_parallel(rng: random.Random, c: Customer) -> Script:
    q = f"I'm {c.name}, {c.phone}. Did my last two orders go out?"
    rounds = [[("lookup_customer", {"phone": c.phone}, c.record()),
               ("search_orders", {"customer_phone": c.phone, "limit": 2}, {"orders": c.orders})]]
    o1, o2 = c.orders
    return Script(q, rounds, f"Yes: {o1['order_id']} is {o1['status']} and {o2['order_id']} is {o2['status']}.")


def _sc_invoice(rng: random.Random, c: Customer) -> Script:
    o = c.orders[0]
    to = f"accounts@{c.name.split()[1].lower()}-consulting.example.com"
    q = f"Please email the invoice for order {o['order_id']} to {to}."
    rounds = [[("search_orders", {"order_id": o["order_id"]}, {"orders": [o]})],
              [("send_email", {"to": to, "subject": f"Invoice {o['order_id']}",
                               "attachments": [f"{o['order_id']}.pdf"]},
                {"message_id": f"<{rng.getrandbits(40):010x}@mail.northwind.example>", "status": "queued"})]]
    return Script(q, rounds, f"Done, the invoice for {o['order_id']} is on its way to {to}.")


def _sc_address(rng: random.Random, c: Customer) -> Script:
    new = rng.choice([s for s in STREETS if s != c.address])
    q = f"I moved. Please change the delivery address on my account ({c.email}) to {new}."
    rounds = [[("lookup_customer", {"email": c.email}, c.record())],
              [("update_address", {"customer_id": c.customer_id, "address": new}, {"ok": True})],
              [("send_email", {"to": c.email, "subject": "Address updated"}, {"status": "queued"})]]
    return Script(q, rounds, f"Your address is now {new}; I've emailed you a confirmation.")


def _sc_cancel(rng: random.Random, c: Customer) -> Script:
    q = f"Cancel my premium subscription and refund this month. Account email {c.email}, phone {c.phone}."
    rounds = [[("lookup_customer", {"email": c.email}, c.record())],
              [("cancel_subscription", {"customer_id": c.customer_id, "plan": "premium"},
                {"status": "cancelled", "refundable_amount": 9.99})],
              [("refund_payment", {"customer_id": c.customer_id, "amount": 9.99, "reason": "subscription"},
                {"status": "succeeded", "card_last4": c.card_last4})],
              [("send_email", {"to": c.email, "subject": "Premium cancelled"}, {"status": "queued"})]]
    return Script(q, rounds, "Premium is cancelled and 9.99 GBP is on its way back to the card ending "
                             f"{c.card_last4}.")


def _sc_escalate(rng: random.Random, c: Customer) -> Script:
    q = (f"This is the third time I'm writing about a double charge on my card. Call me on {c.phone}, "
         "I want to speak to a human.")
    ticket = f"T-{rng.randrange(100000, 999999)}"
    rounds = [[("kb_search", {"query": "double charge"}, {"results": []})],
              [("lookup_customer", {"phone": c.phone}, c.record())],
              [("create_ticket", {"customer_id": c.customer_id, "summary": "double charge, customer asks for a call",
                                  "priority": "high"}, {"ticket_id": ticket})],
              [("send_email", {"to": c.email, "subject": f"Ticket {ticket}"}, {"status": "queued"})]]
    return Script(q, rounds, f"I'm sorry. I've opened ticket {ticket} with high priority; a colleague will call "
                             f"you on {c.phone} today.")


def _sc_restock(rng: random.Random, c: Customer) -> Script:
    o = c.orders[1]
    sku = f"SKU-{rng.randrange(100000, 999999)}"
    q = f"The {o['item']} in order {o['order_id']} was out of stock, when will it be back?"
    rounds = [[("search_orders", {"order_id": o["order_id"]}, {"orders": [o | {"sku": sku}]})],
              [("check_inventory", {"sku": sku}, {"sku": sku, "in_stock": 0, "restock": rng.choice(WEEKDAYS)})],
              [("create_ticket", {"summary": f"notify {c.email} on restock of {sku}", "priority": "low"},
                {"ticket_id": f"T-{rng.randrange(100000, 999999)}"})]]
    return Script(q, rounds, f"The {o['item']} should be back in stock soon; I'll let you know by email.")


def _sc_translate(rng: random.Random, c: Customer) -> Script:
    q = f"Hola, ¿puedo devolver un producto sin recibo? Mi correo es {c.email}."
    rounds = [[("translate_text", {"text": q, "target": "en"},
                {"translation": f"Hello, can I return a product without a receipt? My email is {c.email}.",
                 "source_lang": "es"})],
              [("kb_search", {"query": "return without receipt"},
                {"results": [{"id": "kb-returns-01", "snippet": KB[0]["content"], "score": 0.77}]})]]
    return Script(q, rounds, "Sí, puede devolverlo en 30 días; buscaremos su pedido con su correo.")


def _sc_callback(rng: random.Random, c: Customer) -> Script:
    city = rng.choice(CITIES)
    q = f"Will the storm in {city} delay my delivery? Please call me back at {c.phone} tomorrow morning."
    rounds = [[("get_weather", {"city": city, "date": "tomorrow"}, _forecast(rng, city))],
              [("kb_search", {"query": "weather delays"}, {"results": [{"id": "kb-shipping-02", "score": 0.64}]})],
              [("schedule_callback", {"phone": c.phone, "when": "tomorrow 09:00"},
                {"callback_id": f"cb_{rng.getrandbits(32):08x}", "status": "booked"})]]
    return Script(q, rounds, f"Deliveries to {city} may slip by a day. I've booked a call to {c.phone} "
                             "tomorrow at 9am.")


def _sc_thanks(rng: random.Random, c: Customer) -> Script:
    q = rng.choice(("Thanks, that's all!", "Great, thank you.", "ok cheers"))
    return Script(q, [], f"You're welcome, {c.first}! Have a great day.")


def _sc_phone_line(rng: random.Random, c: Customer) -> Script:
    return Script("Is there a phone number I can call instead?", [],
                  "Yes: +44 20 7946 0000, Monday to Friday 8am-6pm, or (415) 555-0100 from the US.")


def _sc_followup_email(rng: random.Random, c: Customer) -> Script:
    q = f"Could you email me a summary at {c.email}?"
    rounds = [[("send_email", {"to": c.email, "subject": "Your conversation with Northwind"},
                {"message_id": f"<{rng.getrandbits(40):010x}@mail.northwind.example>", "status": "queued"})]]
    return Script(q, rounds, f"Sent to {c.email}.")


# (scenario, weight as a first turn, weight as a follow-up): common paths first, then the long tail.
_SCENARIOS = (
    (_sc_order_status, 18, 4), (_sc_order_quick, 10, 6), (lambda r, c: _sc_refund(r, c), 7, 3),
    (lambda r, c: _sc_refund(r, c, email=True), 3, 1), (_sc_weather, 8, 3), (_sc_weather_compare, 3, 1),
    (_sc_policy_tool, 12, 5), (_sc_policy_rag, 10, 5), (_sc_parallel, 4, 2), (_sc_invoice, 4, 3),
    (_sc_address, 1, 1), (_sc_cancel, 1, 0.5), (_sc_escalate, 1, 1), (_sc_restock, 1, 0.5),
    (_sc_translate, 1, 0.3), (_sc_callback, 0.5, 0.3), (_sc_thanks, 0.5, 14), (_sc_phone_line, 1, 3),
    (_sc_followup_email, 0, 6),
)


def pick_scenario(rng: random.Random, first: bool) -> Callable[[random.Random, Customer], Script]:
    weights = [s[1] if first else s[2] for s in _SCENARIOS]
    return rng.choices(_SCENARIOS, weights=weights)[0][0]
