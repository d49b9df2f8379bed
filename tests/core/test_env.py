"""Numbers from environment variables: one parser for the server's settings (core/env.py)."""

import pytest

from core import env


@pytest.mark.parametrize("text, message", [
    ("abc", "X must be a whole number, not 'abc'."), ("2.5", "X must be a whole number, not '2.5'."),
    ("0", "X must be a whole number at least 1; got 0."), ("-3", "X must be a whole number at least 1; got -3.")])
def test_a_whole_number_setting_refuses_what_is_not_one_naming_the_variable(monkeypatch, text, message):
    monkeypatch.setenv("X", text)
    with pytest.raises(ValueError) as raised:
        env.number("X", 7, 1)
    assert str(raised.value) == message


@pytest.mark.parametrize("text", ["0", "-1", "inf", "nan", "1e309"])
def test_a_megabytes_setting_must_be_finite_and_above_its_minimum(monkeypatch, text):
    monkeypatch.setenv("X", text)
    with pytest.raises(KeyError, match="finite number of megabytes above 0"):  # the caller's own error type
        env.number("X", 1.0, 0, whole=False, unit="megabytes", above=True, error=KeyError)


def test_unset_or_blank_gives_the_default_and_a_value_is_read(monkeypatch):
    monkeypatch.delenv("X", raising=False)
    assert env.number("X", 7, 1) == 7
    monkeypatch.setenv("X", "  ")
    assert env.number("X", 7, 1) == 7
    monkeypatch.setenv("X", " 3 ")
    assert env.number("X", 7, 1) == 3
    monkeypatch.setenv("X", "2.5")
    assert env.number("X", 1.0, 0, whole=False, above=True) == 2.5
