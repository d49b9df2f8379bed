"""Users' saved networks: architecture specs kept by name, beside the runs but not runs (a run keeps its own copy
of its network, so deleting or changing a saved network never touches a run). A folder store keeps them as
`networks/<name>.json`; a database store as rows (core/runs/postgres.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.architectures import NAME_PATTERN, PRESETS, ArchitectureSpec, check_own_name
from core.runs.atomic import write_atomically

log = logging.getLogger(__name__)


class BaseNetworkRegistry:
    """What every registry shares; a subclass keeps JSON texts by name (`_texts`, `_write`, `_remove`)."""

    def _texts(self) -> dict[str, str]:
        raise NotImplementedError

    def _write(self, name: str, text: str) -> None:
        raise NotImplementedError

    def _remove(self, name: str) -> bool:
        raise NotImplementedError

    def save(self, spec: ArchitectureSpec) -> None:
        """Keep a user's network under its name (replacing one of that name)."""
        check_own_name(spec.name)
        self._write(spec.name, spec.to_json())

    def saved(self) -> dict[str, ArchitectureSpec]:
        """Users' networks by name; an entry that is not a valid spec is reported and left out."""
        networks = {}
        for name, text in sorted(self._texts().items()):
            try:
                spec = ArchitectureSpec.from_json(text)
                if spec.name != name or spec.name in PRESETS:
                    raise ValueError(f"it is named {spec.name!r}")
                networks[spec.name] = spec
            except ValueError as error:
                log.warning("saved network %s is not usable (%s): left out", self._label(name), error)
        return networks

    def _label(self, name: str) -> str:
        """How an entry is named in a warning."""
        return name

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
    """Saved networks as files `<name>.json` in a folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _texts(self) -> dict[str, str]:
        texts = {}
        for path in sorted(self.folder.glob("*.json")):
            try:
                texts[path.stem] = path.read_text()
            except (OSError, UnicodeDecodeError) as error:
                log.warning("saved network %s is not usable (%s): left out", path.name, error)
        return texts

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
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"Not a network name: {name!r}")
        return self.folder / f"{name}.json"
