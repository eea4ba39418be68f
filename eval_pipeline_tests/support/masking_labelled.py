"""A labelled test set for the masking detectors: texts as they appear in agent traces, in several
languages and formats, each with the entities a masker must find, plus look-alikes that must stay.

Every entity is ``(type, exact substring)``; a substring that occurs several times is labelled once
per occurrence, in order. Values are fictional: reserved phone ranges, documentation IPs, published
test card numbers and IBANs, AWS's example key.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    text: str
    entities: tuple[tuple[str, str], ...] = field(default=())


def _s(text: str, *entities: tuple[str, str]) -> Sample:
    return Sample(text, tuple(entities))


ENTITIES: list[Sample] = [
    # --- URLs (privacy.urls: all, the default, masks every URL; credentials_only keeps these)
    _s("health at http://localhost:8080/health", ("URL", "http://localhost:8080/health")),
    _s("see https://docs.example.com/api?page=2&sort=desc.", ("URL", "https://docs.example.com/api?page=2&sort=desc")),
    _s("Profil: www.example.de/u/jana-k und mehr", ("URL", "www.example.de/u/jana-k")),
    # --- e-mail
    _s("Hi, I'm Jane Doe (jane.doe@example.com). Where is my order A12345?", ("EMAIL", "jane.doe@example.com")),
    _s("mail jane.doe+eval@example.co.uk today", ("EMAIL", "jane.doe+eval@example.co.uk")),
    _s("CONTACT: JANE@EXAMPLE.COM", ("EMAIL", "JANE@EXAMPLE.COM")),
    _s('{"email":"kenji_chen@mail.example.net","tier":"gold"}', ("EMAIL", "kenji_chen@mail.example.net")),
    _s("a@example.org,b@example.org", ("EMAIL", "a@example.org"), ("EMAIL", "b@example.org")),
    _s("Bitte antworten Sie an lukas.becker@beispiel.de, danke!", ("EMAIL", "lukas.becker@beispiel.de")),
    _s("Escríbeme a carlos.ortega@ejemplo.es por favor.", ("EMAIL", "carlos.ortega@ejemplo.es")),
    _s("请发送到 mei.chen@example.cn 谢谢", ("EMAIL", "mei.chen@example.cn")),
    _s("<a href=\"mailto:sofia.rossi@esempio.it\">scrivimi</a>", ("EMAIL", "sofia.rossi@esempio.it")),
    _s("From: \"Omar H.\" <omar.haddad@example.com>", ("EMAIL", "omar.haddad@example.com")),
    _s("user ID tanaka-k@sub.example.jp logged in.", ("EMAIL", "tanaka-k@sub.example.jp")),
    # --- phone
    _s("You can call me on +44 20 7946 0958.", ("PHONE", "+44 20 7946 0958")),
    _s("call (415) 555-0132 please", ("PHONE", "(415) 555-0132")),
    _s("call 415-555-0132 or 415.555.0199", ("PHONE", "415-555-0132"), ("PHONE", "415.555.0199")),
    _s("ring +1 415 555 0132 after 5pm", ("PHONE", "+1 415 555 0132")),
    _s("Tel: +49 30 1234567", ("PHONE", "+49 30 1234567")),
    _s("bel 020 7946 0958 voor info", ("PHONE", "020 7946 0958")),
    _s("Mon numéro: 01 99 00 12 34", ("PHONE", "01 99 00 12 34")),
    _s("Rufen Sie mich an: 030 12345678", ("PHONE", "030 12345678")),
    _s("Llámame al +34 612 34 56 78 mañana", ("PHONE", "+34 612 34 56 78")),
    _s("携帯: +81 90-1234-5678", ("PHONE", "+81 90-1234-5678")),
    _s("office 03-1234-5678 (Tokyo)", ("PHONE", "03-1234-5678")),
    _s('{"phone":"+1 (646) 555-0147"}', ("PHONE", "+1 (646) 555-0147")),
    _s("whatsapp +44 7700 900123", ("PHONE", "+44 7700 900123")),
    _s("India support: +91 98765 43210", ("PHONE", "+91 98765 43210")),
    _s("Manchester line 0161 496 0123", ("PHONE", "0161 496 0123")),
    _s("call me at 415 555 0172", ("PHONE", "415 555 0172")),
    # --- payment cards
    _s("card 4111 1111 1111 1111 exp 12/27", ("CARD", "4111 1111 1111 1111")),
    _s("Visa: 4539-1488-0343-6467", ("CARD", "4539-1488-0343-6467")),
    _s("pay with 5555555555554444 now", ("CARD", "5555555555554444")),
    _s("Amex 3782 822463 10005 on file", ("CARD", "3782 822463 10005")),
    _s("Amex 371449635398431", ("CARD", "371449635398431")),
    _s('{"card_number": "6011111111111117", "cvc": "123"}', ("CARD", "6011111111111117")),
    _s("JCB 3530 1113 3330 0000 expired", ("CARD", "3530 1113 3330 0000")),
    _s("Mastercard 2223 0031 2200 3222.", ("CARD", "2223 0031 2200 3222")),
    _s("Karte 5200 8282 8282 8210 wurde abgelehnt", ("CARD", "5200 8282 8282 8210")),
    _s("Diners 36227206271667", ("CARD", "36227206271667")),
    _s("UnionPay 6200000000000005 ok", ("CARD", "6200000000000005")),
    # --- IBAN
    _s("IBAN: GB82 WEST 1234 5698 7654 32", ("IBAN", "GB82 WEST 1234 5698 7654 32")),
    _s("Überweisung an DE89 3704 0044 0532 0130 00 bitte", ("IBAN", "DE89 3704 0044 0532 0130 00")),
    _s("RIB FR14 2004 1010 0505 0001 3M02 606", ("IBAN", "FR14 2004 1010 0505 0001 3M02 606")),
    _s("iban=NL91ABNA0417164300&amount=10", ("IBAN", "NL91ABNA0417164300")),
    _s("Cuenta ES91 2100 0418 4502 0005 1332.", ("IBAN", "ES91 2100 0418 4502 0005 1332")),
    _s("IT60X0542811101000000123456", ("IBAN", "IT60X0542811101000000123456")),
    _s("BE68 5390 0754 7034 and CH93 0076 2011 6238 5295 7",
       ("IBAN", "BE68 5390 0754 7034"), ("IBAN", "CH93 0076 2011 6238 5295 7")),
    _s("konto PL61 1090 1014 0000 0712 1981 2874 OK", ("IBAN", "PL61 1090 1014 0000 0712 1981 2874")),
    # --- SSN
    _s("SSN 123-45-6789 on the form", ("SSN", "123-45-6789")),
    _s("my social security number is 078-05-1120.", ("SSN", "078-05-1120")),
    _s("ssn: 219099999", ("SSN", "219099999")),
    # --- IP addresses
    _s("login from 203.0.113.42 failed", ("IP", "203.0.113.42")),
    _s("connect to 10.1.2.3:5432 timed out", ("IP", "10.1.2.3")),
    _s('{"client_ip":"198.51.100.7"}', ("IP", "198.51.100.7")),
    _s("IPv6 2001:db8:85a3::8a2e:370:7334 seen", ("IP", "2001:db8:85a3::8a2e:370:7334")),
    _s("peer fe80::1ff:fe23:4567:890a%eth0", ("IP", "fe80::1ff:fe23:4567:890a")),
    _s("X-Forwarded-For: 192.0.2.1, 192.0.2.254", ("IP", "192.0.2.1"), ("IP", "192.0.2.254")),
    # --- URLs with credentials or tokens
    _s("postgres://admin:s3cr3tpass@db.internal:5432/app", ("URL_SECRET", "admin:s3cr3tpass")),
    _s("GET https://api.example.com/v1/files?token=9f8e7d6c5b4a3210&page=2", ("URL_SECRET", "9f8e7d6c5b4a3210")),
    _s("https://example.com/cb?code=abc&access_token=ya29.a0AfH6SMBx", ("URL_SECRET", "ya29.a0AfH6SMBx")),
    _s("see https://s3.amazonaws.com/b/k?X-Amz-Signature=0a1b2c3d4e5f67890&x=1",
       ("URL_SECRET", "0a1b2c3d4e5f67890")),
    _s("https://maps.example.com/api?key=AIzaSyA1b2C3d4E5f6G7h8&q=Berlin", ("URL_SECRET", "AIzaSyA1b2C3d4E5f6G7h8")),
    # --- secrets and keys
    _s("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
       ("SECRET", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789")),
    _s("use sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345 for claude",
       ("SECRET", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz012345")),
    _s("aws key AKIAIOSFODNN7EXAMPLE in config", ("SECRET", "AKIAIOSFODNN7EXAMPLE")),
    _s("token ghp_1234567890abcdefghijklmnopqrstuvwxyzAB pushed",
       ("SECRET", "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB")),
    _s("slack xoxb-123456789012-1234567890123-AbCdEfGhIjKl",
       ("SECRET", "xoxb-123456789012-1234567890123-AbCdEfGhIjKl")),
    _s("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
       ("SECRET", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")),
    _s("Authorization: Bearer abcDEF123456ghiJKL7890", ("SECRET", "abcDEF123456ghiJKL7890")),
    _s('{"password": "hunter2!", "user": "bob"}', ("SECRET", "hunter2!")),
    _s("db password=Tr0ub4dor&3 please rotate", ("SECRET", "Tr0ub4dor")),
    _s("api_key: 3f9a1c2b4d5e6f70", ("SECRET", "3f9a1c2b4d5e6f70")),
    _s("Passwort vergessen? password: Geheim123", ("SECRET", "Geheim123")),
    _s("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nabcdEFGH==\n-----END RSA PRIVATE KEY-----",
       ("SECRET", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nabcdEFGH==\n-----END RSA PRIVATE KEY-----")),
    _s('{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0B\\n-----END PRIVATE KEY-----\\n"}',
       ("SECRET", "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0B\\n-----END PRIVATE KEY-----")),
    # --- addresses
    _s("I live at 221 Elm Street, Apt 4B, Springfield, IL 62704", ("ADDRESS", "221 Elm Street, Apt 4B")),
    _s("ship to 14 Harbour Road, Leith, Edinburgh EH6 6QA", ("ADDRESS", "14 Harbour Road")),
    _s("Lieferadresse: Kastanienallee 12, 10435 Berlin", ("ADDRESS", "Kastanienallee 12")),
    _s("Morada: Rua das Flores 88, 1200-195 Lisboa", ("ADDRESS", "Rua das Flores 88")),
    _s("new address 5 Queen Street, Toronto M5C 2B5", ("ADDRESS", "5 Queen Street")),
    _s("Envoyez-le au 12 rue de la Paix, 75002 Paris", ("ADDRESS", "12 rue de la Paix")),
    _s("Dirección: Calle Mayor 5, Madrid", ("ADDRESS", "Calle Mayor 5")),
    _s("Indirizzo: Via Roma 10, Milano", ("ADDRESS", "Via Roma 10")),
    _s("Adresse Hauptstraße 5 in München", ("ADDRESS", "Hauptstraße 5")),
    _s("1600 Pennsylvania Avenue is famous", ("ADDRESS", "1600 Pennsylvania Avenue")),
    # --- dates of birth
    _s("date of birth: 12/03/1985", ("DOB", "12/03/1985")),
    _s("DOB 1985-03-12, member since 2019", ("DOB", "1985-03-12")),
    _s("I was born on 12 March 1985 in Leeds", ("DOB", "12 March 1985")),
    _s("born March 12, 1985", ("DOB", "March 12, 1985")),
    _s("Geburtsdatum: 12.03.1985", ("DOB", "12.03.1985")),
    _s("fecha de nacimiento: 12 de marzo de 1985", ("DOB", "12 de marzo de 1985")),
    _s("date de naissance : 12/03/1985", ("DOB", "12/03/1985")),
    # --- several in one text, trace-shaped
    _s('{"customer_id":"C-40717","email":"jane.haddad@mail.example.net","name":"Jane Haddad",'
       '"phone":"020 7946 0922","address":"14 Harbour Road, Leith, Edinburgh EH6 6QA"}',
       ("EMAIL", "jane.haddad@mail.example.net"), ("PHONE", "020 7946 0922"), ("ADDRESS", "14 Harbour Road")),
    _s("Refund 19.99 GBP to card 4111-1111-1111-1111 for user bob@example.com from 203.0.113.9",
       ("CARD", "4111-1111-1111-1111"), ("EMAIL", "bob@example.com"), ("IP", "203.0.113.9")),
    _s("error: auth failed for postgres://svc:pa55word@10.0.0.5/db (password=pa55word)",
       ("URL_SECRET", "svc:pa55word"), ("IP", "10.0.0.5"), ("SECRET", "pa55word")),
    _s("Hello, order A52877 was due days ago, can you check? My phone is +33 1 99 00 12 34.",
       ("PHONE", "+33 1 99 00 12 34")),
]

# Trace text full of things that look like entities and are not: none of these may be masked.
LOOK_ALIKES: list[Sample] = [_s(t) for t in (
    "2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123456+00:00", "started 2026-11-20 10:00:00 UTC",
    "version 1.13.27", "dagster==1.13.27 polars==2.1.0", "v10.0.1 released", "node v18.17.1",
    "order 123456789", "order number A52877", "Has A46643 shipped yet?", "tracking 1Z6288752319",
    "refund re_f20e9850cab0 succeeded", "customer C-40717", "ticket #48213", "invoice INV-2026-000123",
    "uuid 550e8400-e29b-41d4-a716-446655440000", "trace 4bf92f3577b34da6a3ce929d0e0e4736",
    "span 00f067aa0ba902b7", "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "md5 d41d8cd98f00b204e9800998ecf8427e", "commit 3f2a1b9",
    "gen_ai.prompt and input.value", "llm.input_messages.0.message.content", "gen_ai.usage.input_tokens=512",
    "attributes['input.value']", "traceloop.entity.input", "mlflow.spanInputs",
    "/var/log/app-2026-11-20.log", "C:\\Users\\app\\data\\file.txt", "./src/eval_pipeline/lib/masking.py",
    "took 1234 ms at 12:30:45", "latency 1234.5 ms, p95 2345.6 ms", "price 1,234.56 USD", "total 499.0 GBP",
    "card ending 9339", "Unix time 1732096800 and ns 1732096800123456789", "epoch ms 1732096800123",
    "input_tokens: 512, output_tokens: 128", "max_tokens=512", "temperature=0.2 top_p=0.9",
    "icon@2x.png and logo@3x.webp", "npm i lodash@4.17.21 react@18.2.0", "@dataclass(frozen=True)",
    "git@github.com:org/repo.git", "ratio 3:2:1", "Mon-Fri 8am-6pm", "3-5 business days", "within 14 days",
    "2024-01-01 to 2024-12-31", "Windows 10.0.19045", "build 2026.11.20.1", "OID 1.3.6.1.4.1",
    "model gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "gemini-2.0-flash-001",
    "ws://127.0.0.1.nip.io", "matrix 12 34 56",
    "step 1: 10 degrees, step 2: 12 degrees", "ISBN 978-3-16-148410-0", "std::vector<int>", "a::b::c",
    "ERROR 404 at line 12:34", "HTTP/1.1 200 OK", "image 1920x1080", "1e-5", "0x7ffee4b2a8c8",
    "Our phone line is open Monday to Friday", "the password field is required", "token limit reached",
    "Bearer token missing", "api_key not set", "secret: ${API_SECRET}", "password: <redacted>",
    "We ship to the EU, the UK, the US", "Main Street is closed", "street food in Lisbon",
    "5 best ways to save", "Top 10 Streets of Paris", "born to run", "birthday party on Friday",
    "the SSN field", "Social security is a programme", "IBAN format explained",
    "Room 101", "Flight BA 283 at 10:45", "Postcode EH6 6QA only", "Thursday 12:00-14:00",
    "score 0.873, 0.912, 0.655", "weights [0.25, 0.5, 0.25]", "version 2.1.0-rc.1+build.5",
    "10.5.3 release notes", "1.2.3.4.5 is not an IP", "999.1.1.1 invalid",
    "ISO week 2026-W47", "timestamp 20261120T100000Z", "otlp-20261125T035704Z-00000.jsonl",
    "session-9d64d7889a1a70b4", "conv_4f3c2b1a0e9d8c7b6a5f4e3d", "user-73303", "acct_680990",
)]

SAMPLES: list[Sample] = ENTITIES + LOOK_ALIKES
