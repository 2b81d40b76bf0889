"""The group this server adds to the cluster: ``books.kubelab.dev/v1alpha1``.

* **Book** (namespaced, ``bk``): a title, an author and its chapters; the status subresource
  holds its phase and how many readers it has. Chapters merge by ``number`` in strategic
  merge patches.
* **Library** (cluster-scoped, ``lib``): the titles it bans. The server's own admission refuses
  a Book whose title a Library bans (kube-apiserver's webhooks and policies never see
  aggregated resources, so the aggregated server admits its own).

The models forbid unknown fields, so strict field validation can name them; the spec and
status schemas of OpenAPI come from them too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kubelab_apiserver.aggregated.resources import Column, Object, ResourceType
from kubelab_client.selectors import DEFAULT_FIELDS

GROUP = "books.kubelab.dev"
VERSION = "v1alpha1"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Chapter(Model):
    number: int = Field(ge=1, description="the chapter's number, unique in the book")
    title: str = Field(min_length=1, max_length=256, description="the chapter's title")


class BookSpec(Model):
    title: str = Field(min_length=1, max_length=256, description="the book's title")
    author: str = Field("", max_length=256, description="who wrote it (default: the user who created the book)")
    chapters: list[Chapter] = Field(default_factory=list, description="its chapters, merged by number")

    @model_validator(mode="after")
    def _unique_chapters(self) -> BookSpec:
        seen: set[int] = set()
        for i, chapter in enumerate(self.chapters):
            if chapter.number in seen:
                raise ValueError(f"chapters[{i}].number: Duplicate value: {chapter.number}")
            seen.add(chapter.number)
        return self


class BookStatus(Model):
    phase: Literal["", "Draft", "Published", "Retired"] = Field("", description="where the book is in its life")
    readers: int = Field(0, ge=0, description="how many are reading it")


class LibrarySpec(Model):
    bannedTitles: list[str] = Field(default_factory=list, description="titles no Book may have")


class LibraryStatus(Model):
    observedBooks: int = Field(0, ge=0, description="Books seen by the last count")


def _spec(obj: Object) -> dict[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Object) -> dict[str, Any]:
    return obj.get("status") or {}


def _age(obj: Object) -> Any:
    return (obj.get("metadata") or {}).get("creationTimestamp")


def _name(obj: Object) -> Any:
    return (obj.get("metadata") or {}).get("name")


BOOKS = ResourceType(
    group=GROUP,
    version=VERSION,
    kind="Book",
    plural="books",
    singular="book",
    namespaced=True,
    spec=BookSpec,
    status=BookStatus,
    short_names=("bk",),
    categories=("all", "kubelab"),
    columns=(
        Column("Name", "string", _name, "the book's name", format="name"),
        Column("Title", "string", lambda o: _spec(o).get("title", ""), "the book's title"),
        Column("Author", "string", lambda o: _spec(o).get("author", ""), "who wrote it"),
        Column("Chapters", "integer", lambda o: len(_spec(o).get("chapters") or []), "how many chapters"),
        Column("Phase", "string", lambda o: _status(o).get("phase", ""), "where the book is in its life"),
        Column("Readers", "integer", lambda o: _status(o).get("readers", 0), "readers", priority=1),
        Column("Age", "date", _age, "time since the book was created"),
    ),
    fields={
        **DEFAULT_FIELDS,
        "spec.author": lambda o: str(_spec(o).get("author", "")),
        "spec.title": lambda o: str(_spec(o).get("title", "")),
        "status.phase": lambda o: str(_status(o).get("phase", "")),
    },
    merge_keys={"spec.chapters": "number"},
    description="A book: its title, author and chapters.",
)

LIBRARIES = ResourceType(
    group=GROUP,
    version=VERSION,
    kind="Library",
    plural="libraries",
    singular="library",
    namespaced=False,
    spec=LibrarySpec,
    status=LibraryStatus,
    short_names=("lib",),
    categories=("kubelab",),
    columns=(
        Column("Name", "string", _name, "the library's name", format="name"),
        Column("Banned", "integer", lambda o: len(_spec(o).get("bannedTitles") or []), "how many titles it bans"),
        Column("Age", "date", _age, "time since the library was created"),
    ),
    description="A library: the titles it bans from every namespace.",
)

RESOURCES = (BOOKS, LIBRARIES)
