"""Synthetic data sets for benchmarks: ``clinitrack demo generate --scale tiny|clinic|region --seed N``.

rows.py builds each site's rows from ``random.Random`` seeded by (seed, site, table) -- pure and
reproducible; load.py bulk-loads them (PostgreSQL COPY in worker processes, SQLite executemany).
"""
