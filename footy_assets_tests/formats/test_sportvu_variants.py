"""Every message form the SportVU format allows, read against the reader on the real sample
(the format omits what it does not track): the ball part with or without ``:``, after an empty sub-message
(``;;``), empty after ``:`` (the ball out of the tracking area: the format omits what it does not track), or
absent. A message cut in the middle of a value is still refused."""

from __future__ import annotations

import re

import polars as pl
import pytest

from footy_assets.formats import FeedError
from footy_assets_tests.helpers import land_sample, new_lake, read_landed, read_sample

LINE = 50  # a message in play (second half), with players and a ball


def _with_ball_part(lake, make) -> tuple[pl.DataFrame, str]:
    """The sample with line LINE's ball part rewritten by ``make(objects, ball)``; its tracking and that line."""
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    path = folder / "tracking.txt"
    lines = path.read_text().splitlines()
    objects, ball = re.fullmatch(r"(.*;):([^;:]*);", lines[LINE - 1]).groups()
    lines[LINE - 1] = make(objects, ball)
    path.write_text("\n".join(lines) + "\n")
    return read_landed(lake, "statsperform_ma25").tracking, lines[LINE - 1]


def _frame_of_line(reference: pl.DataFrame) -> int:
    """The frame_id of line LINE (the LINE-th frame of the reference reading, every message in play)."""
    return reference["frame_id"].unique().sort()[LINE - 1]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> pl.DataFrame:
    """The sample as delivered, read once for the module (the tests only compare against it)."""
    return read_sample(new_lake(tmp_path_factory.mktemp("ref") / "lake"), "sportvu", "statsperform_ma25").tracking


@pytest.mark.parametrize(
    "form",
    [
        lambda o, b: f"{o}:{b};",  # the sample's own form
        lambda o, b: f"{o}{b};",  # no ':' (the format's plain form)
        lambda o, b: f"{o};{b};",  # after an empty sub-message (a message while the game is being played)
        lambda o, b: f"{o}:{b};\r",  # a CRLF file
        lambda o, b: f"{o} : {b} ; ",  # spaces around
    ],
    ids=["colon", "no-colon", "double-semicolon", "crlf", "spaces"],
)
def test_ball_part_forms_give_the_same_ball(lake, reference, form):
    tracking, _ = _with_ball_part(lake, form)
    frame = _frame_of_line(reference)
    assert tracking.drop("fingerprint").equals(reference.drop("fingerprint"))  # the fingerprint is the bytes'
    assert tracking.filter((pl.col("frame_id") == frame) & (pl.col("role") == "ball")).height == 1


@pytest.mark.parametrize(
    "form",
    [
        lambda o, b: f"{o}:",  # ball part empty after ':' (out of the tracking area)
        lambda o, b: f"{o}: ",  # ... with a trailing space
        lambda o, b: f"{o}:\r",  # ... in a CRLF file
        lambda o, b: f"{o}:;",  # empty ball part, closed by ';'
        lambda o, b: o,  # no ball part at all
        lambda o, b: f"{o};",  # a first-half message: ';;'
        lambda o, b: f"{o};;",  # a second-half message: ';;;'
    ],
    ids=[
        "empty-after-colon",
        "empty-after-colon-space",
        "empty-after-colon-crlf",
        "colon-semicolon",
        "none",
        "double-semicolon",
        "triple-semicolon",
    ],
)
def test_no_ball_part_reads_the_frame_without_a_ball(lake, reference, form):
    tracking, _ = _with_ball_part(lake, form)
    frame = _frame_of_line(reference)
    here = tracking.filter(pl.col("frame_id") == frame)
    assert here.filter(pl.col("role") == "ball").height == 0
    assert here.height == reference.filter(pl.col("frame_id") == frame).height - 1  # every player still read
    assert tracking.height == reference.height - 1


def test_every_message_without_a_ball(lake, reference):
    folder = land_sample(lake, "sportvu", "statsperform_ma25")
    path = folder / "tracking.txt"
    text = re.sub(r":[^;:\n]*;$", ":", path.read_text(), flags=re.M)
    path.write_text(text)
    tracking = read_landed(lake, "statsperform_ma25").tracking
    assert tracking.filter(pl.col("role") == "ball").height == 0
    assert tracking.height == reference.filter(pl.col("role") != "ball").height


@pytest.mark.parametrize(
    "form",
    [
        lambda o, b: f"{o}:{b[:-2]}",  # inside the ball's numbers
        lambda o, b: f"{o}:{b.rsplit(',', 1)[0]},",  # after the ball's y
        lambda o, b: f"{o}:{b.split(',')[0]}",  # after the ball's x
        lambda o, b: o[:-3],  # inside the last object's y
        lambda o, b: o[:-1],  # the last object without its ';'
    ],
    ids=["ball-value", "ball-after-comma", "ball-x-only", "object-value", "object-unterminated"],
)
def test_a_message_cut_inside_a_value_is_refused(lake, form):
    with pytest.raises(FeedError) as err:
        _with_ball_part(lake, form)
    assert str(err.value).startswith(f"tracking.txt, line {LINE}: the message is cut short"), str(err.value)
