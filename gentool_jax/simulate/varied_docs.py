"""Tool descriptions in five documentation styles (`simulate.writing.descriptions = "varied"`).

The paper-faithful descriptions (`naming.py`) come from six templates, so phrases such as
"Required input:" recur across thousands of tools and a model can key on them. Real toolsets
mix styles, often in one application, so a varied tool's description is written in one of:

- `terse`: one short line ("Fetch the daily outlook.");
- `verbose`: several sentences of prose on what it does, what it needs, what comes back;
- `rest`: an endpoint (`GET /v2/daily-forecasts?city=...`) with status codes;
- `sdk`: a docstring (Google `Args:`/`Returns:`, reST `:param:`, or a signature line);
- `instructive`: guidance to the model ("Use this tool when the user wants to ...").

Each style has several templates and every template draws its verbs and object words from
`vocabulary.py`; the style of a tool leans towards its name's convention (REST names get REST
docs more often, SDK and dotted names docstrings), as in real catalogues. Weak tools get short
or vague lines in the same styles, so a short description alone does not mark a weak tool.
"""

from __future__ import annotations

import random

from gentool_jax.simulate import vocabulary
from gentool_jax.simulate.varied_names import name_convention
from gentool_jax.simulate.varied_params import python_type

STYLES = ("terse", "verbose", "rest", "sdk", "instructive")
_LEANING = {"rest": "rest", "sdk": "sdk", "dotted": "sdk", "kebab": "rest", "product": "verbose"}
_PROSE = {"lookup": "look up", "calc": "calculate", "new": "create", "diff": "compare",
          "rollback": "roll back"}
_DOUBLED = {"get": "getting", "set": "setting", "plan": "planning", "log": "logging",
            "submit": "submitting", "control": "controlling", "diff": "diffing"}
_KINDS = ("endpoint", "function", "service", "tool", "API", "operation", "method")
_RETURN_VERBS = ("returns", "responds with", "gives back", "yields", "outputs", "reports")
_EXTRAS = ("Results reflect the latest available data.", "Responses are JSON.",
           "Matching is case-insensitive.", "Long result lists are cut to the first page.",
           "Requests are rate-limited per API key.", "Data may be cached for a few minutes.",
           "Times are local to the place asked about.", "Safe to retry.", "", "", "")

_TERSE = ("{V} {objs}.", "{V3} the {objs}.", "{Objs} by {first}.", "{Objs} lookup.",
          "{V} {objs} ({noun}).", "{Objs}.", "{Objs} for a given {first}.",
          "{V} {objs} for {first}.")
_VERBOSE = (
    "This {kind} {actions} for {noun} requests. You pass {req_prose}{opt_prose}, and it "
    "{ret_verb} {ret}. {extra}",
    "{Gerund} {objs} is what this {kind} is for: given {req_prose}{opt_prose}, it "
    "{ret_verb} {ret}. {extra}",
    "With this {kind} you can {actions_imp}. It needs {req_prose}{opt_prose}. The response "
    "contains {ret}. {extra}",
    "{Actions} using the provider's {noun} data. Supply {req_prose}{opt_prose}; each result "
    "carries {ret}. {extra}",
    "A {noun} {kind} that {actions}. It takes {req_prose}{opt_prose} and {ret_verb} {ret}. "
    "{extra}",
)
_REST = (
    "{METHOD} /v{ver}/{path}{qs} - {Actions}. Returns 200 with {ret_raw}; 400 if "
    "{first_raw} is missing.",
    "{METHOD} /api/{dom}/{path}. {Params_label}: {params_raw}. Responds 200 OK with a JSON "
    "object ({ret_raw}).",
    "Endpoint: {METHOD} /{dom}/v{ver}/{path}. {Actions}. Response: {code}, {ret_raw}. "
    "Errors: 404 when nothing matches, 429 when rate-limited.",
    "[{METHOD}] /{path} : {objs}. Params -> {params_raw}. Output -> {ret_raw}.",
    "{METHOD} /v{ver}/{path}\n{Actions}.\nParameters: {params_raw}\nSuccess: {code} "
    "{{{ret_raw}}}",
)
_SDK = (
    "{Actions}.\n\nArgs:\n{args_google}\n\nReturns:\n    dict: {ret_raw}.",
    "{Actions}. Args: {args_inline}. Returns: dict with {ret_raw}.",
    "{V} {objs}.\n\n{args_rest}\n:returns: {ret_raw}\n:rtype: dict",
    "{name}({signature}) -> dict\n\n{Actions}. Raises ValueError if {first_raw} is empty.",
    "{Actions}.\n\nParameters\n----------\n{args_numpy}\n\nReturns\n-------\ndict\n    "
    "{ret_raw}",
)
_INSTRUCTIVE = (
    "{Use} when the user wants to {actions_imp}. Provide {req_prose}{opt_prose}. "
    "Do not use it for anything outside {objs}.",
    "{Call} whenever someone asks for {objs}. It needs {req_prose} and {ret_verb} {ret}.",
    "{Call} when you need to {actions_imp}; pass {req_prose}{opt_prose}.",
    "{Best} for requests about {objs}. Inputs: {params_raw}. Output: {ret}.",
    "{When} {objs} ({noun}), {use} this. Required: {req_raw}.",
)
_USE = ("Use this tool", "Use this function", "Use it", "Choose this tool", "Pick this endpoint",
        "Select this function", "Reach for this tool", "Prefer this tool")
