"""An installed library's version against the range this project is tested with."""

from __future__ import annotations

from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from search.errors import SearchError


def installed(distributions: tuple[str, ...]) -> str | None:
    """The installed version of the first of ``distributions`` present (None: none is)."""
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def require(library: str, distributions: tuple[str, ...], tested: tuple[str, ...]) -> None:
    """Raise SearchError unless the installed ``library`` is within ``tested`` (specifiers
    such as ``">=1.4.7", "<1.5"``); a library not installed as a distribution passes."""
    version = installed(distributions)
    if version is None:
        return
    try:
        ok = SpecifierSet(",".join(tested)).contains(Version(version), prereleases=True)
    except InvalidVersion:
        ok = False
    if not ok:
        wanted = ",".join(tested)
        raise SearchError(
            f"{library} {version} is installed, but this program is tested with {library}"
            f" {wanted} only (it relies on {library} internals that change between"
            f" versions); install a tested version: pip install '{distributions[0]}{wanted}'"
        )
