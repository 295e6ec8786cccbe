"""footy_assets: football tracking data as Dagster assets over a Delta lake."""

import contextlib
import gc
import os
from collections.abc import Iterator

# polars allocates through its own jemalloc, which by default keeps freed pages for seconds (and some for
# good): a full match's chain then holds every intermediate it ever freed. Handing pages back within 200 ms,
# from jemalloc's background thread, lowers the peak at the same speed (at once, each new allocation faults
# its pages in again and a full match takes seconds longer; bench/full_match.py). Read when polars first
# allocates, so set before it is imported; a value the user sets wins.
ALLOCATOR_ENV = "_RJEM_MALLOC_CONF"
ONE_MATCH_ALLOCATOR = "background_thread:true,dirty_decay_ms:200,muzzy_decay_ms:0"
# A worker process that materialises match after match keeps freed pages for 10 s instead: the next match reuses
# them rather than faulting fresh pages in, at about 0.3 GB more peak per worker (bench/season.py).
MATCH_AFTER_MATCH_ALLOCATOR = "background_thread:true,dirty_decay_ms:10000,muzzy_decay_ms:0"
# the setting found before footy_assets set its own: the user's, or polars' rewrite of it where polars loaded first
# (then this process and its workers keep what polars made of it)
USER_ALLOCATOR = os.environ.get(ALLOCATOR_ENV)
os.environ.setdefault(ALLOCATOR_ENV, ONE_MATCH_ALLOCATOR)
# numpy's OpenBLAS starts a thread per core that spins after each call; the chain's linear algebra is a 9 x 3
# least-squares fit (the smoothing weights): one thread, a tenth of a CPU-second less per process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextlib.contextmanager
def long_lived_setup() -> Iterator[None]:
    """Make what a process keeps to its end (the imports of Dagster and the libraries, Dagster's instance) with the
    cyclic garbage collector paused, then leave those objects out of its later passes (``gc.freeze``).

    Imports make most of a process's objects and almost no garbage: every pass of the collector while they are made,
    and every full pass during a run afterwards, would walk them all for nothing (bench/full_match.py: the fixed
    cost of a run). Reference counting still frees whatever is dropped. A reference cycle is another matter when it
    takes in an object made before the block ended: it is collected only once ``gc.unfreeze`` hands the frozen
    objects back (``footy-assets`` does when a command ends), so work that may fail on another thread meanwhile
    lets go of its frames (``chain.prefetch``).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
