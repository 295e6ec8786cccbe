"""sportvu: SportVU raw messages, one per line (the SportVU raw message format).

``system_ms;match_ms,half,paused:team,object_id,jersey,x,y;...;[:]ball_x,ball_y,ball_z;``

Quirks handled: object ids that are strings; ``match_ms`` of -1 (before kick-off, breaks: not play, but
counted); team codes 0 home, 1 away, 2 referee, 3 home GK, 4 away GK; jersey -1 (unidentified); a ball part
with or without a leading ``:``, empty after its ``:`` (the ball out of the tracking area: no ball row), or
none; a match clock that restarts or continues at a new half (the system time is the clock); metres with the origin
top-left and y down; spaces inside numbers (``- 1``), which real messages carry. Pitch size from an optional
``pitch.json``, else 105 x 68.
"""

from __future__ import annotations

import polars as pl

from footy_assets.core import canonical
from footy_assets.core.canonical import MINUTE_AT_PERIOD_START
from footy_assets.formats.common import (
    Delivery,
    FeedError,
    FeedInfo,
    ReadResult,
    excerpt,
    in_file_order,
    player_id_expr,
    read_pitch_json,
    refuse_implausible_rows,
    text_lines,
    validate_vendor_rows,
)
from footy_assets.formats.sportvu.contract import SportVuBall, SportVuObjects

FORMAT = "sportvu"
TEAM_OF_CODE = {0: 0, 1: 1, 2: None, 3: 0, 4: 1}
ROLE_OF_CODE = {0: "player", 1: "player", 2: "referee", 3: "goal_keeper", 4: "goal_keeper"}


def _fail_on(frame: pl.DataFrame, bad: pl.Expr, file: str, what: str) -> None:
    """Raise a FeedError for the first line where ``bad`` holds (vectorised look-up)."""
    hit = frame.filter(bad)
    if hit.height:
        first = hit.row(0, named=True)
        text = first.get("text") or first.get("item") or ""
        raise FeedError(file, f"{what}: {excerpt(text)}", line=first["line"])


def _lines(delivery: Delivery, file: str) -> tuple[pl.DataFrame, bool]:
    """``line`` and ``text`` of every non-blank line (over-long lines and bytes that are not UTF-8 refused), and
    whether the text is plain (``_plain``). The lines are a copy of the text: the delivery lets go of its bytes."""
    data = delivery.read_bytes(file)
    lines, plain = text_lines(data, file), _plain(data)
    del data
    delivery.release(file)
    if lines.height == 0:
        raise FeedError(file, "is empty: no messages")
    return lines, plain


def _plain(data: bytes) -> bool:
    """Whether the text holds no whitespace but its line breaks (ASCII, no space, tab, CR, VT or FF), as vendors
    write it: then nothing is removed from a message but the ':' an entry may start with (one search of the
    bytes for each, not a regular expression over the whole text)."""
    return data.isascii() and not any(c in data for c in (b" ", b"\t", b"\r", b"\x0b", b"\x0c"))


CHUNK_LINES = 16_384  # messages parsed at a time: a full match's text is split in pieces, not all at once


