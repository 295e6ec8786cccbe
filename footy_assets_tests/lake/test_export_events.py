"""The CDF export of a match with event data: events.jsonl and match.json beside tracking.jsonl and meta.json, each
passing the format's own validator; synced events carry their frames in the exported tracking's numbering and
the files share one clock; landed again as a new match they give the same events and lineup; CDF v0.2 key names
for fast-forward-football, which loads the export."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import polars as pl
import pytest

from footy_assets import cli
from footy_assets.formats.cdf import events as cdf_events
from footy_assets.formats.common import Delivery
from footy_assets.lake.exports import export_match, render
from footy_assets.lake.sql import run_sql
from footy_assets.lake.store import PROJECT_ROOT, Lake
from footy_assets.orchestration.runner import materialize_lake
from footy_assets_tests.helpers import SAMPLES, copy_lake, materialized, quiet

pytestmark = pytest.mark.slow  # every test reads the lake the module materialises

SAMPLE_DIR = SAMPLES / "cdf_events"
FILES = ["tracking.jsonl", "meta.json", "events.jsonl", "match.json"]
# bench's own environment with fast-forward-football 0.3.0 (bench/readers.py creates it; never a dependency)
FASTFORWARD_PYTHON = PROJECT_ROOT / "bench" / ".venv-fastforward" / "bin" / "python"
# lineup columns a round trip cannot give back: the lake keeps each player's goals, cards and minutes, not the
# times of the sheet's goals, substitutions and cards that CDF requires on each entry (match.json has none)
SHEET_EVENT_COLUMNS = ["minute_on", "minute_off", "goals", "own_goals", "assists", "yellow_cards", "red_cards"]
LOCATIONS = ["x_m", "y_m", "x_end_m", "y_end_m", "player_x_m", "player_y_m", "ball_x_m", "ball_y_m"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Lake:
    """The two real event samples landed as CDF match folders (fv1: footovision_h1, sp1: sportec_snippet) and
    materialised once."""

    def land(lake: Lake) -> None:
        for match_id, sample in (("fv1", "footovision_h1"), ("sp1", "sportec_snippet")):
            shutil.copytree(SAMPLE_DIR / sample, Path(lake.uri) / "landing" / "cdf" / match_id)

    return materialized(tmp_path_factory.mktemp("export_events") / "lake", land)


def _validate(validator, path: Path) -> list[str]:
    """The validator in strict mode over every line (schema violations raise); its advisories, as warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validator.validate_schema(sample=str(path), mode="strict", limit=None)
    return [str(w.message) for w in caught]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _events(lake: Lake, match_id: str) -> pl.DataFrame:
    return run_sql(lake, f"SELECT * FROM events WHERE match_id = '{match_id}' ORDER BY event_index")


def test_events_and_match_sheet_pass_the_validator_with_their_frames(lake, tmp_path):
    from cdf import EventSchemaValidator, MatchSchemaValidator, MetaSchemaValidator, TrackingSchemaValidator

    out = tmp_path / "fv1"
    written = export_match(lake, "fv1", "cdf", str(out))
    assert [Path(uri).name for uri in written] == FILES
    for name, validator in zip(
        FILES, (TrackingSchemaValidator, MetaSchemaValidator, EventSchemaValidator, MatchSchemaValidator)
    ):
        assert _validate(validator(), out / name) == [], name  # valid, and no advisory either

    stored = _events(lake, "fv1")
    lines = _lines(out / "events.jsonl")
    assert [line["event"]["id"] for line in lines] == stored["event_id"].to_list()  # all 203, in event order
    assert len(lines) == 203
    assert [line["event"]["id"] for line in lines] == [
        json.loads(line)["event"]["id"] for line in (SAMPLE_DIR / "footovision_h1" / "events.jsonl").open()
    ]
    synced = [line for line in lines if "tracking" in line]
    assert len(synced) == 32 and all(line["meta"]["is_synced"] for line in synced)
    assert not any(line["meta"]["is_synced"] for line in lines if "tracking" not in line)
    kick_off = next(line for line in lines if line["event"]["id"] == "6742527193")
    assert kick_off["tracking"] == {"frame_id": 0, "frame_id_end": 75, "player": {"x": -0.42, "y": -0.48}}
    assert kick_off["event"]["player_id"] == "8102" and kick_off["event"]["team_id"] == "away"
    referee = lines[0]["event"]
    assert referee["official_id"] == "17341" and "player_id" not in referee and "team_id" not in referee
    # one numbering and one set of ids: each synced event's actor stands in tracking.jsonl at its frame exactly
    # where its tracking block says
    frames = {f["frame_id"]: f for f in _lines(out / "tracking.jsonl")}
    for line in synced:
        frame = frames[line["tracking"]["frame_id"]]
        assert line["tracking"].get("frame_id_end", 0) in frames
        team = frame["teams"][line["event"]["team_id"]]["players"]
        position = next(p for p in team if p["id"] == line["event"]["player_id"])
        assert {"x": position["x"], "y": position["y"]} == line["tracking"]["player"]
    # one clock: the frames carry the delivered tracking's UTC times (the kick-off pass at frame 0, 12:45:00.000)
    assert frames[0]["timestamp"] == kick_off["event"]["time"] == "2026-03-21T12:45:00.000Z"
    assert frames[2500]["timestamp"] == "2026-03-21T12:46:40.000Z"
    sheet = json.loads((out / "match.json").read_text())
    assert [len(sheet["teams"][side]["players"]) for side in ("home", "away")] == [16, 15]
    assert sheet["teams"]["home"]["short_name"] == "BRIGHTON"
    assert sheet["match"]["result"]["final"] == {"home": 2, "away": 1, "winning_team_id": "home"}
    assert sheet["officials"] == [
        {
            "id": "17341",
            "first_name": "DARREN",
            "last_name": "ENGLAND",
            "short_name": "DARREN ENGLAND",
            "type": "main_referee",
        }
    ]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["match"]["kickoff_time"] == "2026-03-21T12:45:00.000Z"
    assert meta["teams"]["home"]["name"] == "BRIGHTON"
    gk = next(p for p in meta["teams"]["home"]["players"] if p["jersey_number"] == 1)
    assert gk["id"] == "10668" and gk["last_name"] == "VERBRUGGEN" and gk["is_starter"]


