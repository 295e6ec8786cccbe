-- player_match_summary: one row per player per match, from frame_state and intervals.
-- Units: distances in metres, speeds in m/s, minutes_tracked in minutes, pressing_s in seconds.
-- Speed zones (m/s): [0, 2), [2, 4), [4, 5.5), [5.5, 7), [7, inf): each valid frame counts in exactly
-- one, so the zone distances add up to distance_m. Only valid frames count (frame_state.valid: no tracking
-- glitch in the speed's window); invalid frames have no distance, and top_speed_mps is the top valid speed.
-- sprints, high_speed_runs, accelerations and decelerations count the intervals of those definitions.
WITH fs AS (
    SELECT * FROM frame_state WHERE match_id = $match_id
),
iv AS (
    SELECT
        player_id,
        count(*) FILTER (WHERE definition = 'sprint') AS sprints,
        count(*) FILTER (WHERE definition = 'high_speed_run') AS high_speed_runs,
        coalesce(sum(duration_ms) FILTER (WHERE definition = 'pressing'), 0) / 1000.0 AS pressing_s,
        count(*) FILTER (WHERE definition = 'acceleration') AS accelerations,
        count(*) FILTER (WHERE definition = 'deceleration') AS decelerations
    FROM intervals
    WHERE match_id = $match_id
    GROUP BY player_id
),
per_player AS (
    SELECT
        match_id,
        player_id,
        CAST(any_value(team) AS TINYINT) AS team,
        CAST(count(*) AS DOUBLE) / any_value(fps) / 60.0 AS minutes_tracked,
        coalesce(sum(distance_m) FILTER (WHERE valid), 0)::DOUBLE AS distance_m,
        coalesce(sum(distance_m) FILTER (WHERE valid AND speed_mps < 2.0), 0)::DOUBLE AS distance_0_2_mps_m,
        coalesce(sum(distance_m) FILTER (WHERE valid AND speed_mps >= 2.0 AND speed_mps < 4.0), 0)::DOUBLE AS distance_2_4_mps_m,
        coalesce(sum(distance_m) FILTER (WHERE valid AND speed_mps >= 4.0 AND speed_mps < 5.5), 0)::DOUBLE AS distance_4_5_5_mps_m,
        coalesce(sum(distance_m) FILTER (WHERE valid AND speed_mps >= 5.5 AND speed_mps < 7.0), 0)::DOUBLE AS distance_5_5_7_mps_m,
        coalesce(sum(distance_m) FILTER (WHERE valid AND speed_mps >= 7.0), 0)::DOUBLE AS distance_7_plus_mps_m,
        (max(speed_mps) FILTER (WHERE valid))::DOUBLE AS top_speed_mps
    FROM fs
    GROUP BY match_id, player_id
)
SELECT
    p.*,
    coalesce(iv.sprints, 0)::BIGINT AS sprints,
    coalesce(iv.high_speed_runs, 0)::BIGINT AS high_speed_runs,
    coalesce(iv.pressing_s, 0)::DOUBLE AS pressing_s,
    coalesce(iv.accelerations, 0)::BIGINT AS accelerations,
    coalesce(iv.decelerations, 0)::BIGINT AS decelerations
FROM per_player AS p
LEFT JOIN iv USING (player_id)
ORDER BY p.team, p.player_id
