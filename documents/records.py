"""Plain records shared by the layers (services, selectors, broadcast, protocol): no Django."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OpRecord:
    """A committed op as it travels to clients and through the channel layer."""

    document_id: str
    version: int
    kind: str
    data: Any
    src: str
    seq: int
    author_id: int | None = None

    @classmethod
    def from_model(cls, op: Any) -> "OpRecord":
        return cls(
            document_id=str(op.document_id),
            version=op.version,
            kind=op.kind,
            data=op.data,
            src=op.src,
            seq=op.seq,
            author_id=op.author_id,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "version": self.version,
            "kind": self.kind,
            "data": self.data,
            "src": self.src,
            "seq": self.seq,
            "author_id": self.author_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "OpRecord":
        return cls(**data)


@dataclass(frozen=True)
class SnapshotData:
    """A document's state at `version`; `type` is empty when it did not exist then."""

    version: int
    type: str
    content: list[dict[str, Any]] | None
    # Who wrote what: the content with only {"author": id} attributes (None if not asked for).
    authorship: list[dict[str, Any]] | None = None
