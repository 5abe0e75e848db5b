"""Shared word lists of the varied writing (`simulate.writing.* = "varied"`).

Real APIs say the same thing in many words: `get`, `fetch`, `retrieve`, `lookup`; `forecast`,
`outlook`; `information`, `info`. A model that saw one word per meaning learns the word, not the
meaning, so the varied names and descriptions draw their verbs and object words from these
synonym sets (seeded per tool). Only words of the world's capability tables are covered; any
other word stays as it is. Every list keeps the table's own word as one of the choices, so the
varied world still contains the paper world's vocabulary.
"""

from __future__ import annotations

import random

VERBS: dict[str, tuple[str, ...]] = {
    "get": ("get", "fetch", "retrieve", "read", "lookup", "query", "load", "show"),
    "search": ("search", "find", "lookup", "query", "browse", "discover"),
    "list": ("list", "browse", "enumerate", "fetch", "get", "show"),
    "create": ("create", "add", "new", "make", "post", "insert"),
    "find": ("find", "search", "locate", "lookup", "discover"),
    "estimate": ("estimate", "calc", "predict", "compute", "forecast"),
    "check": ("check", "verify", "inspect", "validate", "test"),
    "send": ("send", "post", "dispatch", "deliver", "push"),
    "track": ("track", "trace", "follow", "monitor"),
    "book": ("book", "reserve", "schedule"),
    "recommend": ("recommend", "suggest", "propose"),
    "convert": ("convert", "transform", "translate"),
    "compare": ("compare", "diff", "rank"),
    "calculate": ("calculate", "calc", "compute"),
    "buy": ("buy", "purchase", "order"),
    "schedule": ("schedule", "plan", "book"),
    "submit": ("submit", "file", "send"),
    "request": ("request", "ask", "open"),
    "log": ("log", "record", "add"),
    "play": ("play", "start", "stream"),
}
# Verbs whose REST form is a write (POST) rather than a read (GET).
WRITE_VERBS = frozenset((
    "create", "send", "book", "buy", "submit", "request", "log", "schedule", "subscribe",
    "unsubscribe", "publish", "deploy", "rollback", "reset", "set", "scale", "block", "file",
    "play", "control", "perform", "plan", "translate", "convert",
))
OBJECT_WORDS: dict[str, tuple[str, ...]] = {
    "forecast": ("forecast", "outlook", "prediction"),
    "information": ("information", "info", "details", "data"),
    "details": ("details", "info", "metadata", "overview"),
    "status": ("status", "state", "progress"),
    "history": ("history", "log", "timeline", "records"),
    "summary": ("summary", "overview", "digest", "synopsis"),
    "alerts": ("alerts", "warnings", "advisories", "notices"),
    "events": ("events", "happenings", "entries"),
    "transactions": ("transactions", "activity", "movements"),
    "hotels": ("hotels", "stays", "lodging", "accommodation"),
    "restaurants": ("restaurants", "eateries", "venues"),
    "openings": ("openings", "vacancies", "positions", "postings"),
    "reviews": ("reviews", "ratings", "feedback"),
    "prices": ("prices", "rates", "costs", "pricing"),
    "price": ("price", "rate", "cost"),
    "rates": ("rates", "prices", "quotes"),
    "quote": ("quote", "price", "quotation"),
    "listings": ("listings", "offers", "properties"),
    "products": ("products", "items", "goods", "catalog"),
    "messages": ("messages", "texts", "inbox"),
    "message": ("message", "text", "note"),
    "metrics": ("metrics", "stats", "measurements"),
    "statistics": ("statistics", "stats", "figures"),
    "logs": ("logs", "log lines", "traces"),
    "places": ("places", "spots", "locations", "points of interest"),
    "directions": ("directions", "route", "itinerary"),
    "articles": ("articles", "stories", "coverage"),
    "headlines": ("headlines", "stories", "news"),
    "instructions": ("instructions", "steps", "method"),
    "recipes": ("recipes", "dishes", "meal ideas"),
    "flights": ("flights", "fares", "connections"),
    "availability": ("availability", "status"),
    "fee": ("fee", "charge", "cost"),
    "plan": ("plan", "programme", "schedule"),
    "definition": ("definition", "meaning", "gloss"),
    "synonyms": ("synonyms", "alternatives", "similar words"),
    "concerts": ("concerts", "gigs", "shows"),
    "showtimes": ("showtimes", "screenings", "schedule"),
    "departures": ("departures", "timetable", "schedule"),
    "doctors": ("doctors", "physicians", "clinicians"),
    "courses": ("courses", "classes", "programmes"),
    "tutors": ("tutors", "teachers", "instructors"),
    "tickets": ("tickets", "passes", "admissions"),
    "ticket": ("ticket", "case", "incident"),
}
# Abbreviations real code bases use in identifiers (never in prose).
ABBREVIATIONS: dict[str, str] = {
    "forecast": "fcst", "information": "info", "message": "msg", "messages": "msgs",
    "number": "num", "temperature": "temp", "account": "acct", "transactions": "txns",
    "transaction": "txn", "reservation": "resv", "calendar": "cal", "appointment": "appt",
    "document": "doc", "configuration": "config", "statistics": "stats", "address": "addr",
    "application": "app", "quantity": "qty", "description": "desc", "location": "loc",
    "notification": "notif", "repository": "repo", "request": "req", "coordinates": "coords",
    "conditions": "cond", "current": "cur", "daily": "dly", "availability": "avail",
    "payment": "pmt", "payments": "pmts", "deployment": "deploy", "medication": "med",
    "interactions": "ix", "directions": "dirs", "estimate": "est", "calculate": "calc",
    "restaurant": "rest", "restaurants": "rests", "reviews": "revs", "details": "dtls",
    "property": "prop", "distance": "dist", "minutes": "mins", "maximum": "max",
    "minimum": "min", "exchange": "fx", "currency": "ccy", "dividend": "div",
    "fundamentals": "fundmtls", "vehicle": "veh", "insurance": "ins", "definition": "defn",
    "pronunciation": "pron", "severe": "sev", "weather": "wx", "ingredient": "ingr",
}
# Words dropped from identifiers built from prose ("address to coordinates").
_FILLER = frozenset(("to", "the", "a", "an", "of", "for", "and"))


