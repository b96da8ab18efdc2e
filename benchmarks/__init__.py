"""Benchmarks, run on demand (never part of the test suite): `python -m benchmarks [NAME ...]`.

Each prints its figure and the ratio to a baseline measured in the same run.
"""
