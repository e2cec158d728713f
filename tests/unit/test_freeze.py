"""``models.freeze``: the read-only copy every model's ``raw`` record is."""

from collections import OrderedDict
from types import MappingProxyType

import pytest

from runtimes.models import FrozenDict, freeze


def test_json_records_become_frozen_dicts_and_tuples() -> None:
    record = {"Id": "a", "N": 1, "F": 1.5, "B": True, "X": None, "L": [{"k": ["v", 2]}, 3]}
    frozen = freeze(record)
    assert isinstance(frozen, FrozenDict)
    assert frozen == {"Id": "a", "N": 1, "F": 1.5, "B": True, "X": None, "L": ({"k": ("v", 2)}, 3)}
    assert isinstance(frozen["L"][0], FrozenDict)
    with pytest.raises(TypeError):
        frozen["L"][0]["k"] = "changed"  # type: ignore[index]
    assert record["L"][0]["k"] == ["v", 2]  # the input is left as it was


def test_other_mappings_and_sequences_are_frozen_too() -> None:
    frozen = freeze(OrderedDict(a=MappingProxyType({"b": (1, [2])})))
    assert type(frozen) is FrozenDict
    assert type(frozen["a"]) is FrozenDict
    assert frozen["a"]["b"] == (1, (2,))


def test_an_already_frozen_value_is_returned_as_is() -> None:
    inner = FrozenDict({"x": 1})
    assert freeze(inner) is inner
    assert freeze({"a": inner})["a"] is inner
