"""Tool names in the conventions real catalogues mix (`simulate.writing.names = "varied"`).

The paper-faithful names (`naming.py`) come from six patterns over the capability table's own
verb and object, so a model can learn the patterns instead of reading names. Here a name is
built from a synonym of the verb, the object words (sometimes a synonym, sometimes
abbreviated), optionally a vendor prefix, and one of ten conventions:

| convention | example |
| --- | --- |
| snake (verb-object) | `fetch_daily_forecast` |
| camel | `retrieveDailyOutlook` |
| pascal | `GetDailyForecast` |
| kebab | `get-daily-forecast` (valid in the OpenAI schema) |
| flat | `getforecast` |
| object-verb | `daily_forecast_fetch`, `dailyForecastFetch` |
| REST-derived | `daily_forecasts_get_v2` (`GET /v2/daily-forecasts`) |
| SDK-derived (`resource_verb`) | `forecasts_get` (`client.forecasts.get`) |
| dotted namespace | `weather.get_daily_forecast` (as BFCL writes them) |
| product | `SkyioForecast`, `NovawiseForecastAPI` |

`name_convention` reads the convention back from a name; the diversity report and the choice
of documentation style use it.
"""

from __future__ import annotations

import random
import re

from gentool_jax.simulate import naming, vocabulary

_CONVENTIONS = ("snake", "camel", "pascal", "kebab", "flat", "object_verb", "rest", "sdk",
                "dotted", "product")
_WEIGHTS = (20, 14, 6, 5, 3, 9, 12, 12, 7, 6)
_VERSIONED = re.compile(r"_v\d+$")
_GENERIC = ("{d}_helper", "ask_{d}", "{D}Assistant", "{d}-bot", "{d}.query", "{d}_search_v1",
            "{D}Copilot", "{d}_chat", "{d}Agent", "general_{d}", "{d}_api", "{B}{D}",
            "{d}_qa", "{d}_misc", "{d}Desk", "{b}_{d}")
_COARSE = ("{h}_lite", "{d}_{h}_basic", "simple{H}", "{h}-quick", "{h}Summary",
           "{d}.{h}_overview", "basic_{h}_v1", "{h}_approx", "Rough{H}", "{b}_{h}",
           "{h}_mini", "Quick{H}Api", "{d}_{h}_estimate", "{h}s_peek")


def name_convention(name: str) -> str:
    """The convention of any tool name (also the simulator's paper names and imported ones)."""
    if "." in name:
        return "dotted"
    if "-" in name:
        return "kebab"
    if _VERSIONED.search(name):
        return "rest"
    if name[:1].isupper():
        return "pascal"
    if any(ch.isupper() for ch in name):
        return "camel"
    return "snake" if "_" in name else "flat"


def _object_words(caps: list[tuple[str, str]], rng: random.Random) -> list[str]:
    """Identifier words for the objects of 1-3 capabilities ("forecast", "and", "alerts")."""
    first = vocabulary.identifier_words(vocabulary.object_phrase(caps[0][1], rng))
    if len(caps) == 1:
        return first
    second = vocabulary.identifier_words(vocabulary.object_phrase(caps[1][1], rng))
    joiner = rng.choice((["and"], [], ["with"]))
    return first[-1:] + joiner + second[-1:]


def _pieces(caps: list[tuple[str, str]], domain: str, rng: random.Random) -> dict:
    verb = vocabulary.verb_synonym(caps[0][0], rng)
    objects = _object_words(caps, rng)
    if rng.random() < 0.2:
        objects = vocabulary.abbreviate(objects, rng)
    return {"verb": verb, "objects": objects,
            "domain": naming.words(domain.replace("_", " ")), "brand": naming.brand(rng),
            "version": rng.choice((1, 2, 2, 3))}


