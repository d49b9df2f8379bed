"""The run store's errors: what a caller catches, whichever backend holds the runs."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used (e.g. its folder is not writable); the message says why."""


class StoreSettingError(StoreError, ValueError):
    """A setting the user gives (RUN_STORE_DIR, RUN_STORE_MAX_MB) cannot work: a usage error (CLI exit 2)."""


class LockTimeout(StoreError):
    """A run's lock was held by someone else for longer than the caller would wait."""


class StoreUnavailable(StoreError):
    """The store's database cannot be reached or refuses us (wrong password, restarting, gone): the message names
    it with the password masked; the same call works again once it is back."""
