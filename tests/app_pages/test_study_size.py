"""Issue 35/36: no study is too big to queue on a shared server. Over the caps it is refused with the reason; over
STUDY_ASK_MINUTES it waits for a confirmation and says how it shares the workers; a small one just runs."""

from tests.app_pages.conftest import open_page, texts
from tests.app_pages.test_links import open_link

EVERYTHING = {"networks": "flat,conv,flat-wide,conv-small,flat-dropout", "sizes": "100,300,1000,3000,10000,full",
              "seeds": "20", "epochs": "500"}  # the link: every network, six sizes, 20 seeds, 500 epochs


def test_a_study_over_the_servers_caps_is_refused_with_the_reason_and_cannot_be_queued(fake_trainer):
    app = open_link(EVERYTHING, "app_pages/study.py")
    assert not app.exception
    refusal = " ".join(texts(app.error))
    # 5 networks x 5 sizes of the 4,000-digit test pool (10,000 is beyond it) x 20 seeds
    assert "This study has 500 cells to train" in refusal and "STUDY_MAX_CELLS and STUDY_MAX_MINUTES" in refusal
    assert app.button(key="run_study").disabled
    assert fake_trainer.calls == []


def test_the_caps_are_the_servers_settings(fake_trainer, monkeypatch):
    monkeypatch.setenv("STUDY_MAX_CELLS", "1000")
    monkeypatch.setenv("STUDY_MAX_MINUTES", str(10**9))
    app = open_link(EVERYTHING, "app_pages/study.py")
    assert not texts(app.error)  # allowed now, but long: it asks first
    assert app.button(key="run_study").disabled
    assert any("takes turns with everybody else's requests" in text for text in texts(app.caption))


def test_a_long_study_asks_first_then_runs_once_confirmed(fake_trainer, monkeypatch):
    monkeypatch.setenv("STUDY_ASK_MINUTES", "0")  # every study asks
    app = open_page("app_pages/study.py")
    app.multiselect(key="study_sizes").set_value([100]).run()
    app.number_input(key="study_seeds").set_value(1).run()
    app.number_input(key="study_epochs").set_value(1).run()
    assert app.button(key="run_study").disabled and app.checkbox(key="study_confirm").label == \
        "Yes, queue 2 cells on this shared server"
    app.checkbox(key="study_confirm").check().run()
    app.button(key="run_study").click().run()
    assert not app.exception and len(fake_trainer.calls) == 2


def test_a_small_study_runs_without_asking(fake_trainer):
    app = open_page("app_pages/study.py")
    app.multiselect(key="study_sizes").set_value([100]).run()
    app.number_input(key="study_seeds").set_value(1).run()
    app.number_input(key="study_epochs").set_value(1).run()
    assert not app.checkbox and not app.button(key="run_study").disabled


def test_any_sample_size_from_the_smallest_to_the_pool_can_be_typed_or_linked(fake_trainer):
    """Issue 37 item 4: typing 200 gave "No results"; a link with sizes=100,200,300 dropped 200 saying it was not
    offered, though 200 is far below the pool. Any size a run accepts is kept, in order; a refusal names the reason."""
    app = open_link({"sizes": "300,200,100", "seeds": "1", "epochs": "1"}, "app_pages/study.py")
    assert not app.exception
    assert app.multiselect(key="study_sizes").value == [100, 200, 300]
    assert any("0 of 6 cells are stored" in text for text in texts(app.caption))
    app.multiselect(key="study_sizes").set_value([100, 200, 300, "250", "5", "lots", "9999"]).run()
    assert not app.exception
    assert app.multiselect(key="study_sizes").value == [100, 200, 250, 300]
    left_out = " ".join(text for text in texts(app.caption) if text.startswith("Left out"))
    assert "must be at least 10" in left_out and "lots" in left_out
    assert "larger than the 4,000 training images" in left_out
    app.button(key="run_study").click().run()
    assert sorted({config.sample_size for config in fake_trainer.calls}) == [100, 200, 250, 300]
