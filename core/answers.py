"""Compare's answer in words, for the page and `python -m core compare`: each network against the 80% bar, the gap
in points, how sure one seed can be (the spread over the seeds the store holds for the same settings, else "one
seed cannot settle it"), and the study that would settle it (the matching preset, sizes around the one compared).
Pure: runs' numbers in, sentences, a study and its link or command out."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from core import settings
from core.config import TrainConfig, run_id
from core.formats import count
from core.pixels import DRAWN, SHUFFLED
from core.stats import paired_difference
from core.study.rules import INCONCLUSIVE, TOO_FEW_SEEDS, h2_verdict, seeds_for_ci
from core.settings import THRESHOLD
from core.study.spec import CAPACITY_PRESET, DEFAULT_SIZES, STUDENT_PRESET, StudySpec
from core.formats import points, points_range
from core.study.words import listed, seeds_wanted

MARGIN = StudySpec().margin  # "better" means by more than the study's default margin (2 points)
STUDY_SEEDS = STUDENT_PRESET.num_seeds


@dataclass(frozen=True)
class Shown:
    """A run on the page: its name there ("conv", "conv (shuffled)"), its test accuracy (0..1) and seed, and the
    test accuracy of every stored run of the same settings by seed (this one's included)."""
    label: str
    accuracy: float
    seed: int
    seeds: dict


def stored_seeds(config: TrainConfig, data_key: str, accuracies: dict, most: int = settings.MAX_SEEDS) -> dict:
    """seed -> test accuracy of the stored runs that differ from `config` only in their seed (seeds 0 to `most` − 1,
    the seeds a study trains), from `accuracies` (run id -> test accuracy: one listing of the store)."""
    found = {}
    for seed in dict.fromkeys([config.seed, *range(most)]):
        identity = run_id(replace(config, seed=seed), data_key)
        if identity in accuracies:
            found[seed] = accuracies[identity]
    return found


def bar_sentence(shown: list[Shown], threshold: float = THRESHOLD) -> str:
    """Each network against the bar, on the runs shown (one run each: no interval yet)."""
    passing = [run for run in shown if run.accuracy >= threshold]
    failing = [run for run in shown if run.accuracy < threshold]
    each = listed(f"{run.label} {run.accuracy:.1%}" for run in shown)
    bar = f"the {threshold:.0%} bar"
    if len(shown) == 1:
        run = shown[0]
        return f"{run.label} {'passes' if passing else 'does not reach'} {bar} on this run ({run.accuracy:.1%})."
    if not failing:
        who = "Both networks pass" if len(shown) == 2 else f"All {len(shown)} networks pass"
        return f"{who} {bar} on these runs: {each}."
    if not passing:
        who = "Neither network reaches" if len(shown) == 2 else "None of the networks reaches"
        return f"{who} {bar} on these runs: {each}."
    def accuracies(runs) -> str:
        return ", ".join(f"{run.accuracy:.1%}" for run in runs)

    return (f"{listed(run.label for run in passing)} pass{'es' if len(passing) == 1 else ''} {bar} on this run "
            f"({accuracies(passing)}); {listed(run.label for run in failing)} do{'es' if len(failing) == 1 else ''} "
            f"not ({accuracies(failing)}).")


def gap_sentence(shown: list[Shown]) -> str | None:
    """The best run against each other, in points, on the seeds shown; None for one run."""
    if len(shown) < 2:
        return None
    best = max(shown, key=lambda run: run.accuracy)
    others = [run for run in shown if run is not best]
    seeds = {run.seed for run in shown}
    where = f"on this seed (seed {shown[0].seed})" if len(seeds) == 1 else "on these runs"
    if all(abs(best.accuracy - run.accuracy) < 0.0005 for run in others):
        return f"{listed(run.label for run in shown)} score the same {where}."
    gaps = [f"{(best.accuracy - run.accuracy) * 100:.1f} points better than {run.label}" for run in others]
    return f"{best.label} is {listed(gaps)} {where}."


def sureness_sentence(shown: list[Shown], margin: float = MARGIN) -> str | None:
    """How sure the gap is: over the stored seeds of the same settings where there are two or more of both runs,
    else that one seed cannot settle it. None for one run."""
    if len(shown) < 2:
        return None
    best = max(shown, key=lambda run: run.accuracy)
    said = []
    for other in (run for run in shown if run is not best):
        common = sorted(set(best.seeds) & set(other.seeds))
        if len(common) < 2:
            continue
        interval = paired_difference([best.seeds[seed] for seed in common], [other.seeds[seed] for seed in common])
        needed = seeds_for_ci(interval, -1.0, 1.0)
        over = f"Over the {len(common)} seeds stored for these settings, {best.label} − {other.label} is " \
               f"{points(interval.mean)}"
        verdict = TOO_FEW_SEEDS if needed else h2_verdict(interval.low, interval.high, margin, best.label,
                                                          other.label)
        if verdict == TOO_FEW_SEEDS:
            said.append(f"{over}, but {count(len(common), 'seed')} {'is' if len(common) == 1 else 'are'} too few "
                        f"for an interval ({seeds_wanted(needed)}).")
            continue
        interval_words = f"(95% CI {points_range(interval.low, interval.high)})"
        if verdict == "comparable":
            what = f"the two are comparable, within ±{margin * 100:g} points, on average over seeds"
        elif verdict == INCONCLUSIVE:
            what = (f"the interval is too wide to say whether the gap is more than {margin * 100:g} points; more "
                    f"seeds would tell")
        else:
            winner = verdict.removesuffix(" better")
            what = f"{winner} is better by more than {margin * 100:g} points on average over seeds"
        said.append(f"{over} {interval_words}: {what}.")
    if not said:
        return ("One seed cannot settle it: another seed draws other training images and first weights, and can "
                "change the gap.")
    return " ".join(said)


def answer_sentences(shown: list[Shown], threshold: float = THRESHOLD, margin: float = MARGIN) -> list[str]:
    """The answer to "does a convolutional network beat a flat one?" on the runs shown, two or three sentences."""
    return [sentence for sentence in (bar_sentence(shown, threshold), gap_sentence(shown),
                                      sureness_sentence(shown, margin)) if sentence]


def sizes_around(size: int, pool_size: int, how_many: int = 3) -> tuple:
    """`size` itself and the study's sample sizes nearest it on a log scale (DEFAULT_SIZES below the pool, and the
    pool), `how_many` in all, increasing. The compared size is always one of them (200 -> 100, 200, 300): the study
    stores the seeds of the very settings compared, so Compare can then say how sure its gap is."""
    options = [option for option in DEFAULT_SIZES if option < pool_size] + [pool_size]
    neighbours = sorted((option for option in options if option != size),
                        key=lambda option: (abs(math.log(option / size)), option))[:how_many - 1]
    return tuple(sorted([size, *neighbours]))


def settling_study(configs: list[TrainConfig], pool_size: int) -> StudySpec:
    """The study that would settle the comparison of `configs`: their networks (with the capacity preset's when
    one of its controls is among them, flat and conv with both pixel orders when a run is on shuffled pixels),
    their training settings, STUDY_SEEDS seeds, sizes around theirs."""
    first = configs[0]
    networks = {config.architecture: config.spec for config in configs}
    orders = tuple(dict.fromkeys(config.pixels for config in configs))
    if SHUFFLED in orders:
        orders = (DRAWN, SHUFFLED)
        networks = {**{name: name for name in ("flat", "conv")}, **networks}
    if set(networks) & (set(CAPACITY_PRESET.names) - set(STUDENT_PRESET.names)):
        networks = {**{name: name for name in CAPACITY_PRESET.names}, **networks}
    return StudySpec(dataset=first.dataset, architectures=tuple(networks.values()),
                     sample_sizes=sizes_around(first.sample_size, pool_size), num_seeds=STUDY_SEEDS,
                     num_epochs=first.num_epochs, batch_size=first.batch_size, recipe=first.recipe,
                     precision=first.precision, pixels=orders)


def study_words(spec: StudySpec) -> str:
    """'flat and conv at 300, 1,000 and 3,000 images, 3 seeds each' (and 'on drawn and shuffled pixels')."""
    orders = " on pixels as drawn and shuffled" if SHUFFLED in spec.pixels else ""
    return (f"{listed(spec.names)}{orders} at {listed(f'{size:,}' for size in spec.sample_sizes)} images, "
            f"{count(spec.num_seeds, 'seed')} each")


def _study_values(spec: StudySpec) -> list[tuple]:
    """(setting, value as people give it) for each of the study's settings a link or the command line states:
    the sizes, seeds, epochs and networks always, the others where they differ from a study's defaults."""
    default = StudySpec()
    always = {setting.name for setting in (settings.SAMPLE_SIZES, settings.SEEDS, settings.EPOCHS,
                                           settings.ARCHITECTURES)}
    values = []
    for setting in settings.STUDY:
        if setting is settings.PAIRS:
            continue  # the study's suggested pairs
        value = spec.names if setting is settings.ARCHITECTURES else getattr(spec, setting.name)
        if setting.name in always or value != (default.names if setting is settings.ARCHITECTURES
                                          else getattr(default, setting.name)):
            values.append((setting, setting.from_field(value)))
    return values


def study_query(spec: StudySpec) -> dict[str, str]:
    """The Study page's address parameters for `spec` (core/settings.py's declarations: parameter, how a value
    is written)."""
    return {setting.param: setting.write(value) for setting, value in _study_values(spec) if setting.param}


def compare_answer(runs, accuracies: dict, pool_size: int) -> tuple[list[str], StudySpec]:
    """(the answer's sentences, the study that would settle it) for stored `runs` (core.runs.StoredRun) named as
    core.settings.run_labels names them; `accuracies`: run id -> test accuracy of every stored run."""
    labels = settings.run_labels([run.config for run in runs], fallbacks=[run.run_id[:6] for run in runs])
    shown = [Shown(label, run.test_accuracy, run.config.seed, stored_seeds(run.config, run.data_key, accuracies))
             for label, run in zip(labels, runs)]
    return answer_sentences(shown), settling_study([run.config for run in runs], pool_size)


def study_command(spec: StudySpec) -> str:
    """`python -m core study ...` for `spec`."""
    words = ["python -m core study"]
    for setting, value in _study_values(spec):
        items = value if setting.many else [value]
        words.append(setting.flag + " " + " ".join(setting.write_one(item) for item in items))
    return " ".join(words)
