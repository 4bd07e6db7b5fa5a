"""``rewardlang.makers``: the parser's constructors that skip attrs' ``__init__`` make the same
objects as the classes themselves, and refuse a class whose ``__init__`` does more than store."""

from __future__ import annotations

import attrs
import pytest

from rewardlang import ast
from rewardlang.makers import maker, makers_of
from rewardlang.spans import Span


@pytest.mark.parametrize("cls", ast.node_classes(), ids=lambda c: c.__name__)
def test_a_maker_makes_what_the_class_makes(cls: type) -> None:
    fields = attrs.fields(cls)
    values = [object() for _ in fields]
    values[-1] = Span("f.reward", 1, 2, 3, 4) if fields[-1].name == "span" else "f.reward"
    made = maker(cls)(*values)
    by_init = cls(*[v for f, v in zip(fields, values) if not f.kw_only],
                  **{f.name: v for f, v in zip(fields, values) if f.kw_only})
    assert type(made) is cls
    assert all(getattr(made, f.name) is getattr(by_init, f.name) for f in fields)
    assert made == by_init and hash(made) == hash(by_init) and repr(made) == repr(by_init)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(made, fields[0].name, None)
    with pytest.raises(TypeError):
        maker(cls)(*values[:-1])


def test_makers_of_names_each_maker_after_its_class() -> None:
    made = makers_of((ast.Name, ast.Text))
    assert made.Name("x", ast.NO_SPAN) == ast.Name("x")
    assert made.Text("y", ast.NO_SPAN) == ast.Text("y")


def test_a_class_whose_init_does_more_gets_no_maker() -> None:
    @attrs.frozen
    class Validated:
        value: int = attrs.field(validator=attrs.validators.instance_of(int))

    @attrs.frozen
    class Converted:
        value: int = attrs.field(converter=int)

    @attrs.frozen
    class PostInit:
        value: int

        def __attrs_post_init__(self) -> None:
            pass

    @attrs.frozen(slots=False)
    class NotSlotted:
        value: int

    for cls in (Validated, Converted, PostInit, NotSlotted):
        with pytest.raises(TypeError):
            maker(cls)
