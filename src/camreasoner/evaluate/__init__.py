"""Honest evaluation: run a backend over a question file, then metrics, scores.json and reports."""
