"""The pure rules behind value checks and request splitting."""
import pytest

from devicemodel.models import VariableAttribute, VariableCharacteristics
from devicemodel.values import check_value, frame_size, split_items


def characteristics(data_type, **fields):
    return VariableCharacteristics(data_type=data_type, **fields)


@pytest.mark.parametrize("data_type, fields, value, ok", [
    ("integer", {"min_limit": 0, "max_limit": 10}, "10", True),
    ("integer", {"min_limit": 0, "max_limit": 10}, " 7 ", True),
    ("integer", {}, "7.5", False),
    ("decimal", {"max_limit": 1.5}, "1.5", True),
    ("decimal", {}, "nan", False),
    ("decimal", {}, "1e400", False),
    ("boolean", {}, "TRUE", True),
    ("boolean", {}, "1", False),
    ("dateTime", {}, "2026-01-01T00:00:00Z", True),
    ("dateTime", {}, "tomorrow", False),
    ("OptionList", {"values_list": "A,B,C"}, "B", True),
    ("OptionList", {"values_list": "A,B,C"}, "A,B", False),
    ("MemberList", {"values_list": "A,B,C"}, "C,A", True),
    ("MemberList", {"values_list": "A,B,C"}, "A,A", False),
    ("SequenceList", {"values_list": "A,B,C"}, "B,D", False),
    ("string", {"max_limit": 3}, "abcd", False),
    ("string", {}, "x" * 1000, True),
    ("string", {}, "x" * 1001, False),
])
def test_values_against_characteristics(data_type, fields, value, ok):
    assert (check_value(value, characteristics(data_type, **fields)) == []) is ok


def test_min_set_and_max_set_narrow_the_limits_of_actual_and_target():
    limits = characteristics("integer", min_limit=0, max_limit=1000)
    attributes = {"MinSet": VariableAttribute(type="MinSet", value="200"),
                  "MaxSet": VariableAttribute(type="MaxSet", value="500")}
    target = VariableAttribute(type="Target", mutability="ReadWrite")
    assert check_value("600", limits, target, attributes) == ["600 is above the maximum 500"]
    assert check_value("100", limits, target, attributes) == ["100 is below the minimum 200"]
    assert check_value("300", limits, target, attributes) == []
    # MaxSet itself is bounded by the physical limits only.
    max_set = VariableAttribute(type="MaxSet", mutability="ReadWrite")
    assert check_value("900", limits, max_set, attributes) == []


def test_read_only_and_constant_attributes_cannot_be_set():
    assert check_value("1", None, VariableAttribute(mutability="ReadOnly")) == ["is read-only"]
    assert check_value("1", None, VariableAttribute(mutability="ReadWrite", constant=True)) == [
        "is constant"]
    assert check_value("1", None, VariableAttribute(mutability="WriteOnly")) == []


def test_1_6_values_are_limited_to_500_characters():
    assert check_value("x" * 501, None, ocpp_version="1.6") == ["is longer than 500 characters"]


def test_split_respects_items_and_bytes_per_message():
    items = list(range(7))
    assert split_items(items, lambda chunk: {"ids": chunk}, items_per_message=3) == [
        [0, 1, 2], [3, 4, 5], [6]]

    def wrap(chunk):
        return {"data": ["x" * 40 for _ in chunk]}

    chunks = split_items(items, wrap, bytes_per_message=frame_size(wrap([0, 1])))
    assert [len(chunk) for chunk in chunks] == [2, 2, 2, 1]
    # An item too big for any message still goes, alone: the station answers for it.
    assert split_items([0, 1], wrap, bytes_per_message=10) == [[0], [1]]
    assert split_items([], wrap, items_per_message=2) == []
