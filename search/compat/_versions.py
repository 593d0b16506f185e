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


def within(distributions: tuple[str, ...], tested: tuple[str, ...]) -> bool:
    """Whether the installed version of the first of ``distributions`` is within ``tested``
    (specifiers such as ``">=1.4.7", "<1.5"``); one not installed as a distribution is."""
    version = installed(distributions)
    if version is None:
        return True
    try:
        return SpecifierSet(",".join(tested)).contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def require(library: str, distributions: tuple[str, ...], tested: tuple[str, ...]) -> None:
    """Raise SearchError unless the installed ``library`` is within ``tested`` (specifiers
    such as ``">=1.4.7", "<1.5"``); a library not installed as a distribution passes."""
    if within(distributions, tested):
        return
    wanted = ",".join(tested)
    raise SearchError(
        f"{library} {installed(distributions)} is installed, but this program is tested with"
        f" {library} {wanted} only (it relies on {library} internals that change between"
        f" versions); install a tested version: pip install '{distributions[0]}{wanted}'"
    )
