"""The keys of the tags footy_assets puts on Dagster runs, in one place (a run is found, and its worker process
judged alive or dead, by them; only this layer reads or writes run tags)."""

MATCH_TAG = "footy_assets/match"  # the match a sensor's or the backfill schedule's run materialises
TRIGGER_TAG = "footy_assets/trigger"  # what launched the run: cli, sensor or backfill
STATUS_TAG = "footy_assets/status"  # why the sensor or the backfill ran it: new, changed, stale or events_changed
FINGERPRINT_TAG = "footy_assets/fingerprint"  # the landed delivery the run was launched for
# the CLI's worker process that runs the match (a STARTED run whose process is gone is marked failed)
PID_TAG = "footy_assets/pid"
START_TAG = "footy_assets/pid_start"
HOST_TAG = "footy_assets/host"
# a run of the whole chain of a match (match_job, the CLI): the automation sensor leaves its updates alone
WHOLE_CHAIN_TAG = "footy_assets/whole_chain"
