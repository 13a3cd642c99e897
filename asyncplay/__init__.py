"""asyncplay: a terminal playground for Python's asyncio.

Kept import-free on purpose: the child runtime and the headless ``run`` path import this
package, and start-up time is part of the product.
"""

from __future__ import annotations

__version__ = "0.1.0"
