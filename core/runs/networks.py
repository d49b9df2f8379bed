"""Users' saved networks: architecture specs kept by name (`networks/<name>.json`), beside the runs but not
runs (a run keeps its own copy of its network, so deleting or changing a saved network never touches a run).
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.architectures import NAME_PATTERN, PRESETS, ArchitectureSpec, check_own_name
from core.runs.atomic import write_atomically

log = logging.getLogger(__name__)


class NetworkRegistry:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, spec: ArchitectureSpec) -> None:
        """Keep a user's network under its name (replacing one of that name)."""
        check_own_name(spec.name)
        write_atomically(self._path(spec.name), spec.to_json().encode())

    def saved(self) -> dict[str, ArchitectureSpec]:
        """Users' networks by name; a file that is not a valid spec is reported and left out."""
        networks = {}
        for path in sorted(self.folder.glob("*.json")):
            try:
                spec = ArchitectureSpec.from_json(path.read_text())
                if spec.name != path.stem or spec.name in PRESETS:
                    raise ValueError(f"it is named {spec.name!r}")
                networks[spec.name] = spec
            except (OSError, ValueError, UnicodeDecodeError) as error:
                log.warning("saved network %s is not usable (%s): left out", path.name, error)
        return networks

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
