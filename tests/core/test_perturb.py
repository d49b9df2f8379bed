"""Each perturbation pinned on real digits: identity at level 0, shifts move the centre of mass exactly, rotation
and scaling keep the ink where it should be, the same seed gives the same images."""

import numpy as np
import pytest
from scipy import ndimage

from core import perturb
from core.perturb import DIRECTIONS, PERTURBATIONS, perturbed


@pytest.fixture(scope="module")
def images(digits):
    return digits.x_test[:200]


def centres(images):
    return np.array([ndimage.center_of_mass(image.astype(float)) for image in images])


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_the_first_level_is_the_identity(images, name):
    identity = PERTURBATIONS[name].levels[0]
    out = perturbed(images, name, identity)
    assert out.dtype == np.uint8 and np.array_equal(out, images) and out is not images


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_the_same_seed_gives_the_same_images_and_another_seed_others(images, name):
    level = PERTURBATIONS[name].levels[2]
    first, again = perturbed(images, name, level, seed=3), perturbed(images, name, level, seed=3)
    assert np.array_equal(first, again) and first.shape == images.shape and first.dtype == np.uint8
    assert not np.array_equal(first, images)
    if name != "scale":  # scaling draws nothing at random
        assert not np.array_equal(first, perturbed(images, name, level, seed=4))


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_a_digit_is_perturbed_the_same_alone_or_in_the_whole_set(images, name):
    """Randomness is drawn digit by digit: the picture of digit i matches what the evaluation predicted on."""
    level = PERTURBATIONS[name].levels[-1]
    whole = perturbed(images, name, level, seed=1)
    assert np.array_equal(perturbed(images[:50], name, level, seed=1), whole[:50])
    assert np.array_equal(perturb.perturbed_one(images, 123, name, level, seed=1), whole[123])


@pytest.mark.parametrize("pixels", [1, 2, 3, 4])
@pytest.mark.parametrize("direction", range(8))
def test_a_shift_by_k_moves_the_centre_of_mass_by_k_pixels(images, pixels, direction):
    shifted = perturb.shift(images, pixels, direction=direction)
    kept = shifted.sum(axis=(1, 2)) == images.sum(axis=(1, 2))  # digits whose ink stayed inside the frame
    assert kept.sum() >= 100  # at 4 pixels some digits touch the edge: they are checked by the rest
    moved = centres(shifted[kept]) - centres(images[kept])
    np.testing.assert_allclose(moved, np.broadcast_to(DIRECTIONS[direction] * pixels, moved.shape), atol=1e-9)


def test_random_directions_use_all_eight(images):
    moved = np.rint(centres(perturb.shift(images, 1, seed=0)) - centres(images)).astype(int)
    assert {tuple(step) for step in moved} == {tuple(step) for step in DIRECTIONS}


@pytest.mark.parametrize("degrees", [10, 30, 45])
def test_rotation_keeps_the_ink_mass_and_its_centre(images, degrees):
    rotated = perturb.rotate(images, degrees)
    ratio = rotated.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert abs(ratio.mean() - 1) < 0.01 and ratio.min() > 0.95
    centre = np.array([13.5, 13.5])  # rotation about the image centre keeps distances to it
    distance = np.linalg.norm(centres(images) - centre, axis=1)
    np.testing.assert_allclose(np.linalg.norm(centres(rotated) - centre, axis=1), distance, atol=0.35)


def test_rotation_turns_the_ink_by_the_angle(digits):
    """A one-pixel dot two rows above the centre, turned by 90 degrees, lands two columns beside it."""
    dot = np.zeros((1, 28, 28), dtype=np.uint8)
    dot[0, 11, 13:15] = 255  # rows 11 (centre 13.5 - 2.5), columns 13-14 (centred)
    turned = perturb.rotate(dot, 90, seed=0)
    row, column = ndimage.center_of_mass(turned[0].astype(float))
    assert row == pytest.approx(13.5, abs=0.01) and abs(column - 13.5) == pytest.approx(2.5, abs=0.01)


@pytest.mark.parametrize("factor", [0.6, 0.8, 1.2, 1.4])
def test_scaling_scales_the_ink_mass_by_the_area_and_the_spread_by_the_factor(images, factor):
    scaled = perturb.scale(images, factor)
    mass = scaled.sum(axis=(1, 2)).astype(float) / images.sum(axis=(1, 2))
    assert np.median(mass) == pytest.approx(factor**2, rel=0.1)

    def spread(batch):
        rows = np.arange(28)[None, :, None]
        weights = batch.astype(float) / batch.sum(axis=(1, 2), keepdims=True)
        centre = (weights * rows).sum(axis=(1, 2), keepdims=True)
        return np.sqrt((weights * (rows - centre) ** 2).sum(axis=(1, 2)))

    kept = scaled[:, [0, -1], :].sum(axis=(1, 2)) == 0  # grown digits that still fit the frame
    assert np.median(spread(scaled[kept]) / spread(images[kept])) == pytest.approx(factor, rel=0.05)


def test_noise_has_the_asked_spread_on_the_background(images):
    noisy = perturb.noise(images, 0.2)
    background = images == 0
    # on the background, negative noise clips to 0: the positive half is a half-normal of sigma 0.2 * 255
    positive = noisy[background & (noisy > 0)].astype(float)
    assert np.sqrt((positive**2).mean()) == pytest.approx(0.2 * 255, rel=0.05)


def test_an_elastic_distortion_moves_ink_by_at_most_its_strength(images):
    distorted = perturb.elastic(images, 2)
    assert np.abs(centres(distorted) - centres(images)).max() < 2.0
    assert not np.array_equal(distorted, images)


@pytest.mark.parametrize("call, message", [
    (lambda x: perturb.shift(x, 30), "A shift is 0 to 27"), (lambda x: perturb.rotate(x, -5), "0 to 180"),
    (lambda x: perturb.scale(x, 0), "0.2 to 3"), (lambda x: perturb.noise(x, 2), "0 to 1"),
    (lambda x: perturb.shift(x.astype(float), 1), "uint8 images"),
    (lambda x: perturb.check_perturbations(["blur"]), "Unknown perturbation blur"),
])
def test_bad_levels_and_inputs_are_value_errors(images, call, message):
    with pytest.raises(ValueError, match=message):
        call(images)
