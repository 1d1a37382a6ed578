"""The command line (Typer): thin wiring over the parts below; nothing else imports it."""
