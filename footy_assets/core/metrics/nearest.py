"""Nearest opponent per player per frame, vectorised over frames.

Players are laid out in a dense array (slot, frame) per team, where a team's slots are its player_ids
in string order, so each slot's frames are contiguous. Each (home slot, away slot) pair is one vectorised pass
over a chunk of frames that keeps, per slot and frame, the closest opponent so far; a tie keeps the first, which
— slots being in string order — is the smallest player_id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK_FRAMES = 16_384  # a chunk of one slot's frames: 128 kB per array, the dozen a pass touches fit in cache
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
    k = (max(slots_per_team[0], 1), max(slots_per_team[1], 1))
    rows = [np.flatnonzero(team == t) for t in (0, 1)]
    cell = [slot[r] * frames + f[r] for r in rows]  # a row's cell in its team's (slot, frame) array
    xs, ys = [], []
    # an empty slot sits 1e15 m away (home +, away -): never nearest, and two empty slots are not 0 m apart
    for t, side in ((0, 1.0), (1, -1.0)):
        xt, yt = np.full(k[t] * frames, side * EMPTY_SLOT_M), np.zeros(k[t] * frames)
        xt[cell[t]], yt[cell[t]] = x[rows[t]], y[rows[t]]
        xs.append(xt.reshape(k[t], frames))
        ys.append(yt.reshape(k[t], frames))
    best = [np.full((k[t], frames), np.inf) for t in (0, 1)]
    best_slot = [np.zeros((k[t], frames), dtype=np.int64) for t in (0, 1)]
    buffers = np.empty((2, CHUNK_FRAMES)), np.empty(CHUNK_FRAMES, dtype=bool)
    for lo in range(0, frames, CHUNK_FRAMES):  # chunks of frames stay in cache; no loop per frame
        hi = min(lo + CHUNK_FRAMES, frames)
        _closest_pairs(xs, ys, best, best_slot, slice(lo, hi), buffers)
    for t in (0, 1):
        found = best[t].ravel()[cell[t]]
        have = found < FAR_M
        opponent[rows[t][have]] = best_slot[t].ravel()[cell[t]][have]
        distance[rows[t][have]] = found[have]
    return Nearest(opponent, distance)


def _closest_pairs(xs, ys, best, best_slot, frames: slice, buffers) -> None:
    """For one chunk of frames, every (home slot, away slot) pair as one vectorised pass: each slot keeps the
    distance and the slot of its closest opponent. Only a strictly smaller distance replaces the best, so a tie
    keeps the smaller slot, which is the smaller player_id."""
    width = frames.stop - frames.start
    (d, tmp), closer = buffers[0][:, :width], buffers[1][:width]
    for i in range(xs[0].shape[0]):
        x0, y0 = xs[0][i, frames], ys[0][i, frames]
        best0, slot0 = best[0][i, frames], best_slot[0][i, frames]
        for j in range(xs[1].shape[0]):
            np.subtract(x0, xs[1][j, frames], out=d)
            np.multiply(d, d, out=d)
            np.subtract(y0, ys[1][j, frames], out=tmp)
            np.multiply(tmp, tmp, out=tmp)
            np.add(d, tmp, out=d)
            np.sqrt(d, out=d)
            np.less(d, best0, out=closer)
            np.copyto(best0, d, where=closer)
            np.copyto(slot0, j, where=closer)
            best1 = best[1][j, frames]
            np.less(d, best1, out=closer)
            np.copyto(best1, d, where=closer)
            np.copyto(best_slot[1][j, frames], i, where=closer)
