"""A class's own handwriting: digits a class draws, kept like runs, and a verdict on whether conv still beats flat
on them (issue 38).

    limits.py     the class code, a stored digit's form, the limits against floods (per set, per session, blank)
    storage.py    DigitStore: the interface, the folder backend beside the runs, `digit_store(run_store)`
    postgres.py   the same in the run store's PostgreSQL database (imported only for such a store)
    verdict.py    accuracy with Wilson's interval, conv − flat paired, McNemar, the sentence (numpy and scipy)
    networks.py   which runs by default; their answers on a set (model work: a worker in the app)
    npz.py        a set as x/y .npz, keras.datasets.mnist's layout, read with every check
    cli.py        `python -m core class-digits list|export|import|evaluate`
"""

from core.class_digits.limits import DEFAULT_CODE, MAX_SET_SIZE, Refused, SetFull, check_class_code
from core.class_digits.storage import ClassSet, DigitStore, digit_store

__all__ = ["DEFAULT_CODE", "MAX_SET_SIZE", "ClassSet", "DigitStore", "Refused", "SetFull", "check_class_code",
           "digit_store"]
