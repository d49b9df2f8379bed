"""Issue 37 item 5: runs opened from the Runs page are what Compare describes and what its address shares. The
address names them (runs=ID,ID); a fresh session opening it sees exactly them; a setting changed goes back to
the settings' runs and the address follows."""

from core.config import TrainConfig
from core.runs import RunStore
from tests.app_pages.conftest import open_page, texts
from tests.app_pages.test_links import open_link
from tests.fakes import service


def shuffled_and_drawn_conv(digits, trainer) -> list:
    store = RunStore()
    return [service(store, trainer).get_or_train(TrainConfig(architecture="conv", sample_size=300, num_epochs=3,
                                                             pixels=pixels), digits).run
            for pixels in ("drawn", "shuffled")]


def test_open_in_compare_puts_the_runs_in_the_address_and_the_page_describes_them(fake_trainer, digits):
    runs = shuffled_and_drawn_conv(digits, fake_trainer)
    app = open_page("app_pages/runs.py")
    app.multiselect(key="chosen_runs").set_value([run.run_id for run in runs]).run()
    app.button(key="open_runs").click().run()
    assert not app.exception
    assert app.query_params["runs"] == ",".join(run.run_id for run in runs)
    intro = " ".join(texts(app.markdown))
    assert "These 2 stored runs were opened by their ids" in intro and "conv (shuffled)" in intro
    assert "size=1000" not in str(app.query_params) and "trains **flat" not in intro  # not the default settings
    assert any(text.startswith("Showing the 2 runs this address names") for text in texts(app.caption))
    assert len(fake_trainer.calls) == 2  # only the set-up trained


def test_the_address_reopens_exactly_those_runs_in_a_fresh_session(fake_trainer, digits):
    runs = shuffled_and_drawn_conv(digits, fake_trainer)
    app = open_link({"runs": ",".join(run.run_id for run in runs)})
    assert not app.exception
    assert sum("opened from the store" in text or "from cache" in text for text in texts(app.caption)) >= 2
    assert "conv (shuffled)" in " ".join(texts(app.markdown))
    assert app.query_params["runs"] == ",".join(run.run_id for run in runs)  # still naming exactly them


def test_a_changed_setting_goes_back_to_the_settings_runs_and_the_address_follows(fake_trainer, digits):
    runs = shuffled_and_drawn_conv(digits, fake_trainer)
    app = open_link({"runs": ",".join(run.run_id for run in runs)})
    app.number_input(key="epochs").set_value(2).run()
    assert not app.exception
    assert "runs" not in app.query_params and app.query_params["epochs"] == "2"
    assert "These 2 stored runs" not in " ".join(texts(app.markdown))


def test_a_runs_address_that_names_no_run_is_a_notice_and_the_settings_show(fake_trainer):
    app = open_link({"runs": "../../etc/passwd"})
    assert not app.exception
    assert any("This link's **runs** cannot be opened" in text for text in texts(app.warning))
    app = open_link({"runs": "0123456789abcdef"})  # well formed, not in this store
    assert not app.exception
    assert any("0123456789abcdef" in text and "no longer in the store" in text for text in texts(app.warning))
