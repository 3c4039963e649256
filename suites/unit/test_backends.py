"""The backend registry: the shipped backends, found by name, and unknown names refused."""

from __future__ import annotations

import pytest

from harness.execute.backends import available, get_backend
from harness.model.errors import InputError
from harness.model.vocabulary import HandleModel


def test_shipped_backends_are_registered() -> None:
    assert {"pseudo", "pseudo-reuse", "real"} <= set(available())


@pytest.mark.parametrize(
    ("name", "model"),
    [("pseudo", HandleModel.PSEUDO), ("pseudo-reuse", HandleModel.PSEUDO), ("real", HandleModel.REAL)],
)
def test_backend_wraps_guests_for_its_handle_model(name: str, model: HandleModel) -> None:
    assert get_backend(name).model is model


def test_pseudo_reuse_takes_pseudo_expectations_where_it_has_none() -> None:
    assert get_backend("pseudo-reuse").expectations_from == "pseudo"


def test_unknown_backend_is_an_input_error_listing_the_known_ones() -> None:
    with pytest.raises(InputError) as error:
        get_backend("nope")
    assert str(error.value).startswith("--backend: unknown backend 'nope' (registered: ")
