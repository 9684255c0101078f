"""Old module paths (before the redesign of issue 10) that still import for one release.

Importing an old path gives a stand-in module; reading a name from it returns the object from its
new home with a :class:`DeprecationWarning` that names that home.  This module is imported by
``copos/__init__`` at start-up, so it imports only what Python has already loaded.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import warnings

#: Modules that moved in the redesign (issue 10), old path → the new modules that hold its
#: names, searched in order.  Each old path still imports for one release; reading a name
#: from it warns once per access and returns the object from its new home.
MOVED_MODULES: dict[str, tuple[str, ...]] = {
    "copos.network": (
        "copos.nets.problem",
        "copos.nets.architectures.dense",
        "copos.nets.arrangements",
        "copos.nets.training",
        "copos.nets.frank_wolfe",
        "copos.relaxations.closed_form",
        "copos.relaxations.convex",
        "copos.relaxations.rel",
        "copos.recovery.convex",
        "copos.recovery.cp_factor",
    ),
    "copos.network.problem": ("copos.nets.problem",),
    "copos.network.arrangements": ("copos.nets.arrangements",),
    "copos.network.training": ("copos.nets.training",),
    "copos.network.model": ("copos.nets.architectures.dense",),
    "copos.network.closed_form": ("copos.relaxations.closed_form",),
    "copos.network.lifted": ("copos.relaxations.lifted",),
    "copos.network.rounding": ("copos.recovery.rounding",),
    "copos.network.convex": (
        "copos.relaxations.convex",
        "copos.recovery.convex",
        "copos.nets.architectures.dense",
    ),
    "copos.network.copositive": (
        "copos.relaxations.rel",
        "copos.recovery.cp_factor",
        "copos.nets.cone_pca",
        "copos.nets.frank_wolfe",
        "copos.nets.patterns",
    ),
    "copos.datasets": ("copos.nets.datasets",),
    "copos.certificate": (
        "copos.certificates.certify",
        "copos.certificates.verify",
        "copos.certificates.certificate",
        "copos.certificates.dual_norm",
    ),
    "copos.tightness": ("copos.study.tightness", "copos.study.report"),
    "copos.programs.result": ("copos.bound",),
    "copos.solvers.arrangement_admm": (
        "copos.solvers.admm.arrangement",
        "copos.relaxations.convex",
    ),
    "copos.solvers.dnn_admm": ("copos.solvers.admm.dnn",),
}

#: Old paths that were packages (their old submodules are listed above too).
_MOVED_PACKAGES = frozenset({"copos.network"})


class _MovedModule(type(sys)):  # type: ignore[misc]  # types.ModuleType, without importing types
    """Stand-in for a module that moved: each name is looked up in the new modules, with a warning."""

    __targets__: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        home = _home_of(name, self.__targets__)
        if home is not None:
            warnings.warn(
                f"{self.__name__}.{name} moved to {home}.{name}; the old path will be "
                "removed in the next release",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(sys.modules[home], name)
        raise AttributeError(
            f"module {self.__name__!r} (moved to {', '.join(self.__targets__)}) has no "
            f"attribute {name!r}"
        )

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self.__targets__:
            names.update(n for n in vars(importlib.import_module(target)) if not n.startswith("_"))
        return sorted(names)


def _home_of(name: str, targets: tuple[str, ...]) -> str | None:
    """The first target that defines ``name`` (not merely imports it), else the first holding it."""
    holders = [t for t in targets if name in vars(importlib.import_module(t))]
    for target in holders:
        if getattr(vars(sys.modules[target])[name], "__module__", target) == target:
            return target
    return holders[0] if holders else None


class _MovedModuleFinder:
    """Imports an old module path of :data:`MOVED_MODULES` as a :class:`_MovedModule`."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> object:
        if fullname not in MOVED_MODULES:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, self, is_package=fullname in _MOVED_PACKAGES
        )

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> _MovedModule:
        module = _MovedModule(spec.name)
        module.__targets__ = MOVED_MODULES[spec.name]
        module.__doc__ = f"Deprecated: moved to {', '.join(module.__targets__)}."
        return module

    def exec_module(self, module: object) -> None:
        """Nothing to run: the stand-in resolves names on access."""


def install_moved_modules() -> None:
    """Put the finder of the old module paths on :data:`sys.meta_path` (once)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
