"""The asset checks, each declared once: its name, the asset it checks, whether a failure blocks (refuses the
delivery before anything of it is written) and what it checks. The chain runs them before its commits (``audit``
for tracking, ``metrics`` for frame_state, ``events`` for events); the orchestration layer declares an
``AssetCheckSpec`` and reports an ``AssetCheckResult`` from each. The checks themselves are pure functions in
``footy_assets.core.quality`` (those of events in ``footy_assets.chain.events``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import NamedTuple

from footy_assets.core.quality import MAX_BALL_MISSING_SHARE, MAX_PLAUSIBLE_SPEED_MPS, PITCH_MARGIN_M


@dataclass(frozen=True)
class Check:
    """One asset check: a failure of a blocking one refuses the write; the others warn."""

    name: str
    asset: str
    blocking: bool
    description: str


NO_DUPLICATE_PLAYER_FRAMES = Check("no_duplicate_player_frames", "tracking", True, "No player_id twice in one frame.")
POSITIONS_ON_PITCH = Check(
    "positions_on_pitch",
    "tracking",
    True,
    f"Players, goal keepers and referees within the pitch plus {PITCH_MARGIN_M:g} m.",
)
BALL_TRACKED = Check(
    "ball_tracked",
    "tracking",
    False,
    f"Warning only: the ball is missing from more than {MAX_BALL_MISSING_SHARE:.0%} of the frames. "
    "A few frames without it are normal (occlusions); the count and the first of them are in the "
    "metadata.",
)
SPEEDS_PLAUSIBLE = Check(
    "speeds_plausible",
    "frame_state",
    False,
    f"No smoothed speed above {MAX_PLAUSIBLE_SPEED_MPS:g} m/s (warning, with the worst frames).",
)
COVERS_TRACKING = Check(
    "covers_tracking", "frame_state", True, "One frame_state row for every identified player row of tracking."
)

# above this share of ball events left unmatched the sync is reported (a warning): the events and tracking may not
# be of the same match or clip, their clocks may disagree past the sync's windows, or the actors are not tracked
MAX_UNMATCHED_SHARE = 0.25
EVENTS_IN_TRACKING = Check(
    "events_in_tracking",
    "events",
    False,
    "Warning only: every event lies inside a period of the tracking (its frame at the event's "
    "time, clock offset removed, between the period's first and last frame). Events of a clip's "
    "untracked minutes are kept, unsynced; the count and the first of them are in the metadata.",
)
BALL_EVENTS_SYNCED = Check(
    "ball_events_synced",
    "events",
    False,
    f"Warning only: at most {MAX_UNMATCHED_SHARE:.0%} of the ball events (passes, shots, "
    "duels, recoveries, ...) are left unmatched by the synchronisation; the share and the "
    "reasons are in the metadata.",
)

# in the order each asset declares and reports them
TRACKING_CHECKS = (NO_DUPLICATE_PLAYER_FRAMES, POSITIONS_ON_PITCH, BALL_TRACKED)
FRAME_STATE_CHECKS = (SPEEDS_PLAUSIBLE, COVERS_TRACKING)
EVENTS_CHECKS = (EVENTS_IN_TRACKING, BALL_EVENTS_SYNCED)
CHECKS = {check.name: check for check in (*TRACKING_CHECKS, *FRAME_STATE_CHECKS, *EVENTS_CHECKS)}


class Outcome(NamedTuple):
    """What one check found on one match: (name, passed, metadata), the metadata plain values (counts, examples)."""

    name: str
    passed: bool
    metadata: dict

    @property
    def check(self) -> Check:
        return CHECKS[self.name]

    @property
    def refuses(self) -> bool:
        """A blocking check failed: nothing of the delivery may be written."""
        return not self.passed and self.check.blocking


def outcome(check: Check, result: tuple[bool, dict]) -> Outcome:
    """A check function's ``(passed, metadata)`` as the outcome of ``check``."""
    passed, metadata = result
    return Outcome(check.name, passed, metadata)


def refusal_message(match_id: str, files: list[str], refused: Outcome) -> str:
    """One line: which delivery, which check, its counts and the first offending row."""
    examples = refused.metadata.get("examples") or []
    first = f"; first: {json.dumps(examples[0], default=str)}" if examples else ""
    counts = ", ".join(
        f"{k} = {v}" for k, v in refused.metadata.items() if isinstance(v, (int, float)) and not isinstance(v, bool)
    )
    return (
        f"{match_id}: delivery refused, nothing written ({', '.join(files)}): check {refused.name} "
        f"failed ({counts}){first}"
    )
