"""Splitting a mean over a multiprocessing.Pool, right and wrong.

The parts differ in size, so the mean of the parts' means is wrong; the
parts' edgegrid states merged in order give the one-box mean (in exact mode,
its bits).  Run: PYTHONPATH=build/python /usr/bin/python3 examples/python/pool_mean.py
"""
import multiprocessing

import numpy as np

import edgegrid as eg


def part_state(bounds):
    lo, hi = bounds
    x = data()[lo:hi]
    return eg.partial(x, ops="mean,std", mode="exact"), float(np.mean(x))


def data():
    # Each worker rebuilds the same array (a real job would map a file).
    rng = np.random.default_rng(16)
    return np.concatenate([rng.normal(10.0, 1.0, 100_000),
                           rng.normal(50.0, 1.0, 900_000)])


def main():
    x = data()
    cuts = [0, 150_000, 160_000, 700_000, x.size]  # four unequal parts
    parts = list(zip(cuts[:-1], cuts[1:]))
    with multiprocessing.Pool(4) as pool:
        results = pool.map(part_state, parts)
    state = results[0][0]
    for s, _ in results[1:]:
        state = eg.merge(state, s)  # left covers the lower indices
    print("merged states: %r" % eg.finalize(state)["mean"])
    print("one eg.mean: %r" % eg.mean(x, mode="exact"))
    print("mean of means (wrong): %r" % float(np.mean([m for _, m in results])))


if __name__ == "__main__":
    main()
