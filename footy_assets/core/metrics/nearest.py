"""Nearest opponent per player per frame, vectorised over frames.

Players are laid out in a dense array (frame, slot) per team, where a team's slots are its player_ids
in string order. Distances are a (frames x home slots x away slots) problem solved in chunks of frames;
``argmin`` takes the first minimum, which — slots being in string order — is the smallest player_id on a tie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_FRAMES = 4_096  # a chunk's distances: 4,096 x 11 x 11 x 8 bytes = 4 MB, a few of them at once
EMPTY_SLOT_M = 1e15
FAR_M = 1e10  # beyond any pitch, below an empty slot's distance


@dataclass(frozen=True)
class Nearest:
    opponent: np.ndarray  # index into ``ids`` of the nearest opponent, -1 where none
    distance_m: np.ndarray  # NaN where none


def frame_index(frame_id: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense 0-based frame positions and the number of frames (no sort when the id range is compact)."""
    if frame_id.size == 0:
        return frame_id.astype(np.int64), 0
    lo, hi = int(frame_id.min()), int(frame_id.max())
    if hi - lo < 4 * frame_id.size + 1_000_000:
        return (frame_id - lo).astype(np.int64), hi - lo + 1
    unique, inverse = np.unique(frame_id, return_inverse=True)
    return inverse.astype(np.int64), unique.size


def nearest_opponent(
    frame_id: np.ndarray,
    team: np.ndarray,
    slot: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    slots_per_team: tuple[int, int],
) -> Nearest:
    """For each row (one identified player in one frame), the nearest row of the other team in that frame.

    ``slot`` is the player's position in its team's id list (string order); ``opponent`` returns the
    opponent's slot. Distances in metres from x, y (unsmoothed), computed in float64.
    """
    n = frame_id.size
    opponent = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    if n == 0:
        return Nearest(opponent, distance)
    f, frames = frame_index(frame_id)
    k0, k1 = max(slots_per_team[0], 1), max(slots_per_team[1], 1)
    # an empty slot sits 1e15 m away (home +, away -): never nearest, and two empty slots are not 0 m apart
    xs = [np.full((frames, k), side * EMPTY_SLOT_M) for k, side in ((k0, 1.0), (k1, -1.0))]
    ys = [np.zeros((frames, k)) for k in (k0, k1)]
    row_of = [np.full((frames, k), -1, dtype=np.int64) for k in (k0, k1)]
    for t in (0, 1):
        rows = np.flatnonzero(team == t)
        xs[t][f[rows], slot[rows]] = x[rows]
        ys[t][f[rows], slot[rows]] = y[rows]
        row_of[t][f[rows], slot[rows]] = rows
    for lo in range(0, frames, CHUNK_FRAMES):  # chunks of frames bound the memory, not a per-frame loop
        hi = min(lo + CHUNK_FRAMES, frames)
        # (frames, home slots, away slots); hypot, not a sum of squares: equal distances stay equal ties
        d = np.hypot(xs[0][lo:hi, :, None] - xs[1][lo:hi, None, :], ys[0][lo:hi, :, None] - ys[1][lo:hi, None, :])
        for t, axis in ((0, 2), (1, 1)):
            best = np.argmin(d, axis=axis)  # (frames, own slots): first minimum = smallest player_id
            best_d = np.take_along_axis(d, np.expand_dims(best, axis), axis).squeeze(axis)
            rows = row_of[t][lo:hi]
            have = (rows >= 0) & (best_d < FAR_M)
            opponent[rows[have]] = best[have]
            distance[rows[have]] = best_d[have]
    return Nearest(opponent, distance)
