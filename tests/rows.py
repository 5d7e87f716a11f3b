"""Rows a test knows are in the database: read them typed, without their None."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


def stored(s: Session, model: type[T], ident: Any) -> T:
    """``s.get(model, ident)``, failing with what was missing instead of returning None."""
    row = s.get(model, ident)
    assert row is not None, f"no {model.__name__} {ident!r} in the database"
    return row