_CALL = ("Call this", "Invoke this", "Call this function", "Run this", "Trigger this endpoint",
         "Invoke it", "Call me")
_BEST = ("Best choice", "The preferred tool", "Go-to function", "The right endpoint",
         "Recommended", "Ideal")
_WHEN = ("When a user asks about", "If the user asks for", "For questions about",
         "Whenever the request concerns", "If someone needs", "For anything about")
_TEMPLATES = {"terse": _TERSE, "verbose": _VERBOSE, "rest": _REST, "sdk": _SDK,
              "instructive": _INSTRUCTIVE}
_SUBSET = ("{V3} the {objs}.", "{Objs} only.", "Returns {objs}.", "GET /{path} - {objs}.",
           "Use for {objs}.", "{Objs} endpoint.", "{V} {objs} (basic).", "{V3} {objs}. Args: "
           "see schema.", "Call for {objs}.", "{Objs} feed.")
_GENERIC = ("{General} {noun} assistant; send any question as free text.",
            "Answers {noun} questions.", "POST /{dom}/ask - free-text {noun} questions, plain "
            "text back.", "{Use} for any {noun} question you cannot route elsewhere.",
            "{fn}({arg}: str) -> str. Free-form {noun} Q&A.", "Chat-style {noun} helper.",
            "Catch-all {noun} endpoint; replies in prose.",
            "Handles {noun} requests written in natural language.",
            "A {general} {noun} helper that replies in plain text.", "Free-form {noun} tool.",
            "{Noun} questions in, short text answers out.")
_GENERAL = ("general", "basic", "simple", "all-purpose", "generic", "multi-purpose")
_COARSE = ("{Quick} {o} lookup; approximate results.", "{Basic} {o} summary.",
           "{O} (simplified).", "GET /{p}/summary - rough figures only.",
           "{Use} for a rough idea of {o}.", "{fn}(**kwargs) -> str. Approximate {o}.",
           "{Basic} {o} overview; fields may be missing.", "Coarse {o} estimate.",
           "Gives a rough {o} overview.", "{Call} for a short, unstructured {o} note.",
           "{O}, roughly.", "Approximate {o} in one line of text.")
_QUICK = ("Quick", "Fast", "Simple", "Lightweight", "Cheap")
_BASIC = ("Basic", "Light", "Minimal", "Rough", "Short")


def _prose(verb: str) -> str:
    return _PROSE.get(verb, verb)


