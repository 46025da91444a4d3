"""Typing into the app through Pilot the way keys arrive over SSH: one at a time, or all in one burst.

`burst` hands every key to the app before it has handled the first, as a laggy link delivers them (one read of
the terminal). `slowly` waits for the screen after each key, as a careful typist would. A script is a list of
steps: a key name ("tab", "ctrl+s", "f4"), or text to type ("text:Sam Example").
"""

from __future__ import annotations

from textual import events

KEY_NAMES = {" ": "space", "/": "slash", ".": "full_stop", ",": "comma", ":": "colon", "'": "apostrophe",
             "-": "minus", ";": "semicolon", "(": "left_parenthesis", ")": "right_parenthesis",
             "[": "left_square_bracket", "]": "right_square_bracket"}


def key_events(script: list[str]) -> list[events.Key]:
    keys: list[events.Key] = []
    for step in script:
        if step.startswith("text:"):
            for character in step[5:]:
                keys.append(events.Key(KEY_NAMES.get(character, character), character))
        elif step == "space":
            keys.append(events.Key("space", " "))
        else:
            keys.append(events.Key(step, None))
    return keys


async def settled(pilot, rounds: int = 200) -> None:
    """Wait until every key the app was given has been handled and the screen is quiet."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        if not app._held_keys and not any(m for m in app._message_queue.values if isinstance(m, events.Key)):
            await pilot.pause()
            return
    raise AssertionError("the app never caught up with the keys it was given")


async def burst(pilot, script: list[str]) -> None:
    app = pilot.app
    for key in key_events(script):
        key.set_sender(app)
        app._driver.send_message(key)  # no waiting in between: the whole burst is queued at once
    await settled(pilot)


async def slowly(pilot, script: list[str]) -> None:
    for key in key_events(script):
        await pilot.press(key.key)
    await settled(pilot)
