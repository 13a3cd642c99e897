"""Importing the runtime's own modules past ``sys.meta_path``.

Some of the runtime loads when the program imports asyncio (``Tracer.install``), that is
inside the program's own ``import``: its import hooks (a logger of what is imported, an
allow-list of modules) would see asyncplay's modules go by, or refuse them and leave the
program untraced. Loaded here straight from their files, as python's own path finder
would load them, they never pass the program's finders.
"""

from __future__ import annotations

import os
import sys

__all__ = ["load"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

_FOLDER = os.path.dirname(__file__)
_PACKAGE = __package__ or "asyncplay.child"


def load(*rooms: str) -> list[ModuleType]:
    """``asyncplay.child.<room>`` for each room, in the order given: a room that imports
    another must come after it (it then finds it in ``sys.modules``, past every finder)."""
    import _frozen_importlib as bootstrap
    import _frozen_importlib_external as external

    package = sys.modules[_PACKAGE]
    loaded = []
    for room in rooms:
        name = f"{_PACKAGE}.{room}"
        module = sys.modules.get(name)
        if module is None:
            loader = external.SourceFileLoader(name, os.path.join(_FOLDER, room + ".py"))
            module = bootstrap.module_from_spec(bootstrap.spec_from_loader(name, loader))
            sys.modules[name] = module
            try:
                loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            setattr(package, room, module)
        loaded.append(module)
    return loaded
