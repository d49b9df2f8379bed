"""Copying a store into another (`python -m core runs copy --from PATH_OR_URL --to PATH_OR_URL`): every sound run
and every saved network, between any two stores (folder or database, either way).

- Verified: a run's files are checked against its manifest when read from the source (a broken run is reported
  and not copied), and the copy is read back and checked again in the target before it is indexed there.
- Resumable: each run lands in one step (the backend's `put`), so a copy that was interrupted leaves whole runs
  or none, and running it again copies what is missing.
- Idempotent: a run the target already holds with the same manifest is left alone (its extra files, such as
  robustness results, are added when the target lacks them); a network the target has is left alone.

The size limit is not enforced while copying (every copied run counts as used now); the target's next write
does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from collections.abc import Callable

from core.runs.backend import sha256
from core.runs.run_files import MANIFEST_FILE, RUN_FILES
from core.runs.store import RunStore

LOCK_SECONDS = 60  # the longest a copy waits for a run that is being written in the target


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)        # runs written to the target
    present: list[str] = field(default_factory=list)       # runs the target already had
    broken: dict[str, str] = field(default_factory=dict)   # source runs not copied, and why
    failed: dict[str, str] = field(default_factory=dict)   # copies that did not check out in the target
    networks: list[str] = field(default_factory=list)      # saved networks copied
    networks_kept: list[str] = field(default_factory=list)  # a different network of that name is in the target
    bytes_copied: int = 0


def copy_store(source: RunStore, target: RunStore, on_run: Callable[[str, str], None] | None = None) -> CopyReport:
    """Copy every sound run and saved network of `source` into `target`; `on_run(run_id, what)` is told of each
    run ("copied", "present", "broken: ...", "failed: ..."). Raises StoreError when either store fails."""
    report = CopyReport()
    tell = on_run or (lambda run_id, what: None)
    for run_id in sorted(source.backend.run_ids()):
        run, problem = source.inspect(run_id)
        if run is None:
            if problem:
                report.broken[run_id] = problem
                tell(run_id, f"broken in the source, not copied: {problem}")
            continue
        names = source.backend.sizes(run_id) or {}
        if _same_run(source, target, run_id):
            _add_missing_extras(source, target, run_id, names)
            report.present.append(run_id)
            tell(run_id, "already there")
            continue
        files = {name: source.backend.get(run_id, name) for name in names}
        problem = _check_against_manifest(files)
        if problem:
            report.broken[run_id] = problem
            tell(run_id, f"broken in the source, not copied: {problem}")
            continue
        with target.lock(run_id, timeout=LOCK_SECONDS):
            target.backend.put(run_id, files)
        copied, problem = target.inspect(run_id)
        if copied is None:
            target.delete(run_id)
            report.failed[run_id] = problem or "it could not be read back"
            tell(run_id, f"failed: {report.failed[run_id]}")
            continue
        target.index.put(copied)
        report.copied.append(run_id)
        report.bytes_copied += sum(len(data) for data in files.values())
        tell(run_id, "copied")
    theirs = target.saved_networks()
    for name, spec in source.saved_networks().items():
        if name not in theirs:
            target.save_network(spec)
            report.networks.append(name)
        elif theirs[name].to_json() != spec.to_json():
            report.networks_kept.append(name)
    return report


def _same_run(source: RunStore, target: RunStore, run_id: str) -> bool:
    """True when the target holds this run, sound, with the source's manifest (so the same bytes)."""
    copied, _ = target.inspect(run_id)
    if copied is None:
        return False
    try:
        return target.backend.get(run_id, MANIFEST_FILE) == source.backend.get(run_id, MANIFEST_FILE)
    except KeyError:
        return False


def _add_missing_extras(source: RunStore, target: RunStore, run_id: str, names: dict[str, int]) -> None:
    """Files kept beside a run (robustness results) that the target's copy lacks; never replaces the target's."""
    theirs = target.backend.sizes(run_id) or {}
    for name in names:
        if name not in theirs and name not in (*RUN_FILES, MANIFEST_FILE):
            target.backend.add(run_id, name, source.backend.get(run_id, name))


def _check_against_manifest(files: dict[str, bytes]) -> str | None:
    """Why the bytes read do not match the run's manifest, or None (the bytes copied are the bytes checked)."""
    try:
        expected = json.loads(files[MANIFEST_FILE])["files"]
        for name in RUN_FILES:
            if sha256(files[name]) != expected[name]["sha256"]:
                return f"{name} changed while it was being read (checksum mismatch)"
    except (KeyError, ValueError, TypeError) as error:
        return f"{MANIFEST_FILE} unreadable ({error})"
    return None
