"""The command line's shared arguments: one-line errors, the declared settings as options, the networks
chosen by name or from JSON files."""

from __future__ import annotations

import argparse

from core import settings
from core.architectures import DEFAULT_ARCHITECTURES, ArchitectureSpec, check_own_name
from core.config import TrainConfig
from core.glossary import with_term
from core.runs import RunStore
from core.settings import Setting, SettingError


DEFAULTS = TrainConfig()


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see: {self.prog} --help)")


def setting_arg(setting: Setting):
    """argparse's `type` for a declared setting: its one parser (core/settings.py), its error as argparse's."""
    def parse(text: str):
        try:
            return setting.parse(text)
        except SettingError as error:
            raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
    parse.__name__ = setting.name
    return parse


def add_settings(command, declared: tuple, owner) -> None:
    """An option per declared setting with a flag (core/settings.py), its help ending in the default `owner`
    (TrainConfig or StudySpec) declares. Every
    default is None: a flag not given leaves TrainConfig's or StudySpec's default, and `given` tells which were."""
    for setting in declared:
        if not setting.flag:
            continue
        shown = setting.cli_help(settings.declared_default(setting, owner), with_term(setting.help, setting.term))
        options = {"dest": setting.name, "default": None, "metavar": setting.metavar,
                   "help": shown.replace("%", "%%")}  # argparse formats help with %
        if setting.kind == "choice":
            options["choices"] = list(setting.choices)
        else:
            options["type"] = setting_arg(setting)
        if setting.many:
            options["nargs"] = "+"
        command.add_argument(setting.flag, **options)
        if setting is settings.ARCHITECTURES:
            command.add_argument("--architecture-file", action="append", default=[], metavar="PATH",
                                 help=ARCHITECTURE_FILE_HELP)


def given(args, declared: tuple) -> dict:
    """The settings given on the command line, as TrainConfig's or StudySpec's fields take them."""
    return {setting.name: setting.to_field(getattr(args, setting.name)) for setting in declared
            if setting.flag and getattr(args, setting.name, None) is not None}


def ray_address_arg(text: str) -> str:
    """A Ray address checked before anything runs (core/runs/ray_executor.py: host, port from 1 to 65535)."""
    from core.runs.ray_executor import parse_address

    try:
        parse_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


ARCHITECTURE_FILE_HELP = ("a network spec in JSON (name, input, layers; see README), trained alongside "
                          "--architectures and saved in the store for the app; may be repeated")


def add_run_arguments(command) -> None:
    """What makes a run: shared by compare and robustness."""
    add_settings(command, settings.RUN, TrainConfig)
    command.add_argument("--json", action="store_true", help="print JSON instead of a table")


def read_network_file(path: str) -> ArchitectureSpec:
    """Bounded and total (core/spec_files.py): whatever is wrong with the file is one line, exit 2."""
    from core.spec_files import read_spec

    try:
        return read_spec(path)
    except ValueError as error:
        raise UsageError(str(error)) from None


def chosen_networks(args, store: RunStore, also: tuple = ()) -> tuple[list[ArchitectureSpec], list[ArchitectureSpec]]:
    """(networks, files' networks): --architectures (default: flat conv) and the names in `also`, resolved against
    the presets and the saved networks, then each --architecture-file's network. Save the files' networks with
    `save_networks` once the settings are checked: the app finds them in the store."""
    from_files = {spec.name: spec for spec in map(read_network_file, args.architecture_file)}
    for name in from_files:
        check_own_name(name)
    names = list(args.architectures or (() if from_files else DEFAULT_ARCHITECTURES)) + list(also)
    networks = store.resolve_networks([name for name in dict.fromkeys(names) if name not in from_files])
    return networks + list(from_files.values()), list(from_files.values())


def save_networks(store: RunStore, networks: list[ArchitectureSpec]) -> None:
    for spec in networks:
        store.save_network(spec)
