"""The clock within the period: where a period starts (the feed's word, else its first frame), the period
time and the match minute."""

import polars as pl
import pytest

from footy_assets.core.metrics import clock
from footy_assets.formats.sportvu.reader import period_starts_from_game_clock
from footy_assets_tests.helpers import read_sample


def test_match_minute_counts_as_event_data_does():
    frame = pl.DataFrame(
        {"period": [1, 1, 1, 2, 2, 3, 4], "t": [0.0, 59.99, 2820.0, 0.0, 61.0, 0.0, 899.0]},
        schema={"period": pl.Int8, "t": pl.Float32},
    )
    minutes = frame.select(clock.match_minute(pl.col("t")).alias("minute"))["minute"].to_list()
    assert minutes == [0, 0, 47, 45, 46, 90, 119]  # added time keeps counting: 47 in the first half


def test_a_feed_start_is_used_only_when_it_is_not_after_the_first_frame():
    tracking = pl.DataFrame({"period": [1, 1, 2, 2], "timestamp_ms": [0, 40, 3_600_400, 3_600_440]})
    assert clock.period_starts(tracking) == {1: 0, 2: 3_600_400}
    assert clock.period_starts(tracking, {"2": 3_600_000}) == {1: 0, 2: 3_600_000}
    assert clock.period_starts(tracking, {"2": 3_700_000}) == {1: 0, 2: 3_600_400}  # not believed


@pytest.mark.parametrize("second_half_clock_ms", [0, 45 * 60_000])
def test_sportvu_game_clock_restarting_or_continuing_at_half_time(second_half_clock_ms):
    """The second half's first message is 0.4 s into the half, its clock restarting at 0 or continuing at 45:00."""
    system = [1_000, 1_040, 5_000_400, 5_000_440]
    play = pl.DataFrame(
        {
            "half": [1, 1, 2, 2],
            "system_time_ms": system,
            "match_ms": [0, 40, second_half_clock_ms + 400, second_half_clock_ms + 440],
        }
    )
    assert period_starts_from_game_clock(play, t0=1_000) == {"1": 0, "2": 4_999_000}


def test_real_samples_period_starts(lake):
    """StatsPerform's second half starts 0.4 s before its first message (its game clock); SkillCorner's CDF meta
    gives start frames; the validator's v0.2.3 example has a frame outside its meta's first half, so its meta
    is not believed for the clock."""
    assert read_sample(lake, "sportvu", "statsperform_ma25").info.period_start_ms == {"1": 0, "2": 3_600_000}
    assert read_sample(lake, "cdf", "skillcorner_1925299").info.period_start_ms == {"1": 0, "2": 3_023_000}
    assert read_sample(lake, "cdf", "validator_v0_2_3").info.period_start_ms == {}