def verb_synonym(verb: str, rng: random.Random) -> str:
    """A verb meaning `verb` (the verb itself when the table has no synonyms for it)."""
    return rng.choice(VERBS.get(verb, (verb,)))


def object_phrase(obj: str, rng: random.Random) -> str:
    """`obj` with its last word swapped for a synonym half the time ("daily outlook")."""
    words = obj.split()
    options = OBJECT_WORDS.get(words[-1].lower())
    if options and rng.random() < 0.5:
        words[-1] = rng.choice(options)
    return " ".join(words)


def identifier_words(phrase: str) -> list[str]:
    """The words of a prose phrase that go into an identifier ("check-in" -> check, in)."""
    return [w for w in phrase.replace("-", " ").replace("/", " ").split()
            if w.lower() not in _FILLER]


def abbreviate(words: list[str], rng: random.Random, share: float = 0.6) -> list[str]:
    """Each word with a known abbreviation is abbreviated with probability `share`."""
    return [ABBREVIATIONS[w.lower()] if w.lower() in ABBREVIATIONS and rng.random() < share
            else w for w in words]


def plural(word: str) -> str:
    """A naive English plural, enough for REST resource paths (`forecasts`, `policies`)."""
    lower = word.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return word if lower.endswith("s") else word + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def is_write(verb: str) -> bool:
    """Whether a capability's verb changes state (a POST endpoint, an imperative doc)."""
    return verb in WRITE_VERBS
