"""Backends: one small protocol (a batch of questions about videos in, O-T-A responses out).

``get_backend(name, **options)`` builds a backend by name; heavy dependencies (torch, vllm, httpx)
are imported only by the backend that needs them.
"""

from camreasoner.backends.base import Backend, BackendItem, BackendResponse, get_backend, register

__all__ = ["Backend", "BackendItem", "BackendResponse", "get_backend", "register"]
