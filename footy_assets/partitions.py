"""One dynamic partition per match: the partition key is the match_id (the landing folder name)."""

import dagster as dg

MATCH_PARTITIONS_NAME = "match_id"
match_partitions = dg.DynamicPartitionsDefinition(name=MATCH_PARTITIONS_NAME)
