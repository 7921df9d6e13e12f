"""Where a run came from: package versions, platform, command line."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

__all__ = ["versions"]

_PACKAGES = ("nichelab", "torch", "numpy", "scipy", "scikit-learn", "scikit-image", "matplotlib", "safetensors")


def versions() -> dict[str, str]:
    """Versions of Python, the platform and the packages a run depends on."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
