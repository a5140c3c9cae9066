"""Every tool input with an as-of date holds the same range, whichever surface fills it in."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

import tools
from tools.clock import EARLIEST_AS_OF, latest_as_of


def _inputs_with_as_of() -> list[type[BaseModel]]:
    found = []
    for info in pkgutil.iter_modules(tools.__path__):
        module = importlib.import_module(f"tools.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BaseModel)
                and cls.__module__ == module.__name__
                and cls.__name__.endswith("Input")
                and "as_of" in cls.model_fields
            ):
                found.append(cls)
    return found


INPUTS = _inputs_with_as_of()


def test_the_inputs_are_found() -> None:
    assert {"MetricsInput", "AgingInput", "DigestInput"} <= {c.__name__ for c in INPUTS}


@pytest.mark.parametrize("model", INPUTS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("day", [date(9999, 12, 31), date(1899, 12, 31)])
def test_as_of_outside_the_range_is_refused_in_words(model: type[BaseModel], day: date) -> None:
    fields = {k: "x" for k, f in model.model_fields.items() if f.is_required() and k != "as_of"}
    with pytest.raises(ValidationError) as raised:
        model.model_validate({**fields, "as_of": day})
    (as_of_error,) = [e for e in raised.value.errors() if e["loc"] == ("as_of",)]
    assert as_of_error["msg"] == (
        f"I can report as of {EARLIEST_AS_OF} to {latest_as_of()}, not {day.isoformat()}"
    )
