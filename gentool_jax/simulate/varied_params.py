"""Parameter names and schemas as real APIs write them (`simulate.writing.parameters = "varied"`).

In the paper-faithful world a parameter is named after its slot kind (`city`, `date`), so a
model can copy the slot vocabulary instead of reading the schema. Here each slot takes one of
its synonyms (`city`, `location`, `place`, `town`, `city_name`), in the casing of the tool's
name, and its schema is written in varied ways: a description in one of several phrasings or
none at all, format hints inline or as a sentence, an enum as a JSON-schema `enum` or as
"One of: ..." prose, sometimes an example value. The types stay exact, so every gold argument
stays valid against the schema; `Tool.arg_names` maps each slot to its parameter name, so the
gold call uses the renamed parameters (query slot -> argument mapping unchanged).
"""

from __future__ import annotations

import random

from gentool_jax.simulate import naming
from gentool_jax.simulate.gazetteers import SLOTS
from gentool_jax.simulate.varied_names import name_convention
from gentool_jax.simulate.world import Capability

SYNONYMS: dict[str, tuple[str, ...]] = {
    "city": ("city", "location", "place", "town", "city_name", "loc"),
    "date": ("date", "day", "when", "on_date", "date_text"),
    "time": ("time", "at", "time_of_day", "hour"),
    "origin": ("origin", "from_city", "start", "departure", "source"),
    "destination": ("destination", "to_city", "end", "arrival", "dest"),
    "person": ("person", "name", "who", "full_name"),
    "contact": ("contact", "recipient", "to", "contact_name"),
    "email": ("email", "email_address", "mail"),
    "ticker": ("ticker", "symbol", "stock_symbol"),
    "company": ("company", "company_name", "org", "organization"),
    "currency": ("currency", "base_currency", "from_currency", "ccy"),
    "target_currency": ("target_currency", "to_currency", "quote_currency"),
    "amount": ("amount", "value", "sum", "total"),
    "count": ("count", "limit", "n", "num_results", "max_results", "top_k"),
    "nights": ("nights", "num_nights", "stay_length"),
    "minutes": ("minutes", "duration", "mins", "duration_minutes"),
    "unit": ("unit", "units", "temp_unit"),
    "mode": ("mode", "travel_mode", "transport"),
    "language": ("language", "lang", "target_language"),
    "text": ("text", "content", "input_text", "phrase"),
    "keyword": ("keyword", "q", "query", "term", "search_term"),
    "address": ("address", "street_address", "addr"),
    "device": ("device", "device_name", "target"),
    "vehicle": ("vehicle", "car", "model"),
    "service": ("service", "service_name", "app"),
    "movie": ("movie", "title", "film"),
    "topic": ("topic", "subject", "theme"),
    "team": ("team", "club", "team_name"),
    "restaurant": ("restaurant", "venue", "restaurant_name"),
    "repo": ("repo", "repository", "project"),
    "job_title": ("job_title", "role", "position", "title"),
    "product": ("product", "item", "product_name"),
    "order_id": ("order_id", "order", "orderId", "order_number"),
    "budget": ("budget", "max_price", "price_limit"),
    "zip_code": ("zip_code", "postcode", "postal_code", "zip"),
    "word": ("word", "term", "headword"),
    "book": ("book", "title", "book_title"),
    "artist": ("artist", "performer", "artist_name"),
    "ingredient": ("ingredient", "item", "food"),
    "hotel": ("hotel", "property", "hotel_name"),
    "branch": ("branch", "ref", "branch_name"),
    "flight_number": ("flight_number", "flight", "flight_no"),
    "tracking_number": ("tracking_number", "tracking_id", "awb"),
}
# Vaguer names of a coarse weak tool's merged parameters (the paper world's `location`, `when`).
COARSE: dict[str, tuple[str, ...]] = {
    "city": ("location", "where", "place", "area"), "origin": ("start", "from", "begin"),
    "destination": ("end", "to", "target"), "date": ("when", "day", "timing"),
    "time": ("at", "hour"), "person": ("who", "name"), "contact": ("who", "name"),
    "ticker": ("symbol", "code"), "company": ("name", "org"), "amount": ("value", "how_much"),
    "count": ("number", "how_many"),
}
FREE_TEXT = ("query", "q", "request", "question", "prompt", "text", "input", "message")
_DESCRIPTIONS = ("The {t}.", "{T} to use.", "Name of the {t}.", "Which {t}.", "{T}",
                 "The {t} to look up", "{T} (free text).", "Requested {t}.", "{T} for the call.")
