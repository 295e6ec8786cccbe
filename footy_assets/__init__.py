"""footy_assets: football tracking data as Dagster assets over a Delta lake."""

import os

# polars allocates through its own jemalloc, which by default keeps freed pages for seconds (and some for
# good): a full match's chain then holds every intermediate it ever freed. Handing pages back within a second,
# from jemalloc's background thread, lowers the peak at the same speed (bench/full_match.py). Read when polars
# first allocates, so set before it is imported; a value the user sets wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0")