def parse(delivery: Delivery, file: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse one message file into (messages, objects, balls), each with its source ``line``.

    The lines are parsed a chunk at a time (``CHUNK_LINES``): splitting a full match's messages into entries
    and fields at once would hold several copies of its text. The first bad line of
    the file is reported: chunks go in file order."""
    lines, plain = _lines(delivery, file)
    parts = in_file_order(
        lambda chunk: _parse_lines(chunk, file, plain),
        [lines.slice(start, CHUNK_LINES) for start in range(0, lines.height, CHUNK_LINES)],
    )
    messages, objects, balls = (pl.concat([part[i] for part in parts]) for i in range(3))
    del parts
    repeated = messages.filter(pl.col("system_time_ms").is_duplicated()).head(1).select("line")
    _fail_on(repeated.join(lines, on="line"), pl.lit(True), file, "a second message with the same system time")
    return messages, objects, balls


def _parse_lines(
    lines: pl.DataFrame, file: str, plain: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(messages, objects, balls) of some consecutive lines of the file; checked and validated. ``plain``: the
    file's text has no whitespace (``_plain``)."""
    # Header and body split at the first ':'; the ball may carry a ':' of its own later on.
    header = pl.col("parts").struct.field("field_0")
    split = lines.with_columns(parts=pl.col("text").str.splitn(":", 2)).with_columns(
        header=header if plain else header.str.replace_all(r"\s", ""),
        body=pl.col("parts").struct.field("field_1"),
    )
    _fail_on(split, pl.col("body").is_null(), file, "no ':' between the time header and the objects")
    # Every sub-message ends with ';' in the format: a message that does not was cut short (a truncated file). The one
    # exception is an empty ball part after its ':' (``...;:``): the ball is out of the tracking area and the
    # format omits what it does not track, so the message ends at the ':'. Cut inside a value, it is refused.
    end = pl.col("text").str.strip_chars_end().str.tail(16)
    _fail_on(
        split,
        ~(end.str.ends_with(";") | end.str.contains(r";\s*:$")),
        file,
        "the message is cut short (it does not end with ';', nor with an empty ball part ';:')",
    )
    _fail_on(
        split,
        ~pl.col("header").str.contains(";"),
        file,
        "a time-code message (no system time); footy_assets needs the system-time form",
    )
    header = split.with_columns(h=pl.col("header").str.split_exact(";", 1)).with_columns(
        system=pl.col("h").struct.field("field_0"),
        clock=pl.col("h").struct.field("field_1").str.split_exact(",", 2),
    )
    messages = header.select(
        "line",
        "text",
        "body",
        system_time_ms=pl.col("system").cast(pl.Int64, strict=False),
        match_ms=pl.col("clock").struct.field("field_0").cast(pl.Int64, strict=False),
        half=pl.col("clock").struct.field("field_1").cast(pl.Int64, strict=False),
        paused=pl.col("clock").struct.field("field_2").cast(pl.Int64, strict=False),
    )
    _fail_on(
        messages,
        pl.any_horizontal(pl.col("system_time_ms", "match_ms", "half").is_null()),
        file,
        "the header is not 'system_ms;match_ms,half,paused'",
    )
    # Each entry without its whitespace and without the ':' it may start with, done on each message's body
    # before it is cut into entries (a few long strings, not millions of short ones): whitespace is never a
    # ';', and the ':' an entry starts with follow the body's start or a ';'.
    if plain and not messages["body"].str.contains("::", literal=True).any():  # each ':' alone: literally
        body = pl.col("body").str.strip_chars_start(":").str.replace_all(";:", ";", literal=True)
    else:
        body = pl.col("body").str.replace_all(r"\s", "").str.replace_all(r"(^|;):+", "${1}")
    items = (  # the entries with their line only: the message's clock is taken back by line where needed
        messages.select("line", item=body.str.split(";"))
        .explode("item")
        .filter(pl.col("item") != "")
        .with_columns(n_fields=pl.col("item").str.count_matches(",", literal=True) + 1)
    )
    messages = messages.drop("text", "body")
    _fail_on(
        items,
        ~pl.col("n_fields").is_in([3, 5]),
        file,
        "an entry that is neither an object (team,id,jersey,x,y) nor a ball (x,y,z)",
    )
    obj = items.filter(pl.col("n_fields") == 5).with_columns(f=pl.col("item").str.split_exact(",", 4))
    objects = obj.select(
        "line",
        "item",
        team_code=pl.col("f").struct.field("field_0").cast(pl.Int64, strict=False),
        object_id=pl.col("f").struct.field("field_1"),
        jersey=pl.col("f").struct.field("field_2").cast(pl.Int64, strict=False),
        x=pl.col("f").struct.field("field_3").cast(pl.Float64, strict=False),
        y=pl.col("f").struct.field("field_4").cast(pl.Float64, strict=False),
    )
    _fail_on(
        objects,
        pl.any_horizontal(pl.col("team_code", "jersey", "x", "y").is_null()),
        file,
        "an object entry with a field that is not a number",
    )
    ball = items.filter(pl.col("n_fields") == 3).with_columns(f=pl.col("item").str.split_exact(",", 2))
    balls = ball.select(
        "line",
        "item",
        x=pl.col("f").struct.field("field_0").cast(pl.Float64, strict=False),
        y=pl.col("f").struct.field("field_1").cast(pl.Float64, strict=False),
        z=pl.col("f").struct.field("field_2").cast(pl.Float64, strict=False),
    )
    _fail_on(balls, pl.any_horizontal(pl.col("x", "y", "z").is_null()), file, "a ball entry that is not x,y,z")
    _fail_on(balls, pl.col("line").is_duplicated(), file, "more than one ball in one message")
    # each object with its message's clock, for the contract (messages: one a line, in line order)
    clock = messages.select("system_time_ms", "match_ms", "half").gather(
        messages["line"].search_sorted(objects["line"])
    )
    objects = objects.select("line", *clock, pl.exclude("line", "item"))
    objects = validate_vendor_rows(objects, SportVuObjects, file, "line").select(
        # validated: the message's clock is the message's (joined back by line), codes fit small integers
        "line",
        pl.col("team_code").cast(pl.Int8),
        pl.col("jersey").cast(pl.Int16),
        "x",
        "y",
        # ids as categories: the split strings point into the chunk's text and would keep all of it alive
        # (116 MB of a full match's text held by 3 M short ids)
        pl.col("object_id").cast(pl.Categorical),
    )
    balls = validate_vendor_rows(balls, SportVuBall, file, "line").drop("item")
    return messages, objects, balls


def period_starts_from_game_clock(play: pl.DataFrame, t0: int) -> dict[str, int]:
    """{period: start ms on the canonical clock} from each message's game clock (``match_ms``, ms into the half,
    or into the match where the clock continues at a new half: minute 45 at the second half's kick-off).

    The median of system time minus game clock over the half: one late or early message does not move it. A
    start after the half's first message (a clock that does not fit) is dropped: the first frame is used.
    """
    per_half = (
        play.group_by("half")
        .agg(
            first=pl.col("system_time_ms").min(),
            low=pl.col("match_ms").min(),
            offset=(pl.col("system_time_ms") - pl.col("match_ms")).median(),
        )
        .sort("half")
    )
    starts = {}
    for half, first, low, offset in per_half.iter_rows():
        continues = MINUTE_AT_PERIOD_START.get(half, 0) * 60_000
        if continues and low >= 0.9 * continues:  # the clock did not restart at this half
            offset += continues
        start = round(offset) - t0
        if 0 <= start <= first - t0:
            starts[str(half)] = start
    return starts


def _rows_in_order(
    objects: pl.DataFrame, balls: pl.DataFrame, play_lines: pl.DataFrame, length: float, width: float, t0: int, fps: int
) -> pl.DataFrame:
    """Tracking rows (before orientation) of the messages in play: each message's objects in order, then its
    ball; centred metres, the canonical clock and frame. Built a slice of messages at a time (``CHUNK_LINES``):
    the joined and merged columns of a whole match at once were half a GB on top of the parsed entries."""
    # team and role of each code taken by index (codes are 0-4: the contract), not looked up by hash
    team = pl.lit(pl.Series([TEAM_OF_CODE[c] for c in range(5)], dtype=pl.Int8)).gather(pl.col("team_code"))
    role = pl.lit(pl.Series([ROLE_OF_CODE[c] for c in range(5)])).gather(pl.col("team_code"))
    starts = play_lines["line"][::CHUNK_LINES].to_list()
    chunks = []
    for lo, hi in zip(starts, [*starts[1:], None]):
        plays = _lines_between(play_lines, lo, hi).lazy()

        # called within this iteration only: the chunk's bounds are the current ones
        def in_play_rows(entries: pl.DataFrame, **identity) -> pl.LazyFrame:
            """The entries of the messages in play, with their message's clock and centred metres."""
            return (
                _lines_between(entries, lo, hi)  # noqa: B023
                .lazy()
                .join(plays, on="line", maintain_order="left")  # noqa: B023
                .select(
                    "line",
                    "system_time_ms",
                    "period",
                    "in_play",
                    **identity,
                    # origin top-left, y down -> centre origin, y up; in the canonical type already (a copy less)
                    x_m=(pl.col("x") - length / 2).cast(pl.Float32),
                    y_m=(width / 2 - pl.col("y")).cast(pl.Float32),
                )
            )

        people = in_play_rows(
            objects,
            role=role,
            team=team,
            jersey=pl.when((pl.col("jersey") >= 0) & (pl.col("team_code") != 2)).then(pl.col("jersey")).cast(pl.Int16),
            track_id=pl.col("object_id"),
            z_m=pl.lit(None, dtype=pl.Float32),
        )
        ball = in_play_rows(
            balls,
            role=pl.lit("ball"),
            team=pl.lit(None, dtype=pl.Int8),
            jersey=pl.lit(None, dtype=pl.Int16),
            track_id=pl.lit(None, dtype=pl.Categorical),
            z_m=pl.col("z").cast(pl.Float32),
        )
        # Entries are in file (line) order, as parsed: merge players and ball by line, keeping that order (the
        # key puts a message's ball after its objects: no ties between the two for the merge to break).
        chunks.append(
            people.with_columns(order=pl.col("line") * 2)
            .merge_sorted(ball.with_columns(order=pl.col("line") * 2 + 1), key="order")
            .select(pl.exclude("order", "system_time_ms"), timestamp_ms=pl.col("system_time_ms") - t0)
            # teams 0, 1 or none and jerseys 0-999 or none: the formatted ids are taken by index
            .with_columns(canonical.frame_id_expr(fps), player_id_expr())
            .collect()
        )
    return pl.concat(chunks, rechunk=False) if chunks else pl.DataFrame()


def _lines_between(frame: pl.DataFrame, lo: int, hi: int | None) -> pl.DataFrame:
    """The rows of ``frame`` (sorted by line) with lo <= line < hi: a slice, no copy."""
    first = frame["line"].search_sorted(lo, side="left")
    last = frame.height if hi is None else frame["line"].search_sorted(hi, side="left")
    return frame.slice(first, last - first)


def read(delivery: Delivery) -> ReadResult:
    """Read one sportvu match folder into canonical tracking rows."""
    files = sorted(f for f in delivery.names if f.endswith(".txt"))
    if len(files) != 1:
        found = ", ".join(sorted(f for f in delivery.names))
        raise FeedError(delivery.match_id, f"expected exactly one *.txt message file, found: {found or 'nothing'}")
    file = files[0]
    length, width = read_pitch_json(delivery)
    messages, objects, balls = parse(delivery, file)

    in_play = (pl.col("match_ms") != -1) & pl.col("half").is_between(1, 5)
    play = messages.filter(in_play)
    if play.height == 0:
        raise FeedError(file, "no message is in play (every message has match time -1)")
    # The clock is the system time: ms since the first frame of period 1 (else of the first period).
    first_period = 1 if (play["half"] == 1).any() else int(play["half"].min())
    t0 = int(play.filter(pl.col("half") == first_period)["system_time_ms"].min())
    if (play["system_time_ms"] < t0).any():
        bad = play.filter(pl.col("system_time_ms") < t0).row(0, named=True)
        raise FeedError(
            file, f"a message of half {bad['half']} is older than the kick-off of half {first_period}", line=bad["line"]
        )
    fps = canonical.estimate_fps(play["system_time_ms"])
    # The pause flag is the only in-play signal SportVU gives: paused (1) means the ball is out of play.
    play_lines = play.select(
        "line", "system_time_ms", period=pl.col("half").cast(pl.Int8), in_play=pl.col("paused") == 0
    )

    frame = _rows_in_order(objects, balls, play_lines, length, width, t0, fps)
    del objects, balls
    refuse_implausible_rows(frame, file, "line")
    dup = canonical.duplicate_players(frame)
    if dup is not None and dup.height:
        frame_id, player_id = dup.row(0)
        lines = frame.filter((pl.col("frame_id") == frame_id) & (pl.col("player_id") == player_id))["line"]
        raise FeedError(file, f"player {player_id} appears twice in frame {frame_id}", line=int(lines.max()))
    flips = canonical.home_flip_by_period(frame)
    tracking = canonical.finalise(canonical.orient(frame, flips), delivery.match_id, FORMAT, delivery.fingerprint)
    info = FeedInfo(
        format=FORMAT,
        files=[file],
        fps=fps,
        pitch_length_m=length,
        pitch_width_m=width,
        vendor_rows=messages.height,
        frames_outside_play=messages.height - play.height,
        flipped_periods=sorted(p for p, f in flips.items() if f),
        period_start_ms=period_starts_from_game_clock(play, t0),
    )
    return ReadResult(tracking, info)
