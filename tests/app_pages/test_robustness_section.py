"""Issue 12 on the pages: the Robustness section of Compare and Study, from stored (fake-trained) models."""

from core.robustness import CACHE_FILE
from core.runs import RunStore
from tests.app_pages.conftest import open_page, texts
from tests.app_pages.test_links import open_link


def robustness_charts(app) -> int:
    return sum(1 for chart in app.get("plotly_chart") if '"title":{"text":"' in chart.proto.spec
               and any(f'"text":"{name}"' in chart.proto.spec for name in ("Shift", "Rotate", "Scale", "Noise",
                                                                            "Elastic")))


def trained(app):
    for key, value in (("sample_size", 100), ("epochs", 1)):
        app.number_input(key=key).set_value(value).run()
    return app.button(key="train").click().run()


def test_robustness_is_measured_on_request_then_kept_beside_the_runs(fake_trainer):
    app = trained(open_page())
    assert not app.exception and robustness_charts(app) == 0
    app.button(key="measure_robustness").click().run()
    assert not app.exception
    assert robustness_charts(app) == 4
    assert any(text.startswith("Shifted by 3 pixels: flat") for text in texts(app.markdown))
    assert len(app.get("image")) >= 2  # the mistakes gallery and the level-by-level strip
    store = RunStore()
    assert all((store.backend.folder(row["run_id"]) / CACHE_FILE).exists() for row in store.list_runs())


def test_a_measured_comparison_opens_with_its_robustness_without_loading_a_model(fake_trainer, monkeypatch):
    trained(open_page()).button(key="measure_robustness").click().run()
    from core.runs import jobs

    def no_model(*args):
        raise AssertionError("the model was loaded although the robustness is stored")

    monkeypatch.setattr(jobs, "worker_model", no_model)
    again = open_link({"size": "100", "epochs": "1"})
    assert not again.exception
    assert robustness_charts(again) == 4
    assert "measure_robustness" not in [button.key for button in again.button]


def test_another_perturbation_asks_to_measure_again(fake_trainer):
    app = trained(open_page())
    app.button(key="measure_robustness").click().run()
    app.session_state["robustness_perturbations"] = ["shift", "elastic"]
    app.run()
    assert not app.exception
    assert "measure_robustness" in [button.key for button in app.button]
    app.button(key="measure_robustness").click().run()
    assert robustness_charts(app) == 2


def test_the_study_shows_robustness_over_seeds(fake_trainer):
    params = {"sizes": "100", "seeds": "2", "epochs": "1", "networks": "flat,conv"}
    app = open_link(params, "app_pages/study.py")
    app.button(key="run_study").click().run()
    assert robustness_charts(app) == 0
    app.button(key="study_measure_robustness").click().run()
    assert not app.exception
    assert robustness_charts(app) == 4
    assert any("Trained with the student recipe" in text for text in texts(app.caption))


def test_a_run_deleted_while_its_robustness_is_measured_is_a_warning_not_a_traceback(fake_trainer, monkeypatch):
    """Measuring takes a worker seconds: meanwhile another session deletes the runs (Runs page), so the worker
    finds no model to load."""
    import core.robustness

    app = trained(open_page())
    measure_in_worker = core.robustness.predicted_labels_in_worker

    def deleted_meanwhile(dataset, store_root, run_id, *args, **kwargs):
        RunStore(store_root).delete(run_id)
        return measure_in_worker(dataset, store_root, run_id, *args, **kwargs)

    monkeypatch.setattr(core.robustness, "predicted_labels_in_worker", deleted_meanwhile)
    app.button(key="measure_robustness").click().run()
    assert not app.exception
    assert any("no longer in the store" in text for text in texts(app.warning))
    assert robustness_charts(app) == 0
