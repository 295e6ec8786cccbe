"""Speed and acceleration from positions: Savitzky-Golay over track segments.

A track segment is a maximal run of one player's frames in one period with consecutive frame_id.
Within a segment of n >= 9 frames, the value at frame i is a 9-tap filter over the window that starts at
``clamp(i - 4, 0, n - 9)``: in the interior the centred SG(9, 2) derivative, in the first and last 4 frames
the derivative of the polynomial fitted to the segment's first or last 9 frames, evaluated at the frame's
position in that window — exactly scipy's ``savgol_filter(..., mode="interp")``. The coefficient rows are
``scipy.signal.savgol_coeffs(..., pos=p)``'s least-squares solution, computed here with numpy (importing
scipy.signal costs half a second of every process's start-up; a test holds the two equal), so the whole
table is one gather per tap, with no loop over segments or frames. Segments shorter than 9 frames get null.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np

SMOOTHER = {"window": 9, "polyorder": 2}
# No summary may show a speed or acceleration a footballer cannot reach; all three part of frame_state's code
# version (bench/glitches.py measures them):
# a raw step between neighbouring frames of a segment faster than this is a tracking glitch (identity swap, jump);
# no footballer runs 12 m/s (the fastest measured in matches reach about 10.5 m/s).
MAX_STEP_SPEED_MPS = 12.0
# an SG speed above this is a glitch too: inside a segment the SG(9, 2) speed is a weighted mean of the raw steps
# (weights >= 0, sum 1) and so never above the fastest step, but in the last 3 frames of a segment it is the fitted
# parabola's slope, up to 1.9 times the steps' speed: a jitter or swap just before a track is lost makes 14-22 m/s.
MAX_SPEED_MPS = 12.0
# |accel_mps2| above this is no human's: elite players' peak accelerations and decelerations stay below about
# 10 m/s^2, briefly. The real samples' clean frames reach 11.7 m/s^2 at most (footovision_h1, 25 Hz; p99.9 7.9);
# swaps and jitter that stay under the step threshold make 30-100 m/s^2.
MAX_ACCEL_MPS2 = 12.0


@dataclass(frozen=True)
class Kinematics:
    """Per-row results in the order of the input arrays (NaN where the segment is shorter than the window)."""

    speed_mps: np.ndarray
    accel_mps2: np.ndarray
    valid: np.ndarray  # bool: speed known, and no implausible raw step, speed or acceleration in its SG window


def segment_ids(player: np.ndarray, period: np.ndarray, frame_id: np.ndarray) -> np.ndarray:
    """Segment number per row of arrays already sorted by (player, period, frame_id)."""
    if player.size == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(player.size, dtype=bool)
    new[1:] = (player[1:] != player[:-1]) | (period[1:] != period[:-1]) | (np.diff(frame_id) != 1)
    segment = np.cumsum(new, dtype=np.int64)
    segment -= 1
    return segment


def savgol_coefficients(window: int, polyorder: int, deriv: int, delta: float, pos: int) -> np.ndarray:
    """The weights that give the ``deriv``-th derivative (per ``delta``**deriv) at position ``pos`` of a window of
    ``window`` samples, dotted with the window's data: the minimum-norm least-squares solution of the
    polynomial fit, as ``scipy.signal.savgol_coeffs(window, polyorder, deriv, delta, pos, use="dot")``."""
    if deriv > polyorder:
        return np.zeros(window)  # the fitted polynomial's derivative of that order is 0
    x = np.arange(-pos, window - pos, dtype=float)
    vandermonde = x ** np.arange(polyorder + 1).reshape(-1, 1)
    target = np.zeros(polyorder + 1)
    target[deriv] = factorial(deriv) / delta**deriv
    return np.linalg.lstsq(vandermonde, target, rcond=None)[0]


def _coefficient_rows(window: int, polyorder: int, deriv: int, delta: float) -> np.ndarray:
    """Row p: the weights that give the derivative at position p of a window (dot with the window's data)."""
    return np.stack([savgol_coefficients(window, polyorder, deriv, delta, p) for p in range(window)])


@dataclass(frozen=True)
class _Windows:
    """Where each row's 9-frame window starts, for rows of segments long enough (computed once, used 4x)."""

    valid: np.ndarray  # rows in segments of >= window frames
    edge: np.ndarray  # valid rows whose window is not centred on them (first/last half-window of a segment)
    edge_begin: np.ndarray
    edge_position: np.ndarray


def _windows(segment: np.ndarray, window: int) -> _Windows:
    """Windows of the edge rows, built from the segments' starts and lengths (no full-length index arrays)."""
    n = segment.size
    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]]) if n else np.zeros(0, np.int64)
    lengths = np.diff(np.r_[starts, n])
    valid = np.repeat(lengths >= window, lengths)
    half = window // 2
    long_starts, long_lengths = starts[lengths >= window], lengths[lengths >= window]
    offsets = np.arange(half)
    head = long_starts[:, None] + offsets  # rows 0..half-1 of each long segment, window at its start
    tail = (long_starts + long_lengths - half)[:, None] + offsets  # its last half rows, window at its end
    edge = np.concatenate([head.ravel(), tail.ravel()])
    begin = np.concatenate([np.repeat(long_starts, half), np.repeat(long_starts + long_lengths - window, half)])
    return _Windows(valid, edge, begin, edge - begin)


