-- player_period_summary: one row per player per period of a match, from frame_state and intervals.
-- role is the player's role in most of his frames (goal_keeper or player). minutes_played is the time from his
-- first to his last frame of the period (on the pitch, drop-outs included); minutes_tracked counts his frames.
-- on_period_time_s and off_period_time_s are when he was first and last seen, in seconds of the period's clock
-- (a substitute comes on late, a replaced player goes off early). Units: distances in metres, speeds in m/s,
-- pressing_s in seconds. Speed zones (m/s): [0, 2), [2, 4), [4, 5.5), [5.5, 7), [7, inf): each valid frame
-- counts in exactly one, so the zone distances add up to distance_m. Only valid frames count (frame_state.valid:
-- no tracking glitch in the speed's window); top_speed_mps is the top valid speed. sprints, high_speed_runs,
-- accelerations and decelerations count the intervals of those definitions that start in the period.
-- Sums of floats are taken as DECIMAL(38,24) (exact integer additions; every float is kept to 24 decimals):
-- DuckDB adds a DOUBLE sum's values in an order that depends on its threads, so the last bits of a rerun could
-- differ; an exact sum is the same whatever the order. Ties of the role go to the first role by name.
WITH fs AS (
    SELECT * FROM frame_state WHERE match_id = $match_id
),
iv AS (
    SELECT
        player_id,
        period,
        count(*) FILTER (WHERE definition = 'sprint') AS sprints,
        count(*) FILTER (WHERE definition = 'high_speed_run') AS high_speed_runs,
        coalesce(sum(duration_ms::DECIMAL(38, 24)) FILTER (WHERE definition = 'pressing'), 0)::DOUBLE / 1000.0 AS pressing_s,
        count(*) FILTER (WHERE definition = 'acceleration') AS accelerations,
        count(*) FILTER (WHERE definition = 'deceleration') AS decelerations
    FROM intervals
    WHERE match_id = $match_id
    GROUP BY player_id, period
),
roles AS (
    -- the role of most of his frames in the period (mode() would break a tie in whichever order it met them)
    SELECT player_id, period, first(role ORDER BY frames DESC, role) AS role
    FROM (SELECT player_id, period, role, count(*) AS frames FROM fs GROUP BY player_id, period, role)
    GROUP BY player_id, period
),
per_period AS (
    SELECT
        match_id,
        player_id,
        period,
        CAST(any_value(team) AS TINYINT) AS team,
        NULL::VARCHAR AS role,  -- the role of most of his frames (roles), joined once per player and period below
        CAST(min(match_minute) AS SMALLINT) AS first_match_minute,
        min(period_time_s)::DOUBLE AS on_period_time_s,
        (max(period_time_s) + 1.0 / any_value(fps))::DOUBLE AS off_period_time_s,
        ((max(timestamp_ms) - min(timestamp_ms)) / 1000.0 + 1.0 / any_value(fps)) / 60.0 AS minutes_played,
        CAST(count(*) AS DOUBLE) / any_value(fps) / 60.0 AS minutes_tracked,
        coalesce(sum(distance_m::DECIMAL(38, 24)) FILTER (WHERE valid), 0)::DOUBLE AS distance_m,
        coalesce(sum(distance_m::DECIMAL(38, 24)) FILTER (WHERE valid AND speed_mps < 2.0), 0)::DOUBLE AS distance_0_2_mps_m,
        coalesce(sum(distance_m::DECIMAL(38, 24)) FILTER (WHERE valid AND speed_mps >= 2.0 AND speed_mps < 4.0), 0)::DOUBLE AS distance_2_4_mps_m,
        coalesce(sum(distance_m::DECIMAL(38, 24)) FILTER (WHERE valid AND speed_mps >= 4.0 AND speed_mps < 5.5), 0)::DOUBLE AS distance_4_5_5_mps_m,
        coalesce(sum(distance_m::DECIMAL(38, 24)) FILTER (WHERE valid AND speed_mps >= 5.5 AND speed_mps < 7.0), 0)::DOUBLE AS distance_5_5_7_mps_m,
        coalesce(sum(distance_m::DECIMAL(38, 24)) FILTER (WHERE valid AND speed_mps >= 7.0), 0)::DOUBLE AS distance_7_plus_mps_m,
        (max(speed_mps) FILTER (WHERE valid))::DOUBLE AS top_speed_mps
    FROM fs
    GROUP BY match_id, player_id, period
)
SELECT
    p.* REPLACE (r.role AS role),
    coalesce(iv.sprints, 0)::BIGINT AS sprints,
    coalesce(iv.high_speed_runs, 0)::BIGINT AS high_speed_runs,
    coalesce(iv.pressing_s, 0)::DOUBLE AS pressing_s,
    coalesce(iv.accelerations, 0)::BIGINT AS accelerations,
    coalesce(iv.decelerations, 0)::BIGINT AS decelerations
FROM per_period AS p
JOIN roles AS r USING (player_id, period)
LEFT JOIN iv USING (player_id, period)
ORDER BY p.period, p.team, p.player_id
