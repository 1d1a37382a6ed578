"""The core every other part builds on: the 15 primitives, the O-T-A format, errors, atomic I/O, shared types."""
