"""Asks in the tool's own words (`simulate.worded_asks`).

The table asks and the extra asks avoid the words of the tool they need, so that word overlap
alone cannot find the gold tool in the simulated world. Real requests are not written that
way: people name what they want in the words an API documents ("the daily forecast for
Lisbon", "book a hotel room"), and on the hand-written development set BM25 ranks the gold tool
first on two thirds of tool-needing records against a fifth on simulated ones. A head fitted
only on the simulator's queries therefore learns that overlap is worth nothing, and the
lexical baseline beats it on real toolsets. These asks are built from each capability's own
verb and object, so a world that adds some of them shows overlap in about the proportion real
requests have it, decoys of the same domain still sharing words.

They are templates rather than hand-written text: the point is the capability's own
vocabulary, which the tables already hold, phrased the few ways a noun clause can carry it.
Every slot is named with a preposition that keeps its value verbatim (grounding) and a
required slot outside `[...]`, an optional one inside, as `world.check_asks` requires.
"""

from __future__ import annotations

from typing import Protocol


class Capability(Protocol):
    """What a worded ask reads of a capability (`world.Capability`, which imports this
    module, so the type is declared here)."""

    verb: str
    object: str
    params: tuple[tuple[str, bool], ...]


# Slot kind -> how a worded ask mentions it ("{slot}" is the value); the rest use "for {slot}".
_SLOT_PHRASES = {
    "city": "in {city}", "origin": "from {origin}", "destination": "to {destination}",
    "date": "{date}", "time": "at {time}", "contact": "to {contact}", "email": "to {email}",
    "amount": "of {amount}", "currency": "in {currency}",
    "target_currency": "to {target_currency}", "nights": "for {nights} nights",
    "minutes": "of {minutes} minutes", "unit": "in {unit}", "mode": "{mode}",
    "cabin": "in {cabin}", "language": "in {language}", "text": "\"{text}\"",
    "ingredient": "with {ingredient}", "diet": "that are {diet}", "artist": "by {artist}",
    "author": "by {author}", "topic": "about {topic}", "address": "at {address}",
    "temperature": "to {temperature} degrees", "hotel": "at {hotel}",
    "restaurant": "at {restaurant}", "budget": "under {budget}", "policy": "under {policy}",
    "keyword": "about the {keyword}", "zip_code": "to {zip_code}", "branch": "on {branch}",
    "brand": "from {brand}", "note": "saying \"{note}\"",
}
# Verbs whose last consonant doubles before -ing.
_DOUBLED = {"get", "set", "log", "plan", "shop", "stop", "put", "run"}
TEMPLATES = ("the {object}{slots}", "to {verb} the {object}{slots}",
             "{gerund} the {object}{slots}", "{object}{slots}")
MAX_WORDED_ASKS = len(TEMPLATES)


def gerund(verb: str) -> str:
    """`verb` + -ing with the spelling rules the capability verbs need."""
    if verb in _DOUBLED:
        return verb + verb[-1] + "ing"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


def slot_phrases(cap: Capability) -> str:
    """Every parameter of `cap` in order, an optional one in `[...]`, each with a leading
    space."""
    parts = []
    for slot, required in cap.params:
        phrase = " " + _SLOT_PHRASES.get(slot, "for {" + slot + "}").format(
            **{slot: "{" + slot + "}"})
        parts.append(phrase if required else f"[{phrase}]")
    return "".join(parts)


def worded_asks(cap: Capability, count: int) -> tuple[str, ...]:
    """The first `count` worded asks of `cap`."""
    slots = slot_phrases(cap)
    return tuple(template.format(object=cap.object, verb=cap.verb, gerund=gerund(cap.verb),
                                 slots=slots)
                 for template in TEMPLATES[:count])
