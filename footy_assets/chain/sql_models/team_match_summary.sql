-- team_match_summary: one row per team per match: the sums of player_match_summary and the possession
-- share (frames in which the team has the ball / frames in which either team has it, from ball_state).
-- Units as in player_match_summary; possession_share is a fraction (0-1). Float sums are exact (DECIMAL(38,24)):
-- the same bits whatever order DuckDB adds them in.
WITH players AS (
    SELECT * FROM player_match_summary WHERE match_id = $match_id
),
possession AS (
    SELECT possession_team AS team, count(*) AS frames
    FROM ball_state
    WHERE match_id = $match_id AND possession_team IS NOT NULL
    GROUP BY possession_team
),
teams AS (
    SELECT
        match_id,
        team,
        count(*)::BIGINT AS players,
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
    FROM players
    GROUP BY match_id, team
)
SELECT
    t.*,
    (p.frames::DOUBLE / nullif((SELECT sum(frames) FROM possession), 0))::DOUBLE AS possession_share
FROM teams AS t
LEFT JOIN possession AS p USING (team)
ORDER BY t.team
