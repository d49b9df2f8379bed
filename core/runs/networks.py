"""Users' saved networks: architecture specs kept by name (`networks/<name>.json`), beside the runs but not
runs (a run keeps its own copy of its network, so deleting or changing a saved network never touches a run).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from core.architectures import NAME_PATTERN, PRESETS, ArchitectureSpec, check_own_name
from core.runs.atomic import write_atomically
from core.spec_files import parse_spec, read_bounded

ANY = object()  # `save(expected=ANY)`: replace whatever is saved under the name


class NetworkChanged(ValueError):
    """A save that would replace a network someone else changed since this caller read it."""

log = logging.getLogger(__name__)


class NetworkRegistry:
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
        write_atomically(self._path(spec.name), spec.to_json().encode())

    def saved_one(self, name: str) -> ArchitectureSpec | None:
        """The user's network of that name, or None (absent or unusable)."""
        path = self._path(name)
        return self._read(path) if path.exists() else None

    def saved(self) -> dict[str, ArchitectureSpec]:
        """Users' networks by name; a file that is not a valid spec is reported and left out (`problems` lists
        them), and every other one is kept."""
        networks = {}
        for path in sorted(self.folder.glob("*.json")):
            spec = self._read(path)
            if spec is not None:
                networks[spec.name] = spec
        return networks

    def problems(self) -> dict[str, str]:
        """File name -> why it is left out, for the saved networks that cannot be used."""
        found = {}
        for path in sorted(self.folder.glob("*.json")):
            try:
                self._parse(path)
            except ValueError as error:
                found[path.name] = str(error)
        return found

    def _read(self, path: Path) -> ArchitectureSpec | None:
        try:
            return self._parse(path)
        except ValueError as error:
            log.warning("saved network %s is not usable (%s): left out", path.name, error)
            return None

    @staticmethod
    def _parse(path: Path) -> ArchitectureSpec:
        spec = parse_spec(read_bounded(path))
        if spec.name != path.stem or spec.name in PRESETS:
            raise ValueError(f"it is named {spec.name!r}")
        return spec

    def delete(self, name: str) -> bool:
        path = self._path(name)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

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

    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"Not a network name: {name!r}")
        return self.folder / f"{name}.json"
