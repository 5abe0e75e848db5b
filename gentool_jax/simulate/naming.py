"""Tool names and descriptions in varied styles, unique across the world.

Real tool catalogues mix `get_weather`, `getWeather`, `weather_lookup` and product names like
`NimbusCast`; descriptions range from one vague line to precise prose. The weak tool of a pair
gets a less fitting name and a shorter, vaguer description (paper axes 1 and 2).
"""

from __future__ import annotations

import random

_BRAND_HEADS = ("Sky", "Nova", "Zen", "Aero", "Blue", "Quick", "Terra", "Pixel", "Echo", "Flux",
                "Luna", "Peak", "Vita", "Omni", "Brio", "Kite", "Mosa", "Iris", "Opal", "Rune")
_BRAND_TAILS = ("ly", "io", "ify", "base", "hub", "wise", "bit", "go", "mate", "dex", "sy",
                "nest", "port", "loop")
_SUFFIXES = ("api", "service", "lookup", "tool", "finder", "engine", "manager", "pro")
_GENERIC_NAMES = ("{d}_helper", "ask_{d}", "{d}Assistant", "{d}_info", "{b}{D}", "{d}_bot",
                  "general_{d}", "{d}Desk", "my_{d}", "{d}_companion")
_COARSE_NAMES = ("{d}_{h}_basic", "{h}_lite", "simple{H}", "{d}_quick_{h}", "{b}_{h}",
                 "basic_{d}_{h}", "{h}Lite", "{h}_summary")


def words(text: str) -> list[str]:
    return [w for w in text.replace("-", " ").split() if w]


def snake(parts: list[str]) -> str:
    return "_".join(p.lower() for p in parts)


def camel(parts: list[str]) -> str:
    return parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:])


def pascal(parts: list[str]) -> str:
    return "".join(p[:1].upper() + p[1:].lower() for p in parts)


def brand(rng: random.Random) -> str:
    return rng.choice(_BRAND_HEADS) + rng.choice(_BRAND_TAILS)


_QUALIFIERS = ("Free tier.", "Community maintained.", "Beta.", "Rate-limited.",
               "Updated daily.", "Works worldwide.", "English only.", "No sign-up needed.",
               "Cached for an hour.", "Official partner API.", "Legacy endpoint.",
               "Mobile friendly.", "Requires an account.", "Low latency.")


class NameRegistry:
    """Hands out strings (tool names or descriptions) no other tool of the world has.

    Candidates are tried in order; if all are taken, variants are made until one is free.
    Unique names and descriptions are what lets the leakage check compare them exactly.
    """

    def __init__(self, separator: str = "_"):
        self.taken: set[str] = set()
        self.separator = separator

    def claim(self, candidates: list[str], rng: random.Random) -> str:
        for name in candidates:
            if name not in self.taken:
                self.taken.add(name)
                return name
        base = candidates[0]
        while True:
            if self.separator == "_":
                name = f"{base}_{brand(rng).lower()}"
            else:
                name = f"{base} {rng.choice(_QUALIFIERS)}"
            if name not in self.taken:
                self.taken.add(name)
                return name
            base = name if self.separator != "_" and rng.random() < 0.5 else base


def strong_names(verb: str, objects: list[str], domain: str, rng: random.Random) -> list[str]:
    """Candidate names for a precise tool, most preferred first (style picked at random)."""
    head = words(objects[0])
    obj_words = head if len(objects) == 1 else head[-1:] + ["and"] + words(objects[1])[-1:]
    dom = words(domain.replace("_", " "))
    styles = [
        snake([verb, *obj_words]),
        camel([verb, *obj_words]),
        snake([*obj_words, rng.choice(_SUFFIXES)]),
        pascal([brand(rng), *obj_words[-1:]]),
        snake([*dom, *obj_words]),
        camel([*dom, *obj_words, rng.choice(_SUFFIXES)]),
    ]
    if len(objects) > 2:
        styles += [snake([*dom, "suite"]), pascal([brand(rng), *dom, "Hub"])]
    rng.shuffle(styles)
    return styles + [snake([brand(rng), *dom, *obj_words])]


def generic_names(domain: str, rng: random.Random) -> list[str]:
    d = snake(words(domain.replace("_", " ")))
    options = [pattern.format(d=d, D=pascal(words(domain.replace("_", " "))), b=brand(rng))
               for pattern in _GENERIC_NAMES]
    rng.shuffle(options)
    return options


def coarse_names(domain: str, obj: str, rng: random.Random) -> list[str]:
    d = snake(words(domain.replace("_", " ")))
    h = words(obj)[-1].lower()
    options = [pattern.format(d=d, h=h, H=h.capitalize(), b=brand(rng).lower())
               for pattern in _COARSE_NAMES]
    rng.shuffle(options)
    return options


_STRONG_DESCRIPTIONS = (
    "{Verb}s the {objects} for a given {params}. Returns {returns}.",
    "Use this to {verb} the {objects}. Takes {params} and responds with {returns}.",
    "Precise {objects} service: pass {params}; the result includes {returns}.",
    "{Objects}. Required input: {required}. Output fields: {returns}.",
    "Looks up the {objects} from {params} and reports {returns}.",
    "{Verb} {objects} ({noun}). Arguments: {params}. Returns {returns}.",
)
_GENERIC_DESCRIPTIONS = (
    "General {noun} assistant; send any question as free text.",
    "Answers {noun} questions.",
    "A basic {noun} helper that replies in plain text.",
    "Handles {noun}-related requests.",
    "Free-form {noun} tool.",
    "Ask it anything about {noun}; results are a short text.",
)
_COARSE_DESCRIPTIONS = (
    "Quick {object} lookup; approximate results.",
    "Basic {object} summary.",
    "{Object} (simplified).",
    "Gives a rough {object} overview.",
    "Light {object} tool with limited detail.",
)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def strong_descriptions(verb: str, objects: list[str], noun: str, params: list[str],
                        required: list[str], returns: list[str],
                        rng: random.Random) -> list[str]:
    objects_text = _join(objects)
    fields = dict(
        Verb=verb.capitalize(), verb=verb, objects=objects_text,
        Objects=objects_text[:1].upper() + objects_text[1:], noun=noun,
        params=_join([p.replace("_", " ") for p in params]),
        required=_join(required) if required else "none",
        returns=_join([r.replace("_", " ") for r in returns]),
    )
    return _shuffled([t.format(**fields) for t in _STRONG_DESCRIPTIONS], rng)


def subset_descriptions(verb: str, objects: list[str], rng: random.Random) -> list[str]:
    text = _join(objects)
    fields = dict(V=verb.capitalize(), o=text, O=text[:1].upper() + text[1:])
    return _shuffled([t.format(**fields) for t in ("{V}s the {o}.", "{O} only.",
                                                   "Returns {o}.")], rng)


def generic_descriptions(noun: str, rng: random.Random) -> list[str]:
    return _shuffled([t.format(noun=noun) for t in _GENERIC_DESCRIPTIONS], rng)


def coarse_descriptions(obj: str, rng: random.Random) -> list[str]:
    return _shuffled([t.format(object=obj, Object=obj.capitalize())
                      for t in _COARSE_DESCRIPTIONS], rng)


def _shuffled(items: list[str], rng: random.Random) -> list[str]:
    rng.shuffle(items)
    return items
