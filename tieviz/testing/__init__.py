"""Tools for checking tieviz from the outside: a dashboard server on loopback and a headless Chromium."""
