"""``python -m camreasoner`` runs the CLI."""

from camreasoner.cli.app import main

main()
