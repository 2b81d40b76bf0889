"""What the client asked for in ``Accept``: a plain object, a Table (``kubectl get``), metadata only
(``PartialObjectMetadata``: the garbage collector and the namespace controller), or aggregated
discovery. Protobuf is not served; clients that offer JSON as well fall back to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubelab_apiserver.aggregated.status import StatusError

JSON = "application/json"


@dataclass(frozen=True)
class MediaType:
    type: str
    params: dict[str, str]
    quality: float = 1.0

    @property
    def as_(self) -> str:
        return self.params.get("as", "")


@dataclass(frozen=True)
class Wanted:
    """How to render the answer: ``view`` is "" (the object), "Table", "PartialObjectMetadata" or
    "APIGroupDiscoveryList"; ``version`` the version of that meta type."""

    view: str = ""
    version: str = ""
    content_type: str = JSON


def parse(accept: str | None) -> list[MediaType]:
    found: list[MediaType] = []
    for raw in (accept or "*/*").split(","):
        parts = [p.strip() for p in raw.split(";") if p.strip()]
        if not parts:
            continue
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        q = float(params.pop("q", "1") or 1)
        found.append(MediaType(parts[0].lower(), {k.strip(): v.strip() for k, v in params.items()}, q))
    return sorted(found, key=lambda m: -m.quality)


def negotiate(accept: str | None, *, views: tuple[str, ...]) -> Wanted:
    """The first acceptable rendering among ``views`` (and plain JSON); 406 if none."""
    offered = parse(accept)
    for media in offered:
        if media.type not in (JSON, "application/*", "*/*"):
            continue
        if not media.as_:
            return Wanted()
        group, version = media.params.get("g", ""), media.params.get("v", "")
        meta_view = media.as_ in ("Table", "PartialObjectMetadata", "PartialObjectMetadataList")
        if media.as_ in views and meta_view and group == "meta.k8s.io" and version in ("v1", "v1beta1"):
            view = "PartialObjectMetadata" if media.as_.startswith("PartialObjectMetadata") else "Table"
            return Wanted(view, version, f"{JSON};as={media.as_};v={version};g=meta.k8s.io")
        discovery = media.as_ == "APIGroupDiscoveryList" and group == "apidiscovery.k8s.io"
        if discovery and media.as_ in views and version in ("v2", "v2beta1"):
            return Wanted(media.as_, version, f"{JSON};g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList")
    raise StatusError(
        406, "NotAcceptable", f"only the following media types are accepted: {JSON} (as {', '.join(views)})"
    )
