"""The Data page's views: a sample's class balance, a grid of digits, one digit read two ways."""

from __future__ import annotations

import numpy as np
import streamlit as st

from core import pixels
from core.data import Dataset, stratified_sample
from ui import plots

GRID_SIZE = 24
SHUFFLED_SHOWN = 8


def show_sample(dataset: Dataset, sample_size: int, seed: int) -> None:
    index = stratified_sample(dataset.y_train, sample_size, seed=seed)
    counts = np.bincount(dataset.y_train[index], minlength=len(dataset.class_names))
    st.subheader("Class balance of the sample")
    st.caption(f"{sample_size:,} training images drawn with seed {seed}: every class gets the same share "
               f"(to within one image) as long as the pool has enough of it.")
    st.plotly_chart(plots.class_balance(counts, dataset.class_names), key="class_balance")

    st.subheader("Random digits from the sample")
    shown = index[:GRID_SIZE]
    images = [np.kron(dataset.x_train[i], np.ones((3, 3), dtype=np.uint8)) for i in shown]
    st.image(images, caption=[dataset.class_names[dataset.y_train[i]] for i in shown], width=84)

    show_shuffled(dataset, shown[:SHUFFLED_SHOWN])

    st.subheader("One image, read two ways")
    position = st.slider("Which of the digits above", 1, len(shown), 1, key="data_digit")
    image = dataset.x_train[shown[position - 1]]
    name = dataset.class_names[dataset.y_train[shown[position - 1]]]
    left, right = st.columns(2)
    left.plotly_chart(plots.digit_image(image, f"“{name}” as 28×28 pixels: what the conv net reads"),
                      key="digit_image")
    right.plotly_chart(plots.digit_vector(image, f"“{name}” as 784 numbers: what the flat net reads"),
                       key="digit_vector")


def show_shuffled(dataset: Dataset, index) -> None:
    """The same digits as drawn and with their pixels shuffled (the one permutation every shuffled run uses)."""
    st.subheader("As drawn and with the pixels shuffled")
    st.caption(f"{pixels.HELP} To a flat network the two rows are the same problem: it reads 784 numbers either way. "
               f"The permutation is drawn once from seed {pixels.PERMUTATION_SEED} (core/pixels.py).")
    enlarge = np.ones((3, 3), dtype=np.uint8)
    drawn = dataset.x_train[index]                                  # (num_shown, 28, 28)
    shuffled = pixels.arrange(drawn, pixels.SHUFFLED)
    captions = [dataset.class_names[label] for label in dataset.y_train[index]]
    left, right = st.columns(2)
    left.markdown("**As drawn**")
    left.image([np.kron(image, enlarge) for image in drawn], caption=captions, width=60)
    right.markdown("**Shuffled**")
    right.image([np.kron(image, enlarge) for image in shuffled], caption=captions, width=60)
