"""What the synthetic traffic is about: the six agent apps (one per convention family), their tools, the
fictional customers who write in and the help-centre knowledge base the answers quote."""

import random
from dataclasses import dataclass
from typing import Any

# Family names match what ``lib.ingest.normalize.conventions_of`` reports for the span attributes they write.
FAMILIES = ("otel_genai", "otel_genai_legacy", "openinference", "mlflow", "traceloop", "vercel_ai")


@dataclass(frozen=True)
class App:
    family: str
    service: str
    agent: str
    language: str
    scope_agent: tuple[str, str]
    scope_llm: tuple[str, str]
    models: tuple[tuple[str, str, str], ...]  # request model, response model, provider as this producer writes it
    version: str


SYSTEM_PROMPT = (
    "You are the customer-support assistant of Northwind Shop. Be brief and friendly. Use the tools to look "
    "up customers, orders, refunds and the help centre; never invent order details. Do not reveal internal notes."
)

APPS = {
    "otel_genai": App("otel_genai", "support-agent", "SupportAgent", "python",
                      ("agent_framework", "1.0.2"), ("opentelemetry.instrumentation.openai_v2", "2.3b0"),
                      (("gpt-4o", "gpt-4o-2024-08-06", "openai"), ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")),
                      "3.4.1"),
    "otel_genai_legacy": App("otel_genai_legacy", "order-assistant", "OrderAssistant", "python",
                             ("order_assistant", "0.9.0"), ("opentelemetry.instrumentation.vertexai", "0.52b0"),
                             (("gemini-2.0-flash", "gemini-2.0-flash-001", "vertex_ai"),
                              ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai")),
                             "0.9.0"),
    "openinference": App("openinference", "shop-concierge", "concierge", "python",
                         ("openinference.instrumentation.langchain", "0.1.43"),
                         ("openinference.instrumentation.langchain", "0.1.43"),
                         (("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20241022", "anthropic"),
                          ("gpt-4.1-mini", "gpt-4.1-mini-2025-04-14", "openai")),
                         "2.0.0"),
    "mlflow": App("mlflow", "billing-agent", "billing_agent", "python", ("mlflow.tracing", "3.4.0"),
                  ("mlflow.tracing", "3.4.0"),
                  (("gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "openai"),
                   ("databricks-claude-sonnet-4", "databricks-claude-sonnet-4", "databricks")),
                  "1.12.0"),
    "traceloop": App("traceloop", "travel-helper", "travel_helper", "python", ("traceloop.tracer", "0.40.7"),
                     ("opentelemetry.instrumentation.anthropic", "0.40.7"),
                     (("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929", "Anthropic"),
                      ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20241022", "Anthropic")),
                     "0.3.2"),
    "vercel_ai": App("vercel_ai", "web-chat", "web-chat", "nodejs", ("ai", "4.3.16"), ("ai", "4.3.16"),
                     (("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "openai.chat"),
                      ("gemini-2.5-flash", "gemini-2.5-flash", "google.generative-ai")),
                     "1.8.0"),
}


def resource_attributes(app: App) -> dict[str, Any]:
    sdk_version = "1.45.0" if app.language == "python" else "2.0.1"
    return {"service.name": app.service, "service.version": app.version, "deployment.environment.name": "production",
            "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.language": app.language,
            "telemetry.sdk.version": sdk_version}


# Tool name: (description, median latency in ms)
TOOLS = {
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

_FIRST = ("Jane", "Omar", "Priya", "Lukas", "Mei", "Carlos", "Aisha", "Tom", "Sofia", "Kenji", "Fatima", "Liam",
          "Ines", "Noah", "Yara", "Mateo", "Chloe", "Arjun")
_LAST = ("Doe", "Haddad", "Raman", "Becker", "Chen", "Ortega", "Bello", "Whitfield", "Rossi", "Tanaka", "Nasser",
         "Murphy", "Silva", "Novak", "Lindqvist", "Okafor")
_MAIL_DOMAINS = ("example.com", "example.org", "mail.example.net")
CITIES = ("London", "Manchester", "San Francisco", "Berlin", "Lisbon", "Tokyo", "Toronto", "Sydney", "Paris")
_ITEMS = (("wireless headphones", 129.99), ("espresso machine", 349.0), ("running shoes", 89.5),
          ("4K monitor", 279.0), ("standing desk", 499.0), ("phone case", 19.99), ("robot vacuum", 229.0))
_CARRIERS = ("DHL", "UPS", "Royal Mail", "FedEx")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
STREETS = ("14 Harbour Road, Leith, Edinburgh EH6 6QA", "221 Elm Street, Apt 4B, Springfield, IL 62704",
           "Kastanienallee 12, 10435 Berlin", "Rua das Flores 88, 1200-195 Lisboa", "5 Queen Street, Toronto M5C 2B5")
WEATHER = ("sunny", "light rain", "overcast", "thunderstorms", "snow showers", "partly cloudy")

KB = (
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
class Customer:
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


def new_customer(rng: random.Random) -> Customer:
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
            "shipped": rng.choice(WEEKDAYS), "eta": rng.choice(WEEKDAYS),
        })
    return Customer(first, f"{first} {last}", f"{local}@{rng.choice(_MAIL_DOMAINS)}", _phone(rng),
                    f"C-{rng.randrange(10000, 99999)}", rng.choice(STREETS), f"{rng.randrange(10000):04d}", orders)
