"""User queries: an intent (capabilities + asks) wrapped in a paraphrase frame, slots filled.

The frame carries the style (polite, terse, with context, indirect); the asks carry the need.
The last frame of each style and the last ask of each capability are held out for the
unseen-query scenarios, so "unseen query" means new wording of both the frame and the need.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from gentool_jax.simulate.gazetteers import SLOTS
from gentool_jax.simulate.world import HELD_OUT_ASK, Capability, mentioned_slots, render_ask

FRAMES: dict[str, tuple[str, ...]] = {
    "polite": (
        "Could you help me with this: {ask}?",
        "Hi! Would you kindly look into {ask}?",
        "When you have a moment, please sort out {ask}.",
        "I'd be grateful for a hand with {ask}.",
        "Please help me figure out {ask}.",
        "Hello, I was hoping you could check {ask}.",
    ),
    "terse": (
        "{ask}.",
        "{ask}?",
        "need {ask}",
        "quick: {ask}",
        "{ask} - asap",
        "ok so, {ask}",
    ),
    "context": (
        "I'm planning my week and need {ask}.",
        "My partner asked me about this, so: {ask}?",
        "Before I head out, help me with {ask}.",
        "Working on something for my family - {ask}.",
        "I only have a few minutes, so tell me {ask}.",
        "Plans changed this morning; now I need {ask}.",
    ),
    "indirect": (
        "I keep wondering about {ask}.",
        "Not sure where to start with {ask}.",
        "I was curious about {ask}.",
        "Been meaning to look into {ask}.",
        "It would be great to know {ask}.",
        "Someone mentioned {ask} and I'd like that sorted.",
    ),
}
_JOINERS = (" and also ", ", plus ", "; after that, ", " as well as ")


def frame_ids(held_out: bool) -> list[str]:
    """Template ids (`<style>-<index>`); the last frame of each style is held out."""
    out = []
    for style, frames in FRAMES.items():
        last = len(frames) - 1
        out += [f"{style}-{i}" for i in range(len(frames)) if (i == last) == held_out]
    return out


def frame_text(template_id: str) -> str:
    style, index = template_id.rsplit("-", 1)
    return FRAMES[style][int(index)]


@dataclass(frozen=True)
class Query:
    text: str
    caps: tuple[str, ...]  # capability ids the query needs
    values: dict  # slot kind -> value, only for slots the text mentions
    intent: str
    template_id: str


def _sample_values(caps: list[Capability], rng: random.Random) -> dict[str, object]:
    values: dict[str, object] = {}
    used: set[str] = set()
    for cap in caps:
        for slot, _ in cap.params:
            if slot in values:
                continue
            choices = [v for v in SLOTS[slot].values if str(v) not in used]
            values[slot] = rng.choice(choices)
            used.add(str(values[slot]))
    return values


def make_query(domain: str, caps: list[Capability], held_out: bool,
               rng: random.Random) -> Query:
    """One query needing exactly `caps`; held-out asks/frames if `held_out`."""
    values = _sample_values(caps, rng)
    include = {slot: rng.random() < 0.5 for cap in caps for slot, req in cap.params if not req}
    ask_ids, parts, mentioned = [], [], set()
    for cap in caps:
        seen = [i for i in range(len(cap.asks)) if i != HELD_OUT_ASK]
        index = HELD_OUT_ASK if held_out else rng.choice(seen)
        ask_ids.append(str(index))
        parts.append(render_ask(cap.asks[index], values, include))
        mentioned.update(mentioned_slots(cap.asks[index], include))
    ask = parts[0] if len(parts) == 1 else rng.choice(_JOINERS).join(parts)
    template_id = rng.choice(frame_ids(held_out))
    text = frame_text(template_id).format(ask=ask)
    text = text[:1].upper() + text[1:]
    intent = f"{domain}:{'+'.join(c.name for c in caps)}#{'.'.join(ask_ids)}"
    kept = {slot: value for slot, value in values.items() if slot in mentioned}
    return Query(text, tuple(c.id for c in caps), kept, intent, template_id)
