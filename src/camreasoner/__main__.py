"""``python -m camreasoner`` runs the CLI."""

from camreasoner.cli import main

main()