def _build(convention: str, p: dict, rng: random.Random) -> str:
    verb, objects, dom = p["verb"], p["objects"], p["domain"]
    resource = [*objects[:-1], vocabulary.plural(objects[-1])]
    nouns = [w for w in resource if w not in ("and", "with")]
    if convention == "snake":
        return naming.snake([verb, *objects])
    if convention == "camel":
        return naming.camel([verb, *objects])
    if convention == "pascal":
        return naming.pascal([verb, *objects])
    if convention == "kebab":
        return "-".join(w.lower() for w in (verb, *objects))
    if convention == "flat":
        return (verb + objects[-1]).lower()
    if convention == "object_verb":
        words = [*objects, verb]
        return naming.camel(words) if rng.random() < 0.3 else naming.snake(words)
    if convention == "rest":
        return naming.snake([*resource, verb, f"v{p['version']}"])
    if convention == "sdk":
        prefix = dom if rng.random() < 0.3 else []
        return naming.snake([*prefix, *nouns[-2:], verb])
    if convention == "dotted":
        return f"{naming.snake(dom)}.{naming.snake([verb, *objects])}"
    if convention != "product":
        raise ValueError(f"unknown name convention '{convention}'")
    return naming.pascal([p["brand"], *objects[-1:]]) + rng.choice(("", "", "API", "Pro"))


def _vendor(name: str, p: dict, rng: random.Random) -> str:
    """A vendor prefix in the name's own convention (`novawise_get_forecast`)."""
    vendor = rng.choice((p["brand"], p["brand"][:2], "acme", "open", "my"))
    convention = name_convention(name)
    if convention in ("snake", "rest", "object_verb"):
        return f"{vendor.lower()}_{name}"
    if convention == "camel":
        return vendor.lower() + name[:1].upper() + name[1:]
    if convention == "pascal":
        return vendor.capitalize() + name
    if convention == "kebab":
        return f"{vendor.lower()}-{name}"
    return name


def strong_names(caps: list[tuple[str, str]], domain: str, rng: random.Random) -> list[str]:
    """Candidate names of a precise tool for `caps` ((verb, object) of each capability),
    most preferred first: a convention drawn by weight, then the others as fallbacks."""
    p = _pieces(caps, domain, rng)
    if len(caps) > 2 and rng.random() < 0.5:  # a suite names its domain, not one object
        dom = p["domain"]
        suite = rng.choice((naming.snake([*dom, "suite"]), naming.pascal([*dom, "Client"]),
                            naming.snake([*dom, "toolkit"]), naming.pascal([p["brand"], *dom])))
        return [suite, *(_build(c, p, rng) for c in _CONVENTIONS)]
    first = rng.choices(_CONVENTIONS, weights=_WEIGHTS)[0]
    name = _build(first, p, rng)
    if rng.random() < 0.12:
        name = _vendor(name, p, rng)
    rest = [c for c in _CONVENTIONS if c != first]
    rng.shuffle(rest)
    return [name, *(_build(c, p, rng) for c in rest)]


def generic_names(domain: str, rng: random.Random) -> list[str]:
    """Vague whole-domain names for a generic weak tool (`weather-bot`, `WeatherCopilot`)."""
    dom = naming.words(domain.replace("_", " "))
    if rng.random() < 0.2:
        dom = vocabulary.abbreviate(dom, rng, share=1.0)
    b = naming.brand(rng)
    options = [pattern.format(d=naming.snake(dom), D=naming.pascal(dom), b=b.lower(), B=b)
               for pattern in _GENERIC]
    rng.shuffle(options)
    return options


def coarse_names(domain: str, obj: str, rng: random.Random) -> list[str]:
    """Vague one-word names for a coarse weak tool (`forecast_lite`, `RoughForecast`)."""
    head = vocabulary.identifier_words(vocabulary.object_phrase(obj, rng))[-1].lower()
    d = naming.snake(naming.words(domain.replace("_", " ")))
    options = [pattern.format(d=d, h=head, H=head.capitalize(), b=naming.brand(rng).lower())
               for pattern in _COARSE]
    rng.shuffle(options)
    return options
