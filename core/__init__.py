"""The dashboard's core: data, architectures, training, evaluation, the run store and the CLI.

Pure Python, numpy and Keras; never imports streamlit. TensorFlow is imported only where a model is
built, trained or loaded, so that reading the store stays fast.
"""

import logging
import os

# TensorFlow's C++ start-up chatter (oneDNN and CPU-feature notices) is noise for our users.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# tf.function retracing notices appear once per newly built model (every run builds one): noise here.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