def test_frames_keep_the_delivered_utc_times_in_every_period(lake, tmp_path):
    """sportec_snippet's frame ids jump across the break (0..100, 90000..90103) and its two halves start 63 min
    apart: each period is placed on its own events' clock, so every frame gets its delivered timestamp back."""
    export_match(lake, "sp1", "cdf", str(tmp_path))
    delivered = {f["frame_id"]: f["timestamp"] for f in _lines(SAMPLE_DIR / "sportec_snippet" / "tracking.jsonl")}
    exported = {f["frame_id"]: f["timestamp"] for f in _lines(tmp_path / "tracking.jsonl")}
    assert len(exported) == 205 and exported == delivered
    periods = json.loads((tmp_path / "meta.json").read_text())["match"]["periods"]
    assert [(p["frame_id_start"], p["start_time"]) for p in periods] == [
        (0, "2020-06-05T18:29:57.840Z"),
        (90000, "2020-06-05T19:33:24.920Z"),
    ]


def test_a_landed_export_gives_the_same_events_and_lineup(lake, tmp_path, instance):
    lake = copy_lake(lake, tmp_path / "lake")
    folder = Path(lake.uri) / "landing" / "cdf" / "rt_fv1"
    assert cli.main(["export", "--lake", lake.uri, "--match", "fv1", "--format", "cdf", "--output", str(folder)]) == 0
    outcomes = materialize_lake(lake, instance, progress=quiet)
    assert outcomes and all(o.ok for o in outcomes), [o.error for o in outcomes]

    before, after = _events(lake, "fv1"), _events(lake, "rt_fv1")
    assert after.height == before.height == 203
    exact = [c for c in before.columns if c not in ("match_id", "fingerprint", *LOCATIONS)]
    # types, players, UTC and tracking-timeline times, the sync (frames, scores, offsets): all the same
    assert after.select(exact).equals(before.select(exact))
    assert after.filter(pl.col("sync_status") == "synced").height == 32
    for column in LOCATIONS:  # written to the centimetre
        assert (after[column] - before[column]).abs().max() <= 0.0051, column
        assert after[column].null_count() == before[column].null_count(), column

    query = "SELECT * EXCLUDE (match_id, fingerprint) FROM lineups WHERE match_id = '{}' ORDER BY vendor_person_id"
    before, after = run_sql(lake, query.format("fv1")), run_sql(lake, query.format("rt_fv1"))
    kept = [c for c in before.columns if c not in SHEET_EVENT_COLUMNS]
    assert after.height == before.height == 32 and after.select(kept).equals(before.select(kept))
    players = after.filter(pl.col("role") == "player")
    # what the export cannot carry comes back as "none on the sheet": starters on at 0, no goals or cards
    assert players["minute_on"].drop_nulls().unique().to_list() == [0]
    assert players["minute_off"].null_count() == players.height
    assert players.select(pl.sum_horizontal(SHEET_EVENT_COLUMNS[2:]).sum()).item() == 0

    query = (
        "SELECT frame_id, timestamp_ms, period, player_id, role, x_m, y_m FROM tracking "
        "WHERE match_id = '{}' AND player_id IS NOT NULL ORDER BY frame_id, player_id"
    )
    before, after = run_sql(lake, query.format("fv1")), run_sql(lake, query.format("rt_fv1"))
    same = ["frame_id", "timestamp_ms", "period", "player_id", "role"]
    assert after.height == before.height and after.select(same).equals(before.select(same))
    assert (after["x_m"] - before["x_m"]).abs().max() <= 0.0051


