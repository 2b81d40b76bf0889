"""The base of every API type: camelCase on the wire, snake_case in Python, unknown fields refused.

``ApiModel.parse`` reads a JSON object of the API (a CronJob's ``spec`` as the API server
stores it), ``dump`` writes it back without the fields that are unset, as Go's
``omitempty`` does.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from kubelab_operator.api.markers import Marker


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    __markers__: ClassVar[tuple[Marker, ...]] = ()

    @classmethod
    def parse(cls, data: Any) -> Self:
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")
