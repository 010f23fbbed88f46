"""The HTTP side of Copilote: the JSON API, the server-rendered pages and the answer links.

``create_app(copilote)`` builds the ASGI application around an already wired system, known
here only as :class:`web.ports.Application` (the composition root, ``service.py``, provides
it); nothing here reads settings or the wall clock by itself.
"""

from web.app import create_app

__all__ = ["create_app"]
