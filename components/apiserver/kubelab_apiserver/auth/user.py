"""The user a request was authenticated as (k8s.io/apiserver ``user.Info``)."""

from __future__ import annotations

from dataclasses import dataclass, field

ANONYMOUS = "system:anonymous"
UNAUTHENTICATED = "system:unauthenticated"
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"


@dataclass(frozen=True)
class User:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    via: str = ""  # which authenticator: requestheader, x509, token, anonymous

    @property
    def anonymous(self) -> bool:
        return self.name == ANONYMOUS

    def to_review(self) -> dict[str, object]:
        """As a SubjectAccessReview's spec sends it."""
        review: dict[str, object] = {"user": self.name, "groups": list(self.groups)}
        if self.uid:
            review["uid"] = self.uid
        if self.extra:
            review["extra"] = {k: list(v) for k, v in self.extra.items()}
        return review


def anonymous() -> User:
    return User(ANONYMOUS, groups=(UNAUTHENTICATED,), via="anonymous")
