"""rgnb: the helper package behind the executable book on the RG view of deep networks.

Notebooks import from the concept modules (``rgnb.chains``, ``rgnb.metrics``, ...); this top
level only re-exports the chapter entry point.
"""

from rgnb.provenance import start_chapter

__all__ = ["start_chapter"]
__version__ = "0.1.0"
