"""camreasoner: camera-motion understanding in video through structured O-T-A reasoning."""

__version__ = "0.1.0"