def _third(verb: str) -> str:
    head, _, tail = _prose(verb).partition(" ")
    if head.endswith(("s", "sh", "ch", "x")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in "aeiou":
        head = head[:-1] + "ies"
    else:
        head += "s"
    return f"{head} {tail}".strip()


def _gerund(verb: str) -> str:
    head, _, tail = _prose(verb).partition(" ")
    if head in _DOUBLED:
        head = _DOUBLED[head]
    elif head.endswith("e") and not head.endswith("ee"):
        head = head[:-1] + "ing"
    else:
        head += "ing"
    return f"{head} {tail}".strip()


def _join(items: list[str]) -> str:
    if not items:
        return ""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fields(caps: list[tuple[str, str]], noun: str, domain: str, name: str, params: dict,
            returns: dict, rng: random.Random) -> dict[str, str]:
    verbs = [vocabulary.verb_synonym(verb, rng) for verb, _ in caps]
    objects = [vocabulary.object_phrase(obj, rng) for _, obj in caps]
    props = params["properties"]
    required = [p for p in props if p in params["required"]]
    optional = [p for p in props if p not in params["required"]]
    ret = list(returns["properties"])
    words = vocabulary.identifier_words(objects[0])
    path = "-".join(w.lower() for w in [*words[:-1], vocabulary.plural(words[-1])])
    method = "POST" if vocabulary.is_write(caps[0][0]) else "GET"
    first = (required or list(props) or ["request"])[0]
    types = {p: python_type(props[p].get("type", "string")) for p in props}
    docs = {p: props[p].get("description", p.replace("_", " ")) for p in props}
    return {
        "V": _cap(_prose(verbs[0])), "V3": _cap(_third(verbs[0])),
        "Gerund": _cap(_gerund(verbs[0])), "objs": _join(objects), "Objs": _cap(_join(objects)),
        "actions": _join([f"{_third(v)} the {o}" for v, o in zip(verbs, objects)]),
        "Actions": _cap(_join([f"{_third(v)} the {o}" for v, o in zip(verbs, objects)])),
        "actions_imp": _join([f"{_prose(v)} the {o}" for v, o in zip(verbs, objects)]),
        "noun": noun, "kind": rng.choice(_KINDS), "ret_verb": rng.choice(_RETURN_VERBS),
        "Use": rng.choice(_USE), "use": rng.choice(("use", "call", "pick", "choose")),
        "Call": rng.choice(_CALL), "Best": rng.choice(_BEST), "When": rng.choice(_WHEN),
        "extra": rng.choice(_EXTRAS), "ret": _join([r.replace("_", " ") for r in ret]),
        "ret_raw": ", ".join(ret), "first": first.replace("_", " "), "first_raw": first,
        "req_prose": _join([f"the {p.replace('_', ' ')}" for p in required])
        or "no required input",
        "opt_prose": (f" (optionally {_join(optional)})" if required else
                      f"; {_join(optional)} may be given") if optional else "",
        "req_raw": ", ".join(required) or "none", "name": name, "METHOD": method,
        "ver": str(rng.choice((1, 2, 2, 3))), "path": path,
        "dom": domain.replace("_", "-"), "code": "201" if method == "POST" else "200",
        "qs": ("?" + "&".join(f"{p}={{{p}}}" for p in required)) if method == "GET"
        and required else "",
        "Params_label": rng.choice(("Query params", "Parameters", "Body fields"))
        if method == "POST" else rng.choice(("Query params", "Parameters")),
        "params_raw": ", ".join(f"{p} (required)" if p in required else p for p in props)
        or "none",
        "args_google": "\n".join(f"    {p} ({types[p]}{'' if p in required else ', optional'})"
                                 f": {docs[p]}" for p in props) or "    None.",
        "args_inline": "; ".join(f"{p} ({types[p]}): {docs[p]}" for p in props) or "none",
        "args_rest": "\n".join(f":param {p}: {docs[p]}\n:type {p}: {types[p]}"
                               for p in props),
        "args_numpy": "\n".join(f"{p} : {types[p]}\n    {docs[p]}" for p in props) or "None",
        "signature": ", ".join(f"{p}: {types[p]}" + ("" if p in required else " = None")
                               for p in props),
    }


def _style(name: str, rng: random.Random) -> str:
    leaning = _LEANING.get(name_convention(name))
    return leaning if leaning and rng.random() < 0.5 else rng.choice(STYLES)


def strong_descriptions(caps: list[tuple[str, str]], noun: str, domain: str, name: str,
                        params: dict, returns: dict, rng: random.Random) -> list[str]:
    """Candidate descriptions of a precise tool, most preferred first: the templates of one
    style (drawn, leaning to the name's convention), then every other style's."""
    fields = _fields(caps, noun, domain, name, params, returns, rng)
    first = _style(name, rng)
    order = [first, *(s for s in STYLES if s != first)]
    out = []
    for style in order:
        texts = [t.format(**fields).strip() for t in _TEMPLATES[style]]
        rng.shuffle(texts)
        out += texts
    return out


def subset_descriptions(caps: list[tuple[str, str]], rng: random.Random) -> list[str]:
    """Short lines for a subset weak tool (precise, but for fewer capabilities)."""
    verb = vocabulary.verb_synonym(caps[0][0], rng)
    objects = _join([vocabulary.object_phrase(obj, rng) for _, obj in caps])
    words = vocabulary.identifier_words(objects)
    fields = {"V": _cap(_prose(verb)), "V3": _cap(_third(verb)), "objs": objects,
              "Objs": _cap(objects), "path": "-".join(w.lower() for w in words)}
    texts = [t.format(**fields) for t in _SUBSET]
    rng.shuffle(texts)
    return texts


def generic_descriptions(noun: str, domain: str, arg: str, rng: random.Random) -> list[str]:
    """Vague lines for a generic weak tool whose one free-text parameter is `arg`."""
    fields = {"noun": noun, "Noun": _cap(noun), "dom": domain.replace("_", "-"), "arg": arg,
              "General": _cap(rng.choice(_GENERAL)), "general": rng.choice(_GENERAL),
              "Use": rng.choice(_USE), "fn": rng.choice(("ask", "chat", "query", "answer"))}
    texts = [t.format(**fields) for t in _GENERIC]
    rng.shuffle(texts)
    return texts


def coarse_descriptions(obj: str, rng: random.Random) -> list[str]:
    """Vague lines for a coarse weak tool (approximate, unstructured results)."""
    phrase = vocabulary.object_phrase(obj, rng)
    path = "-".join(w.lower() for w in vocabulary.identifier_words(phrase))
    fields = {"o": phrase, "O": _cap(phrase), "p": path, "Quick": rng.choice(_QUICK),
              "Basic": rng.choice(_BASIC), "Use": rng.choice(_USE), "Call": rng.choice(_CALL),
              "fn": rng.choice(("summary", "overview", "peek", "brief", "glance"))}
    texts = [t.format(**fields) for t in _COARSE]
    rng.shuffle(texts)
    return texts
