"""The App's screen registry: one typed factory per name, nothing else."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest

from tui.app import registry


def test_every_name_has_a_factory_and_every_factory_a_name():
    assert set(get_args(registry.ScreenName)) == set(registry.SCREENS)


def test_factories_are_typed_and_build_their_screen():
    for name, factory in registry.SCREENS.items():
        signature = inspect.signature(factory)
        assert signature.return_annotation == "Screen[None]", name
        assert all(
            p.annotation is not inspect.Parameter.empty for p in signature.parameters.values()
        )
    assert type(registry.make_screen("sent")).__name__ == "SentScreen"
    assert type(registry.make_screen("usage")).__name__ == "UsageScreen"


def test_a_wrong_argument_is_refused():
    with pytest.raises(TypeError):
        registry.make_screen("sent", view=None)
