"""一表通 Hub: township ledgers submitted once, validated, deduplicated and fanned out.

The public surface is small: :class:`Hub` (the facade every interface calls) and the error tree.
Importing this package does no work and pulls in no heavy library.
"""

from hub.errors import ExportError, HubError, IngestError, SpecError, StoreError

__version__ = "0.1.0"

__all__ = ["Hub", "HubError", "IngestError", "SpecError", "StoreError", "ExportError", "__version__"]


def __getattr__(name: str) -> object:
    if name == "Hub":
        from hub.facade import Hub

        return Hub
    raise AttributeError(name)
