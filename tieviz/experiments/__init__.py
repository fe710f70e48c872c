"""Running experiments and sweeps, and turning their runs into a Summary the pages and CLI read."""
