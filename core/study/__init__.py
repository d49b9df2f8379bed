"""The study: accuracy against sample size over seeds, and a verdict on the student's two hypotheses.

spec.py says what a study is (networks, sizes, seeds, pairs, presets); run.py trains its missing cells and
words their progress; analysis.py makes its tables from the stored cells (rules.py: the verdict each CI earns);
summary.py, tables.py and verdict.py answer its questions in sentences and tables, in the words of words.py
(efficiency_words.py: the learning curves'). The names below are the package's public ones: `from core.study
import X` works for each.
"""

from core.study.analysis import (GAP_COLUMNS, StudyReport, analyse, compare_pairs, h1_verdict, h2_verdict,
                                 machine_description, student_comparison, summarise)
from core.study.run import CellReport, StudyProgress, estimate_seconds, run_study
from core.settings import THRESHOLD
from core.study.spec import (CAPACITY_PRESET, DEFAULT_SIZES, SPATIAL_PRESET, STUDENT, STUDENT_PRESET, StudySpec,
                             default_pairs, pair_arms)
from core.study.summary import summary_sentences
from core.study.verdict import SPATIAL_PAIRS, capacity_sentence, pair_gaps, spatial_sentence

__all__ = ["CAPACITY_PRESET", "DEFAULT_SIZES", "GAP_COLUMNS", "SPATIAL_PAIRS", "SPATIAL_PRESET", "STUDENT",
           "STUDENT_PRESET", "THRESHOLD", "CellReport", "StudyProgress", "StudyReport", "StudySpec", "analyse",
           "capacity_sentence", "compare_pairs", "default_pairs", "estimate_seconds", "h1_verdict", "h2_verdict",
           "machine_description", "pair_arms", "pair_gaps", "run_study", "spatial_sentence", "student_comparison",
           "summarise", "summary_sentences"]
