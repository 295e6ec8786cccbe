"""footy_assets: football tracking data as Dagster assets over a Delta lake."""

import os

# polars allocates through its own jemalloc, which by default keeps freed pages for seconds (and some for
# good): a full match's chain then holds every intermediate it ever freed. Handing pages back within 200 ms,
# from jemalloc's background thread, lowers the peak at the same speed (at once, each new allocation faults
# its pages in again and a full match takes seconds longer; bench/full_match.py). Read when polars first
# allocates, so set before it is imported; a value the user sets wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0")
# numpy's OpenBLAS starts a thread per core that spins after each call; the chain's linear algebra is a 9 x 3
# least-squares fit (the smoothing weights): one thread, a tenth of a CPU-second less per process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
