"""Benchmarks: scripts that measure, run by hand (not part of the test suite)."""
