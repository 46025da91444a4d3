"""Clearly fictional incidents, for `kentsafe --demo` and for benchmarks. Nothing here is about a real child.

Names are drawn from a short list of invented ones and every summary starts with "DEMO:" so no record made
here can be mistaken for a real one.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from .content import Library
from .dates import now_local, to_iso
from .model import Decision, Incident, Pupil, Referral

FIRST = ["Ash", "Bea", "Cal", "Dee", "Eli", "Fen", "Gus", "Hal", "Ivy", "Jax", "Kit", "Lux", "Max", "Nia", "Oto"]
LAST = ["Example", "Sample", "Testcase", "Placeholder", "Demo", "Fictional"]
SITUATIONS = [
    ("harmful_content", "reported_here", "DEMO: upsetting video forwarded in a Year {y} group chat"),
    ("harmful_content", "no_direct_impact", "DEMO: national rumours about a video; none reported here yet"),
    ("nudes", "reported_here", "DEMO: pupil says an image of them was shared without consent"),
    ("online_bullying", "reported_here", "DEMO: unkind edited photos posted about a Year {y} pupil"),
    ("online_grooming", "reported_here", "DEMO: pupil reports an adult stranger asking to move to a private app"),
    ("other_online", "reported_here", "DEMO: pupil worried by a scary challenge video"),
]
DETAILS = {  # DEMO RECORDS, FICTIONAL: what a tutor might write, for each kind of concern
    "harmful_content": "A pupil came to their tutor at break and said a video was being passed round a group "
    "chat. The tutor did not look at the phone and brought the pupil to the DSL at once. The pupil had not asked "
    "for it and had not forwarded it. ",
    "nudes": "A pupil told the school nurse that a picture of them had been shared without their consent. The "
    "nurse did not ask to see it and brought the pupil to the DSL. The pupil was upset but calm by the end. ",
    "online_bullying": "A parent emailed to say edited photos of their child were being posted with unkind "
    "comments. The pupil confirmed it and named the account. Nothing was viewed by staff. ",
    "online_grooming": "A pupil told a teacher that an adult they did not know kept messaging them and asked to "
    "move to a private app. The teacher wrote down the pupil's words and told the DSL straight away. ",
    "other_online": "A pupil said a frightening challenge video had kept them awake. They had not shared it. ",
}


def fictional_incident(rng: random.Random, library: Library | None, when: datetime,
                       situation: tuple[str, str, str] | None = None) -> Incident:
    category, scope, summary = situation or rng.choice(SITUATIONS)
    year = rng.randint(7, 11)
    pupils = [
        Pupil(name=f"{rng.choice(FIRST)} {rng.choice(LAST)}", year_group=str(year),
              role=rng.choice(["received", "harmed", "disclosed", "shared"]))
        for _ in range(rng.randint(1, 3))
    ]
    incident = Incident(
        summary=summary.format(y=year),
        details="DEMO RECORD, FICTIONAL. " + DETAILS.get(category, DETAILS["other_online"]),
        category=category,
        scope=scope,
        status=rng.choice(["open", "open", "awaiting_response", "monitoring", "closed"]),
        concern_at=to_iso(when),
        pupils=pupils,
        parents_informed=rng.choice(["yes", "not_yet"]),
        follow_up="DEMO: spoke with the pupils in a small group with two staff present.",
        actions="DEMO: reported to CEOP; device kept safe; tutor group talk planned.",
    )
    if rng.random() < 0.5:
        incident.referrals = [Referral(agency="ceop", at=to_iso(when + timedelta(hours=2)), reference="DEMO-REF")]
        incident.referral_decision = "referred"
        incident.referral_rationale = "DEMO: content may be illegal; the police must assess it."
    else:
        incident.referral_decision = "not_referred"
        incident.referral_rationale = "DEMO: no child at risk; parents aware; monitoring through tutor."
    incident.decisions = [Decision(decision="DEMO: talk to tutor groups, not an assembly",
                                   reason="DEMO: avoids spreading details further", at=to_iso(when), by="Demo DSL")]
    if incident.status == "closed":
        incident.outcome = "DEMO: police advised no further action; pupils supported."
    if category == "nudes":
        incident.referral_check = {"rq-adult": "no", "rq-coercion": "no", "rq-unusual-or-violent": "no",
                                   "rq-under-13": "no", "rq-immediate-risk": rng.choice(["no", "yes"])}
    if library is not None:
        incident.checklist = library.checklist_for(category, scope, incident.refer_now())
        for item in incident.checklist[: rng.randint(0, len(incident.checklist) // 2)]:
            item.state, item.at, item.by = "done", to_iso(when + timedelta(hours=1)), "Demo DSL"
    return incident


def fictional_records(count: int, library: Library | None = None, seed: int = 2017,
                      now: datetime | None = None) -> list[dict[str, Any]]:
    """Records in the shape `kentsafe import` takes, concerns spread over the last year."""
    rng = random.Random(seed)
    now = now or now_local()
    records = []
    for number in range(count):
        when = (now - timedelta(minutes=rng.randint(60, 365 * 24 * 60))).replace(second=0)
        situation = SITUATIONS[number % len(SITUATIONS)]  # every kind of concern appears
        records.append(fictional_incident(rng, library, when, situation).to_dict())
    for record in records:
        for key in ("id", "history", "rev", "updated_at", "updated_by", "created_at", "created_by"):
            record.pop(key, None)
    return records
