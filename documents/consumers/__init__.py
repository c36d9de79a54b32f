"""The WebSocket side: a consumer speaking the ShareDB protocol."""

from .sharedb import ShareDBConsumer

__all__ = ["ShareDBConsumer"]
