"""Constructors of the syntax tree's frozen nodes that skip attrs' ``__init__``.

The parser makes about ten nodes a rule — a million for a 100,000-rule file. attrs' ``__init__``
of a frozen slotted class sets each field through a bound ``object.__setattr__`` (a generic
attribute lookup per field) and takes the span as a keyword argument: about 430 ns for a
``Name``. ``maker(cls)`` returns a function of every field, positional and in field order (the
span last), that makes the same object through the slots' own descriptors: about 200 ns. The
object is the same in every way (its class, its fields, still frozen afterwards); only the
parser's tree builder uses these, on values it has already made valid.

A class with anything that its ``__init__`` would do besides storing the values — a validator,
a converter, a factory default left to it, ``__attrs_post_init__`` — gets no maker (TypeError):
its ``__init__`` must run.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import attrs

__all__ = ["maker", "makers_of"]


def maker(cls: type) -> Callable[..., Any]:
    """``cls(*values)`` with every field given positionally in field order, without attrs'
    ``__init__`` (see the module's documentation)."""
    fields = attrs.fields(cls)
    if getattr(cls, "__attrs_post_init__", None) is not None or getattr(cls, "__attrs_pre_init__", None):
        raise TypeError(f"{cls.__name__} has an __attrs_post_init__ or __attrs_pre_init__")
    for field in fields:
        if field.validator is not None or field.converter is not None or field.on_setattr not in (
            None, attrs.setters.NO_OP
        ):
            raise TypeError(f"{cls.__name__}.{field.name} has a validator, converter or on_setattr")
    if "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not slotted")
    sets = tuple(cls.__dict__[f.name].__set__ for f in fields)
    new = object.__new__
    count = len(sets)
    # one closure per number of fields: a loop over the setters would cost what is saved
    if count == 1:
        (s0,) = sets

        def make(a: Any) -> Any:
            o = new(cls)
            s0(o, a)
            return o
    elif count == 2:
        s0, s1 = sets

        def make(a: Any, b: Any) -> Any:  # type: ignore[misc]
            o = new(cls)
            s0(o, a)
            s1(o, b)
            return o
    elif count == 3:
        s0, s1, s2 = sets

        def make(a: Any, b: Any, c: Any) -> Any:  # type: ignore[misc]
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            return o
    elif count == 4:
        s0, s1, s2, s3 = sets

        def make(a: Any, b: Any, c: Any, d: Any) -> Any:  # type: ignore[misc]
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            return o
    elif count == 5:
        s0, s1, s2, s3, s4 = sets

        def make(a: Any, b: Any, c: Any, d: Any, e: Any) -> Any:  # type: ignore[misc]
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            s4(o, e)
            return o
    elif count == 6:
        s0, s1, s2, s3, s4, s5 = sets

        def make(a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> Any:  # type: ignore[misc]
            o = new(cls)
            s0(o, a)
            s1(o, b)
            s2(o, c)
            s3(o, d)
            s4(o, e)
            s5(o, f)
            return o
    else:
        def make(*values: Any) -> Any:  # type: ignore[misc]
            if len(values) != count:
                raise TypeError(f"{cls.__name__} takes {count} values, not {len(values)}")
            o = new(cls)
            for setter, value in zip(sets, values):
                setter(o, value)
            return o

    make.__name__ = make.__qualname__ = f"make_{cls.__name__}"
    make.__doc__ = f"``{cls.__name__}({', '.join(f.name for f in fields)})``, without ``__init__``."
    return make


def makers_of(classes: tuple[type, ...]) -> SimpleNamespace:
    """A maker for each class, as an attribute named after it (``makers_of(...).Name(text, span)``)."""
    return SimpleNamespace(**{cls.__name__: maker(cls) for cls in classes})
