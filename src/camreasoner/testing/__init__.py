"""Test and demo support, not runtime code: sample clips found on this machine and a local
OpenAI-compatible server around a local checkpoint. No other part of camreasoner imports this package."""