def savgol_by_segment(
    values: np.ndarray,
    segment: np.ndarray,
    fps: float,
    deriv: int = 1,
    window: int = 9,
    polyorder: int = 2,
    windows: _Windows | None = None,
) -> np.ndarray:
    """SG derivative of ``values`` within each segment (rows sorted by segment, then time); NaN in short ones.

    Units: values' unit per second**deriv (``delta`` = 1/fps s). Interior rows are one convolution over the
    whole column; only the first and last window//2 rows of each segment are gathered.
    """
    n = values.size
    if n < window:  # no segment can be long enough (and np.convolve would return the kernel's length)
        return np.full(n, np.nan)
    windows = windows or _windows(segment, window)
    rows = _coefficient_rows(window, polyorder, deriv, 1.0 / fps)
    half = window // 2
    out = np.convolve(values, rows[half][::-1], mode="same")  # out[i] = sum_k c[k] * v[i - half + k]
    out[~windows.valid] = np.nan
    acc = np.zeros(windows.edge.size)
    for tap in range(window):  # one vectorised pass per tap, not per frame
        acc += rows[windows.edge_position, tap] * values[windows.edge_begin + tap]
    out[windows.edge] = acc
    return out


def _window_any(bad: np.ndarray, span: int, n: int, window: int, windows: _Windows) -> np.ndarray:
    """Per row (sorted by segment, then time): is any of ``bad[b .. b + span - 1]`` true, b the first row of
    the row's SG window (centred, clamped to the segment)? ``bad`` is per step (span window - 1) or per row
    (span window). One cumulative sum, no loop; rows of short segments: False."""
    bad_before = np.zeros(bad.size + 1, dtype=np.int32 if bad.size < 2**31 else np.int64)
    np.cumsum(bad, out=bad_before[1:])  # bad_before[k]: bad entries among 0..k-1
    in_window = (bad_before[span:] - bad_before[: bad.size - span + 1]) > 0  # for every window start b
    half = window // 2
    out = np.zeros(n, dtype=bool)
    out[half : half + in_window.size] = in_window  # a centred window begins half a window back
    out &= windows.valid
    out[windows.edge] = in_window[windows.edge_begin]  # windows clamped to their segment
    return out


def window_has_glitch(
    xs: np.ndarray,
    ys: np.ndarray,
    segment: np.ndarray,
    fps: float,
    window: int,
    max_step_mps: float = MAX_STEP_SPEED_MPS,
    windows: _Windows | None = None,
) -> np.ndarray:
    """Per row (sorted by segment, then time): does the row's SG window span a raw step faster than
    ``max_step_mps``? The window is the one ``savgol_by_segment`` uses (centred, clamped to the segment),
    so it always holds the steps to and from the row's neighbours. Rows of short segments: False (their
    speed is null anyway).
    """
    n = xs.size
    if n < window:  # no segment is long enough
        return np.zeros(n, dtype=bool)
    windows = windows or _windows(segment, window)
    dx, dy = np.diff(xs), np.diff(ys)
    dx *= dx
    dy *= dy
    dx += dy  # the squared step (m^2): compared with the squared limit, no square root per row
    bad_step = (segment[1:] == segment[:-1]) & (dx > (max_step_mps / fps) ** 2)
    return _window_any(bad_step, window - 1, n, window, windows)


