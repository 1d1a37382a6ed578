"""The TRL and transformers versions training is tested on, checked at start-up.

:class:`camreasoner.train.video_grpo.VideoGRPOTrainer` overrides private methods of TRL's
``GRPOTrainer`` and :class:`camreasoner.train.common.CheckpointResumeMixin` one of transformers'
``Trainer``; their signatures change between minor releases, so ``train sft`` / ``train grpo``
refuse any other minor version before loading a model. ``pyproject.toml``'s ``train`` extra pins
the same ranges.
"""

from __future__ import annotations

from importlib import metadata

from camreasoner.core.errors import CamReasonerError

SUPPORTED: dict[str, str] = {
    "trl": ">=1.16,<1.17",
    "transformers": ">=5.24,<5.25",
}
"""Package -> the version range training is tested on (a PEP 440 specifier)."""


def check_version(package: str, installed: str | None) -> None:
    """Raise a one-line :class:`CamReasonerError` unless ``installed`` lies in ``SUPPORTED[package]``.

    ``installed`` is the installed version string, or None when the package is not installed.
    """
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    wanted = SUPPORTED[package]
    hint = f"training is tested on {package}{wanted}; pip install '{package}{wanted}'"
    if installed is None:
        raise CamReasonerError(f"{package} is not installed: {hint}")
    try:
        version = Version(installed)
    except InvalidVersion:
        raise CamReasonerError(f"{package} {installed!r} is not a version number: {hint}") from None
    if not SpecifierSet(wanted).contains(version, prereleases=True):
        raise CamReasonerError(f"{package} {installed} is installed, but {hint}")


def installed_version(package: str) -> str | None:
    """The installed distribution's version, or None."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_installed() -> None:
    """Check every package in :data:`SUPPORTED` against what is installed."""
    for package in SUPPORTED:
        check_version(package, installed_version(package))
