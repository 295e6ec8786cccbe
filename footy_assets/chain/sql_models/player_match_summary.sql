-- player_match_summary: one row per player per match: player_period_summary added up over the periods.
-- role is the role of the period he played longest in; minutes_played is his time on the pitch (first to last
-- frame of each period, added up); minutes_tracked counts his frames. Units: distances in metres, speeds in m/s,
-- minutes in minutes, pressing_s in seconds. Speed zones (m/s): [0, 2), [2, 4), [4, 5.5), [5.5, 7), [7, inf);
-- the zone distances add up to distance_m. Only valid frames count (frame_state.valid); top_speed_mps is the
-- top valid speed. sprints, high_speed_runs, accelerations and decelerations count the intervals of those
-- definitions. Float sums are exact (DECIMAL(38,24)): the same bits whatever order DuckDB adds them in;
-- a tie of the role goes to the earlier period. player_name is his short name on the match sheet (table lineups),
-- null where the match has no lineup or he is not on it.
WITH per_player AS (
SELECT
    match_id,
    player_id,
    CAST(any_value(team) AS TINYINT) AS team,
    first(role ORDER BY minutes_tracked DESC, period) AS role,
    CAST(count(*) AS BIGINT) AS periods,
    sum(minutes_played::DECIMAL(38, 24))::DOUBLE AS minutes_played,
    sum(minutes_tracked::DECIMAL(38, 24))::DOUBLE AS minutes_tracked,
    sum(distance_m::DECIMAL(38, 24))::DOUBLE AS distance_m,
    sum(distance_0_2_mps_m::DECIMAL(38, 24))::DOUBLE AS distance_0_2_mps_m,
    sum(distance_2_4_mps_m::DECIMAL(38, 24))::DOUBLE AS distance_2_4_mps_m,
    sum(distance_4_5_5_mps_m::DECIMAL(38, 24))::DOUBLE AS distance_4_5_5_mps_m,
    sum(distance_5_5_7_mps_m::DECIMAL(38, 24))::DOUBLE AS distance_5_5_7_mps_m,
    sum(distance_7_plus_mps_m::DECIMAL(38, 24))::DOUBLE AS distance_7_plus_mps_m,
    max(top_speed_mps)::DOUBLE AS top_speed_mps,
    sum(sprints)::BIGINT AS sprints,
    sum(high_speed_runs)::BIGINT AS high_speed_runs,
    sum(pressing_s::DECIMAL(38, 24))::DOUBLE AS pressing_s,
    sum(accelerations)::BIGINT AS accelerations,
    sum(decelerations)::BIGINT AS decelerations
FROM player_period_summary
WHERE match_id = $match_id
GROUP BY match_id, player_id
)
SELECT p.match_id, p.player_id, l.short_name AS player_name, p.* EXCLUDE (match_id, player_id)
FROM per_player AS p
LEFT JOIN (SELECT player_id, short_name FROM lineups WHERE match_id = $match_id) AS l ON l.player_id = p.player_id
ORDER BY p.team, p.player_id
