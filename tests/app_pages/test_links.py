"""Issue 14 item 5: Compare and Study keep their choices in the address; a shared address reopens them."""

from streamlit.testing.v1 import AppTest

from tests.app_pages.conftest import APP, TIMEOUT, open_page, texts

SMALL = {"size": "100", "epochs": "2", "seed": "4", "networks": "flat,conv"}


def open_link(params: dict, page: str | None = None) -> AppTest:
    """A new session opening an address with these query values (as a browser opening a shared link)."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(params)
    if page:
        app.switch_page(page)
    return app.run()


def train_small(app) -> AppTest:
    for key, value in (("sample_size", 100), ("epochs", 2), ("seed", 4)):
        app.number_input(key=key).set_value(value).run()
    return app.button(key="train").click().run()


def test_the_address_mirrors_the_compare_choices(fake_trainer):
    app = open_page()
    assert app.query_params["size"] == "1000" and app.query_params["networks"] == "flat,conv"
    app.number_input(key="sample_size").set_value(300).run()
    app.multiselect(key="architectures").set_value(["conv"]).run()
    assert app.query_params["size"] == "300" and app.query_params["networks"] == "conv"


def test_a_shared_compare_link_shows_the_stored_comparison_without_training(fake_trainer):
    train_small(open_page())
    assert len(fake_trainer.calls) == 2
    app = open_link(SMALL)
    assert not app.exception
    assert app.number_input(key="sample_size").value == 100 and app.number_input(key="seed").value == 4
    assert sum("from cache" in text for text in texts(app.caption)) == 2  # shown, opened from the store
    assert len(fake_trainer.calls) == 2  # nothing trained
    assert not any("not stored" in text for text in texts(app.info))


def test_a_link_to_runs_this_server_lacks_waits_for_train(fake_trainer):
    app = open_link({**SMALL, "seed": "9"})
    assert not app.exception and fake_trainer.calls == []
    assert any(text.startswith("2 of the 2 runs of this link are not stored") for text in texts(app.info))
    app.button(key="train").click().run()
    assert [config.seed for config in fake_trainer.calls] == [9, 9]


def test_bad_values_in_a_link_fall_back_to_the_defaults_with_a_notice(fake_trainer):
    app = open_link({"size": "many", "epochs": "1e20", "seed": "-1", "dataset": "cifar", "networks": "nope,conv",
                     "arithmetic": "fp8"})
    assert not app.exception
    notice = texts(app.warning)[0]
    for label in ("Training images", "Epochs", "Seed", "Dataset", "Architectures", "Arithmetic"):
        assert f"**{label}**" in notice
    assert "'nope' is not a network this app knows" in notice
    assert app.number_input(key="sample_size").value == 1000 and app.number_input(key="epochs").value == 12
    assert app.multiselect(key="architectures").value == ["flat", "conv"]
    assert fake_trainer.calls == []


def test_a_size_above_this_servers_pool_is_brought_into_range_with_a_notice(fake_trainer):
    app = open_link({"size": "60000"})
    assert not app.exception
    assert app.number_input(key="sample_size").value == 4000  # the offline pool
    assert any("60,000 is outside 10 to 4,000" in text for text in texts(app.caption))


def test_a_link_is_read_once_then_the_widgets_own_the_values(fake_trainer):
    app = open_link(SMALL)
    app.number_input(key="sample_size").set_value(300).run()
    app.switch_page("app_pages/data.py").run()
    app.switch_page("app_pages/compare.py").run()
    assert app.number_input(key="sample_size").value == 300


def test_a_shared_study_link_reopens_the_study_from_the_store(fake_trainer):
    params = {"sizes": "100", "seeds": "2", "epochs": "1", "networks": "flat,conv", "pairs": "conv:flat"}
    first = open_link(params, "app_pages/study.py")
    assert first.multiselect(key="study_sizes").value == [100] and first.number_input(key="study_seeds").value == 2
    first.button(key="run_study").click().run()
    assert len(fake_trainer.calls) == 4

    again = open_link(params, "app_pages/study.py")
    assert not again.exception and len(fake_trainer.calls) == 4
    assert "conv − flat: conv is better by more than 2 points at 100 images." in texts(again.info)[0]
    assert again.query_params["sizes"] == "100" and again.query_params["pairs"] == "conv:flat"


def test_a_study_link_with_a_bad_pair_keeps_the_page_working(fake_trainer):
    app = open_link({"pairs": "conv", "margin": "nan", "seeds": "99"}, "app_pages/study.py")
    assert not app.exception
    notice = texts(app.warning)[0]
    assert "**Differences to test**" in notice and "**H2 margin**" in notice and "**Seeds**" in notice
    assert app.number_input(key="study_seeds").value == 3


def test_a_study_link_with_sizes_this_server_does_not_offer_says_which_were_left_out(fake_trainer):
    app = open_link({"sizes": "60,100,50000"}, "app_pages/study.py")
    assert not app.exception
    assert app.multiselect(key="study_sizes").value == [60, 100]  # any size from 10 to the pool is a size
    assert any(text.startswith("Left out: Sample size 50,000 is larger than the 4,000 training images")
               for text in texts(app.caption))


def test_links_carry_the_pixels(fake_trainer):
    app = open_link({**SMALL, "pixels": "shuffled"})
    assert not app.exception and app.selectbox(key="pixels").value == "shuffled"
    assert app.query_params["pixels"] == "shuffled"
    study = open_link({"pixels": "drawn,shuffled"}, "app_pages/study.py")
    assert study.multiselect(key="study_pixels").value == ["drawn", "shuffled"]
    assert study.query_params["pixels"] == "drawn,shuffled"
    bad = open_link({"pixels": "sorted"})
    assert not bad.exception and "**Pixels**: must be one of drawn, shuffled, not 'sorted'" in texts(bad.warning)[0]
    assert bad.selectbox(key="pixels").value == "drawn"


STUDY_LINK = {"sizes": "100", "seeds": "1", "epochs": "2", "networks": "flat,conv"}


def test_a_study_link_keeps_a_pair_given_the_other_way_round(fake_trainer):
    """Issue 28 item 11: pairs=flat:conv was rewritten to pairs= with no notice, and H2 had nothing to compare."""
    app = open_link({**STUDY_LINK, "seeds": "2", "pairs": "flat:conv"}, "app_pages/study.py")
    assert not app.exception and not app.warning
    assert app.multiselect(key="study_pairs").value == [("flat", "conv")]
    assert app.query_params["pairs"] == "flat:conv"
    app.button(key="run_study").click().run()
    assert not app.exception and len(fake_trainer.calls) == 4
    assert "conv − flat: conv is better by more than 2 points at 100 images." in texts(app.info)[0]  # turned round
    assert app.table[1].value.loc[0, "flat − conv (H2)"].startswith("**conv better**  \n-")
    assert app.query_params["pairs"] == "flat:conv"


def test_a_study_link_repeating_a_network_keeps_it_once_with_a_notice(fake_trainer):
    app = open_link({**STUDY_LINK, "networks": "flat,conv,flat"}, "app_pages/study.py")
    assert not app.exception
    assert app.multiselect(key="study_architectures").value == ["flat", "conv"]
    assert "**Architectures**: 'flat' was given more than once; each is used once." in texts(app.warning)[0]
    assert app.query_params["networks"] == "flat,conv"
    compare = open_link({"networks": "conv,conv"})
    assert not compare.exception and compare.multiselect(key="architectures").value == ["conv"]
    assert "given more than once" in texts(compare.warning)[0]


def test_a_study_links_pair_brings_its_network_into_the_study_with_a_notice(fake_trainer):
    app = open_link({**STUDY_LINK, "pairs": "conv:flat-wide,conv (shuffled):conv"}, "app_pages/study.py")
    assert not app.exception
    assert app.multiselect(key="study_architectures").value == ["flat", "conv", "flat-wide"]
    assert app.multiselect(key="study_pixels").value == ["drawn", "shuffled"]  # as the CLI's --pairs does
    assert app.multiselect(key="study_pairs").value == [("conv", "flat-wide"), ("conv (shuffled)", "conv")]
    assert "flat-wide joins the study's architectures" in texts(app.warning)[0]


def test_a_study_link_pair_that_cannot_be_used_gives_a_notice_and_the_suggested_pairs(fake_trainer):
    for pairs, reason in (("conv:nope", "'conv:nope' names a network this app does not know"),
                          ("conv:conv", "must compare two different networks"),
                          ("conv", "must be FIRST:SECOND")):
        app = open_link({**STUDY_LINK, "pairs": pairs}, "app_pages/study.py")
        assert not app.exception
        assert reason in texts(app.warning)[0] and "**Differences to test**" in texts(app.warning)[0]
        assert app.multiselect(key="study_pairs").value == [("conv", "flat")]  # the suggested pair
        assert app.multiselect(key="study_architectures").value == ["flat", "conv"]


def test_full_in_a_link_means_the_whole_pool(fake_trainer):
    app = open_link({"size": "full"})
    assert not app.exception and not app.warning
    assert app.number_input(key="sample_size").value == 4000  # the offline pool
    study = open_link({"sizes": "100,full"}, "app_pages/study.py")
    assert not study.exception and study.multiselect(key="study_sizes").value == [100, 4000]


def test_the_study_compare_links_to_opens_with_its_settings(fake_trainer):
    """Issue 37 item 1: Compare's answer links to the study that would settle it (the matching preset's networks,
    the sizes around the one compared, three seeds, the runs' epochs)."""
    from urllib.parse import parse_qsl

    from core.answers import settling_study, study_query
    from core.config import TrainConfig

    study = settling_study([TrainConfig(architecture="flat", sample_size=300, num_epochs=2, pixels="shuffled"),
                            TrainConfig(architecture="conv", sample_size=300, num_epochs=2, pixels="shuffled")], 4000)
    app = open_link(dict(parse_qsl("&".join(f"{key}={value}" for key, value in study_query(study).items()))),
                    "app_pages/study.py")
    assert not app.exception and not app.warning
    assert app.multiselect(key="study_sizes").value == [100, 300, 1000]
    assert app.number_input(key="study_seeds").value == 3 and app.number_input(key="study_epochs").value == 2
    assert app.multiselect(key="study_architectures").value == ["flat", "conv"]
    assert app.multiselect(key="study_pixels").value == ["drawn", "shuffled"]