def test_v02_key_names_read_back_the_same(lake):
    files = {keys: render(lake, "fv1", "cdf", cdf_keys=keys) for keys in ("v0.3.2", "v0.2")}
    period = json.loads(files["v0.2"]["meta.json"])["match"]["periods"][0]
    assert (period["start_frame_id"], period["end_frame_id"]) == (0, 2500) and "frame_id_start" not in period
    event = json.loads(files["v0.2"]["events.jsonl"].splitlines()[2])["event"]
    assert (event["outcome"], event["outcome_detailed"]) == (False, "unsuccessful") and "is_successful" not in event
    assert files["v0.2"]["tracking.jsonl"] == files["v0.3.2"]["tracking.jsonl"]
    assert files["v0.2"]["match.json"] == files["v0.3.2"]["match.json"]
    read = {keys: cdf_events.read(Delivery("fv1", "f", f)) for keys, f in files.items()}
    assert read["v0.2"].events.equals(read["v0.3.2"].events) and read["v0.2"].events.height == 203
    assert read["v0.2"].clock == read["v0.3.2"].clock


FASTFORWARD_LOAD = """
import json, sys
import fastforward, polars as pl
folder, frame, player = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ds = fastforward.cdf.load_tracking(folder + "/tracking.jsonl", folder + "/meta.json", only_alive=False)
t = ds.tracking
at = t.filter((pl.col("frame_id") == frame) & (pl.col("player_id") == player))
out = {
    "frames": t["frame_id"].n_unique(), "rows": t.height, "first": int(t["frame_id"].min()),
    "last": int(t["frame_id"].max()), "at": at.select("team_id", "x", "y").to_dicts(),
    "teams": dict(ds.teams.select("team_id", "name").iter_rows()), "players": ds.players.height,
}
try:
    fastforward.cdf.load_tracking(sys.argv[4] + "/tracking.jsonl", sys.argv[4] + "/meta.json", only_alive=False)
    out["v0.3.2"] = "loaded"
except Exception as exc:
    out["v0.3.2"] = str(exc).splitlines()[0]
print(json.dumps(out))
"""


def _fastforward_python() -> Path:
    if not FASTFORWARD_PYTHON.exists():
        pytest.skip(f"fast-forward-football is not installed in {FASTFORWARD_PYTHON.parent.parent} (bench/readers.py)")
    if subprocess.run([str(FASTFORWARD_PYTHON), "-c", "import fastforward"], capture_output=True).returncode:
        pytest.skip(f"{FASTFORWARD_PYTHON} cannot import fastforward")
    return FASTFORWARD_PYTHON


def test_fast_forward_football_loads_the_v02_export(lake, tmp_path):
    python = _fastforward_python()
    for keys in ("v0.2", "v0.3.2"):
        args = ["export", "--lake", lake.uri, "--match", "fv1", "--format", "cdf", "--cdf-keys", keys]
        assert cli.main([*args, "--output", str(tmp_path / keys)]) == 0
    # the thrower of the throw-in 6742527195 at its synced frame, as the events file places him
    throw_in = next(line for line in _lines(tmp_path / "v0.2" / "events.jsonl") if line["event"]["id"] == "6742527195")
    frame, player = throw_in["tracking"]["frame_id"], throw_in["event"]["player_id"]
    done = subprocess.run(
        [str(python), "-c", FASTFORWARD_LOAD, str(tmp_path / "v0.2"), str(frame), player, str(tmp_path / "v0.3.2")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert (loaded["frames"], loaded["first"], loaded["last"]) == (2501, 0, 2500)
    assert loaded["rows"] == 2501 * 23  # 11 + 11 players and the ball in every frame
    assert loaded["teams"] == {"home": "BRIGHTON", "away": "LIVERPOOL"} and loaded["players"] == 22
    [at] = loaded["at"]
    assert (frame, player, at["team_id"]) == (654, "14584", "home")
    assert at["x"] == pytest.approx(throw_in["tracking"]["player"]["x"], abs=1e-4)
    assert at["y"] == pytest.approx(throw_in["tracking"]["player"]["y"], abs=1e-4)
    # why the option exists: the only released CDF reader refuses v0.3.2 period keys
    assert "missing field `start_frame_id`" in loaded["v0.3.2"]


def test_an_export_over_one_with_events_leaves_no_stale_event_files(lake, tmp_path, instance):
    """--overwrite of a CDF export by one of a match without event data: its events.jsonl and match.json go too
    (a reader of the folder would otherwise take the old events for this match's)."""
    copy = copy_lake(lake, tmp_path / "lake")
    folder = Path(copy.uri) / "landing" / "cdf" / "fv0"
    folder.mkdir(parents=True)
    for name in ("tracking.jsonl", "meta.json"):
        shutil.copyfile(SAMPLE_DIR / "footovision_h1" / name, folder / name)
    assert all(o.ok for o in materialize_lake(copy, instance, progress=quiet, match_ids=["fv0"]))
    out = tmp_path / "out"
    export_match(copy, "fv1", "cdf", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    export_match(copy, "fv0", "cdf", str(out), overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["meta.json", "tracking.jsonl"]
