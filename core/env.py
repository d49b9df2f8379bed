"""Numbers read from environment variables (the app's settings for a server: TRAIN_WORKERS, MEMORY_BUDGET_MB,
WORKER_RECYCLE_MB, RUN_STORE_MAX_MB), checked the same way everywhere."""

from __future__ import annotations

import math
import os


def number(name: str, default: float, minimum: float, whole: bool = True, unit: str = "",
           above: bool = False, error: type[Exception] = ValueError) -> float:
    """Environment variable `name` as a number: `default` when unset or blank; a whole number when `whole`;
    finite and at least `minimum` (above it when `above`). Raises `error` with a message naming the variable
    and what it must be (a usage error, said once on a page or in the CLI)."""
    return parse(name, os.environ.get(name, ""), default, minimum, whole, unit, above, error)


def parse(name: str, text: str, default: float, minimum: float, whole: bool = True, unit: str = "",
          above: bool = False, error: type[Exception] = ValueError) -> float:
    """`text`, the value of the setting `name`, checked as `number` checks it (`default` when blank)."""
    text = text.strip()
    if not text:
        return default
    of = f" of {unit}" if unit else ""
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise error(f"{name} must be {'a whole number' if whole else 'a number'}{of}, not {text!r}.") from None
    if not math.isfinite(value) or value < minimum or (above and value == minimum):  # inf, 1e309, nan
        bound = f"above {minimum:g}" if above else f"at least {minimum:g}"
        raise error(f"{name} must be {'a whole' if whole else 'a finite'} number{of} {bound}; got {text}.")
    return value
