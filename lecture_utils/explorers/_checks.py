"""Argument checks shared by the explorers: a wrong value is a ValueError
that names the argument, what it got, and what is valid."""

from __future__ import annotations

import numpy as np


def check_choice(name: str, value, valid) -> None:
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")


def starting_values(defaults: dict, initial: dict) -> dict:
    """An explorer's starting control values: ``defaults`` updated with the
    caller's ``initial`` ones (ValueError naming any unknown control)."""
    unknown = set(initial) - set(defaults)
    if unknown:
        raise ValueError(f"unknown control(s) {sorted(unknown)}; valid: {sorted(defaults)}")
    return {**defaults, **initial}


def check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}; got {value!r}")


