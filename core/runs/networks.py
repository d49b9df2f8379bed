"""Users' saved networks: architecture specs kept by name, beside the runs but not runs (a run keeps its own copy
of its network, so deleting or changing a saved network never touches a run). A folder store keeps them as
`networks/<name>.json`; a database store as rows (core/runs/postgres.py).

Reading is bounded and total (core/spec_files.py): an entry that is not a usable spec is left out and reported
(`problems`), and every other one is kept. A save can say which version it expects to replace, so that two
sessions editing one name cannot silently overwrite each other.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from core.architectures import PRESETS, ArchitectureSpec, check_name, check_own_name
from core.atomic import write_atomically
from core.spec_files import parse_spec, read_bounded

log = logging.getLogger(__name__)

ANY = object()  # `save(expected=ANY)`: replace whatever is saved under the name


class NetworkChanged(ValueError):
    """A save that would replace a network someone else changed since this caller read it."""


class BaseNetworkRegistry:
    """What every registry shares; a subclass keeps the specs' bytes by name (`_entries`, `_write`, `_remove`)."""

    def _entries(self) -> dict[str, bytes | ValueError]:
        """name -> the entry's bytes, or the ValueError met reading it."""
        raise NotImplementedError

    def _write(self, name: str, text: str) -> None:
        raise NotImplementedError

    def _remove(self, name: str) -> bool:
        raise NotImplementedError

    def _label(self, name: str) -> str:
        """How an entry is named in a message."""
        return name

    def remove_leftovers(self) -> None:
        """What a killed save left behind (nothing, where saves are transactions)."""

    def save(self, spec: ArchitectureSpec, expected=ANY) -> None:
        """Keep a user's network under its name. `expected`: the hash of the network this caller last saw under
        that name (None: none was saved); when the saved one is another, NetworkChanged says so and nothing is
        written (ANY replaces whatever is there)."""
        check_own_name(spec.name)
        if expected is not ANY:
            current = self.saved_one(spec.name)
            if (current.hash if current else None) != expected and (current is None or current.hash != spec.hash):
                raise NetworkChanged(
                    f"{spec.name} was changed elsewhere (another session or the CLI) since you opened it: it now "
                    f"has {current.num_params:,} parameters ({current.layer_summary()})." if current else
                    f"{spec.name} was deleted elsewhere since you opened it.")
        self._write(spec.name, spec.to_json())

    def saved_one(self, name: str) -> ArchitectureSpec | None:
        """The user's network of that name, or None (absent or unusable)."""
        return self.saved().get(name)

    def saved(self) -> dict[str, ArchitectureSpec]:
        """Users' networks by name; an entry that is not a valid spec is reported and left out."""
        networks = {}
        for name, data in sorted(self._entries().items()):
            try:
                networks[name] = self._parse(name, data)
            except ValueError as error:
                log.warning("saved network %s is not usable (%s): left out", self._label(name), error)
        return networks

    def problems(self) -> dict[str, str]:
        """Entry -> why it is left out, for the saved networks that cannot be used."""
        found = {}
        for name, data in sorted(self._entries().items()):
            try:
                self._parse(name, data)
            except ValueError as error:
                found[self._label(name)] = str(error)
        return found

    @staticmethod
    def _parse(name: str, data: bytes | ValueError) -> ArchitectureSpec:
        if isinstance(data, ValueError):
            raise data
        spec = parse_spec(data if isinstance(data, bytes) else str(data).encode())
        if spec.name != name or spec.name in PRESETS:
            raise ValueError(f"it is named {spec.name!r}")
        return spec

    def delete(self, name: str) -> bool:
        return self._remove(name)

    def all(self) -> dict[str, ArchitectureSpec]:
        """Every network a run can be asked for: the presets, then the users' own."""
        return {**PRESETS, **self.saved()}

    def resolve(self, names) -> list[ArchitectureSpec]:
        """The networks named, each once, in order; ValueError names the first unknown one."""
        known = self.all()
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"Unknown architecture {unknown[0]!r}; choose from: {', '.join(known)}.")
        return [known[name] for name in dict.fromkeys(names)]


class NetworkRegistry(BaseNetworkRegistry):
    """Saved networks as files `<name>.json` in a folder, each read with a size limit."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.remove_leftovers()

    def remove_leftovers(self, stale_seconds: float = 3600) -> None:
        """Temporary files of a save that was killed (or hit a full disk) before its rename: a live save's
        are seconds old."""
        cutoff = time.time() - stale_seconds
        for leftover in self.folder.glob(".*.tmp"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                pass  # another process removed it first

    def _entries(self) -> dict[str, bytes | ValueError]:
        entries: dict[str, bytes | ValueError] = {}
        for path in sorted(self.folder.glob("*.json")):
            try:
                entries[path.stem] = read_bounded(path)
            except ValueError as error:
                entries[path.stem] = error
        return entries

    def saved_one(self, name: str) -> ArchitectureSpec | None:
        path = self._path(name)
        if not path.exists():
            return None
        try:
            return self._parse(name, read_bounded(path))
        except ValueError as error:
            log.warning("saved network %s is not usable (%s): left out", path.name, error)
            return None

    def _label(self, name: str) -> str:
        return f"{name}.json"

    def _write(self, name: str, text: str) -> None:
        write_atomically(self._path(name), text.encode())

    def _remove(self, name: str) -> bool:
        path = self._path(name)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def _path(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.json"
