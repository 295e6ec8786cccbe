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
        return (frame_id - lo).astype(np.int64, copy=False), hi - lo + 1
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
    opponent's slot. Distances in metres from x, y (unsmoothed), computed in float64. Positions must be numbers
    (frame_state's rows have them; a NaN opponent would be passed over, not reported).
    """
    n = frame_id.size
    if n == 0:
        return Nearest(np.full(0, -1, dtype=np.int64), np.full(0, np.nan))
    in_a_team = (team == 0) | (team == 1)
    if not in_a_team.all():  # rows of no team (refused by frame_state's contract anyway) have no opponent
        inside = nearest_opponent(
            frame_id[in_a_team], team[in_a_team], slot[in_a_team], x[in_a_team], y[in_a_team], slots_per_team
        )
        opponent, distance = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
        opponent[in_a_team], distance[in_a_team] = inside.opponent, inside.distance_m
        return Nearest(opponent, distance)
    f, frames = frame_index(frame_id)
    k = (max(slots_per_team[0], 1), max(slots_per_team[1], 1))
    width = max(k)
    # both teams in one (team and slot, frame) array, a slot's frames contiguous: a row's cell, computed once
    cell = slot.astype(np.int64) + np.where(team == 0, 0, width)
    cell *= frames
    cell += f
    del f
    # an empty slot sits 1e15 m away (home +, away -): never nearest, and two empty slots are not 0 m apart
    xs_all = np.empty((2 * width, frames))
    xs_all[:width], xs_all[width:] = EMPTY_SLOT_M, -EMPTY_SLOT_M
    ys_all = np.zeros((2 * width, frames))
    xs_all.ravel()[cell], ys_all.ravel()[cell] = x, y
    xs, ys = [xs_all[:width][: k[0]], xs_all[width:][: k[1]]], [ys_all[:width][: k[0]], ys_all[width:][: k[1]]]
    best_all = np.full((2 * width, frames), np.inf)
    best_slot_all = np.zeros((2 * width, frames), dtype=np.min_scalar_type(-width))
    best = [best_all[:width][: k[0]], best_all[width:][: k[1]]]
    best_slot = [best_slot_all[:width][: k[0]], best_slot_all[width:][: k[1]]]
    buffers = np.empty((2, CHUNK_FRAMES)), np.empty(CHUNK_FRAMES, dtype=bool)
    for lo in range(0, frames, CHUNK_FRAMES):  # chunks of frames stay in cache; no loop per frame
        hi = min(lo + CHUNK_FRAMES, frames)
        _closest_pairs(xs, ys, best, best_slot, slice(lo, hi), buffers)
    del xs_all, ys_all, xs, ys
    distance = best_all.ravel()[cell]
    have = distance < FAR_M
    opponent = np.where(have, best_slot_all.ravel()[cell], -1).astype(np.int64, copy=False)
    distance[~have] = np.nan
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
