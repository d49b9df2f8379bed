"""Keras (and TensorFlow under it), imported on first use by one thread at a time.

TensorFlow's first import is not safe in two threads at once: its modules import each other in circles, and
a thread importing `tensorflow` while another imported `keras` got a deadlock error, a half-initialised
module, or modules run twice ("Registering two gradient with name 'ReduceDataset'!"). The app imports it in
the background (core.training.prepare_training) while a page may ask for it too, so every entry point that can be
the first to need TensorFlow in a thread asks here (code that runs after one of them may import it plainly).
"""

from __future__ import annotations

import threading

_first_import = threading.Lock()


def keras():
    with _first_import:
        import keras
    return keras