def window_has_implausible(
    speed: np.ndarray,
    accel: np.ndarray,
    segment: np.ndarray,
    window: int,
    max_speed_mps: float = MAX_SPEED_MPS,
    max_accel_mps2: float = MAX_ACCEL_MPS2,
    windows: _Windows | None = None,
) -> np.ndarray:
    """Per row (sorted by segment, then time): does the row's SG window hold a row whose SG speed is above
    ``max_speed_mps`` or whose acceleration magnitude is above ``max_accel_mps2`` (NaN: neither)?"""
    n = speed.size
    if n < window:
        return np.zeros(n, dtype=bool)
    windows = windows or _windows(segment, window)
    with np.errstate(invalid="ignore"):
        bad_row = (speed > max_speed_mps) | (np.abs(accel) > max_accel_mps2)
    return _window_any(bad_row, window, n, window, windows)


def _time_order(player: np.ndarray, period: np.ndarray, frame_id: np.ndarray) -> np.ndarray:
    """Permutation sorting rows by (player, period, frame_id).

    Tracking rows come in frame order: then a stable sort on the player code alone is enough (and numpy
    sorts small integers by radix). Otherwise a full lexsort.
    """
    if frame_id.size and np.all(np.diff(frame_id) >= 0) and np.all(np.diff(period) >= 0):
        if player.min() >= np.iinfo(np.int16).min and player.max() <= np.iinfo(np.int16).max:
            player = player.astype(np.int16)  # numpy's stable sort of 16-bit integers is a radix sort
        return np.argsort(player, kind="stable")
    return np.lexsort((frame_id, period, player))


def kinematics(
    player: np.ndarray,
    period: np.ndarray,
    frame_id: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    fps: float,
    max_speed_mps: float = MAX_SPEED_MPS,
    max_accel_mps2: float = MAX_ACCEL_MPS2,
) -> Kinematics:
    """speed_mps = hypot(vx, vy) with v the SG(9, 2) first derivative of x and y (m/s), and accel_mps2 the
    tangential acceleration d(speed)/dt = (v . a) / |v| with a the SG(9, 2) second derivative (m/s^2;
    0 where the speed is 0). ``player`` is an integer code per player. Inputs in any order; results in
    the same order. ``valid`` is false where speed is null, or where the row's SG window (the frames its speed
    is computed from) holds a raw step faster than ``MAX_STEP_SPEED_MPS`` or a row whose speed is above
    ``max_speed_mps`` or whose |accel_mps2| is above ``max_accel_mps2``: so no valid frame shows
    a speed or an acceleration no footballer reaches, nor sits next to one.
    """
    order = _time_order(player, period, frame_id)
    seg_sorted = segment_ids(player[order], period[order], frame_id[order])
    xs, ys = x[order].astype(np.float64, copy=False), y[order].astype(np.float64, copy=False)
    window, polyorder = SMOOTHER["window"], SMOOTHER["polyorder"]
    windows = _windows(seg_sorted, window)
    glitch = window_has_glitch(xs, ys, seg_sorted, fps, window, windows=windows)
    # Few full-length arrays alive at once (a full match is 3 M rows: 24 MB each): v . a is accumulated in place.
    vx = savgol_by_segment(xs, seg_sorted, fps, 1, window, polyorder, windows)
    ax = savgol_by_segment(xs, seg_sorted, fps, 2, window, polyorder, windows)
    ax *= vx
    dot = ax
    del xs
    vy = savgol_by_segment(ys, seg_sorted, fps, 1, window, polyorder, windows)
    ay = savgol_by_segment(ys, seg_sorted, fps, 2, window, polyorder, windows)
    ay *= vy
    dot += ay
    del ys, ay
    speed = np.hypot(vx, vy)
    del vx, vy
    with np.errstate(invalid="ignore", divide="ignore"):
        accel = np.where(speed > 0, dot / speed, 0.0)
    del dot
    accel[np.isnan(speed)] = np.nan
    glitch |= window_has_implausible(speed, accel, seg_sorted, window, max_speed_mps, max_accel_mps2, windows)
    valid = ~np.isnan(speed) & ~glitch
    del glitch
    out_speed = np.empty_like(speed)
    out_speed[order] = speed  # back to the input order
    del speed
    out_accel = np.empty_like(accel)
    out_accel[order] = accel
    del accel
    out_valid = np.empty_like(valid)
    out_valid[order] = valid
    return Kinematics(out_speed, out_accel, out_valid)
