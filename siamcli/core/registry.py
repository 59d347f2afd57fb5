"""Registries of named parts (encoders, losses, miners): a model file stores a part's name and
parameters, and loading rebuilds it from here without running any code from the file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Spec:
    """A registered part by name, with the keyword arguments that build it."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def with_params(self, **changes: Any) -> Spec:
        return Spec(self.name, {**self.params, **changes})


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what
        self._parts: dict[str, Callable[..., T]] = {}

    def register(self, name: str, *aliases: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Class decorator; `aliases` are older names that files written before a rename still use."""

        def register(part: Callable[..., T]) -> Callable[..., T]:
            for key in (name, *aliases):
                self._parts[key] = part
            return part

        return register

    def names(self) -> list[str]:
        return sorted(self._parts)

    def build(self, spec: Spec, **context: Any) -> T:
        """The part named by `spec`, built with its params (and `context`, e.g. the distance)."""
        try:
            part = self._parts[spec.name]
        except KeyError:
            raise ValueError(f"unknown {self.what} '{spec.name}' (known: {', '.join(self.names())})") from None
        return part(**spec.params, **context)