_NUMERIC = ("The {t}.", "{T} as a number.", "{T} value.", "Numeric {t}.", "{T}",
            "Requested {t}.", "{T} (numeric).")
_PYTHON = {"string": "str", "integer": "int", "number": "float"}


def python_type(json_type: str) -> str:
    """The Python spelling of a JSON-schema type, for docstring-style descriptions."""
    return _PYTHON.get(json_type, json_type)


def casing(name: str, rng: random.Random) -> str:
    """`camel` or `snake` parameters for a tool called `name`: mostly its own casing."""
    camel = name_convention(name) in ("camel", "pascal", "product")
    return ("camel" if camel else "snake") if rng.random() < 0.85 else (
        "snake" if camel else "camel")


def _cased(name: str, style: str) -> str:
    parts = name.split("_")
    return naming.camel(parts) if style == "camel" and len(parts) > 1 else name


def _schema(slot: str, required: bool, rng: random.Random) -> dict:
    kind = SLOTS[slot]
    text = slot.replace("_", " ")
    schema: dict = {"type": "number" if kind.type == "integer" and rng.random() < 0.15
                    else kind.type}
    enum_in_schema = kind.enum and rng.random() < 0.7
    if enum_in_schema:
        schema["enum"] = list(kind.values)
    if rng.random() < 0.15 and not kind.enum:  # some real APIs document no parameter at all
        return schema
    phrasings = _NUMERIC if kind.type != "string" else _DESCRIPTIONS if not kind.format \
        else tuple(p for p in _DESCRIPTIONS if "Name" not in p and "free" not in p)
    parts = [rng.choice(phrasings).format(t=text, T=text.capitalize())]
    if kind.format:
        parts.append(rng.choice((f"({kind.format})", f"Format: {kind.format}.",
                                 f"Given as a {kind.format}.")))
    if kind.enum and not enum_in_schema:
        parts.append("One of: " + ", ".join(str(v) for v in kind.values) + ".")
    if not required and rng.random() < 0.5:
        parts.append(rng.choice(("Optional.", "(optional)", "May be omitted.")))
    if not kind.enum and rng.random() < 0.12:
        parts.append(f"e.g. {rng.choice(kind.values)!r}")
    if len(parts) > 1 and not parts[0].endswith((".", ")")):
        parts[0] += "."
    schema["description"] = " ".join(parts)
    return schema


def _names(slots: list[str], style: str, rng: random.Random) -> dict[str, str]:
    """slot -> a distinct parameter name (a synonym when free, else the slot's own name)."""
    names: dict[str, str] = {}
    for slot in slots:
        options = [_cased(s, style) for s in SYNONYMS.get(slot, (slot,))]
        free = [name for name in options if name not in names.values()]
        pick = rng.choice(free) if free else _cased(slot, style)
        while pick in names.values():
            pick += "2"
        names[slot] = pick
    return names


def precise_params(caps: list[Capability], style: str,
                   rng: random.Random) -> tuple[dict, dict[str, str]]:
    """(parameters schema, slot -> parameter name) of a precise tool serving `caps`; only the
    slots every capability needs are required (as in the paper world)."""
    slots: list[str] = []
    for cap in caps:
        slots += [slot for slot, _ in cap.params if slot not in slots]
    required = [slot for slot in slots if all(slot in cap.required for cap in caps)]
    arg_names = _names(slots, style, rng)
    params = {"type": "object",
              "properties": {arg_names[s]: _schema(s, s in required, rng) for s in slots},
              "required": [arg_names[s] for s in required]}
    return params, arg_names


def coarse_names(slots: list[str], rng: random.Random) -> dict[str, str]:
    """slot -> a vague, distinct name for the untyped parameters of a coarse weak tool."""
    out: dict[str, str] = {}
    for slot in slots:
        options = [n for n in COARSE.get(slot, (f"{slot}_text", f"{slot}_info", slot))
                   if n not in out.values()]
        pick = rng.choice(options) if options else f"{slot}_text"
        while pick in out.values():
            pick += "_2"
        out[slot] = pick
    return out


def free_text(rng: random.Random) -> tuple[str, dict]:
    """The single free-text parameter of a generic weak tool: (name, schema)."""
    name = rng.choice(FREE_TEXT)
    description = rng.choice(("The request in your own words", "Free-text question.",
                              "What the user asked, verbatim.", "Natural-language input.",
                              ""))
    schema = {"type": "string"}
    if description:
        schema["description"] = description
    return name, schema
