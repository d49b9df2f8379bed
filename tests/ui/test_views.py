from core.config import TrainConfig
from core.runs import StoredRun
from ui.compare_view import run_labels
from ui.runs_view import run_choice_label, runs_table


def stored(architecture="flat", **config):
    return StoredRun(config=TrainConfig(architecture=architecture, **config), history={}, train_seconds=1.0,
                     num_params=1, test_loss=0.1, test_accuracy=0.9, inference_ms_per_image=0.1, layers=[],
                     data_source="", data_key="k", num_validation=0, run_id=f"{architecture}{len(config)}abc")


def test_labels_are_architectures_when_those_differ():
    assert run_labels([stored("flat"), stored("conv")]) == ["flat", "conv"]


def test_labels_name_what_else_differs_when_architectures_repeat():
    labels = run_labels([stored("conv", sample_size=100), stored("conv", sample_size=1000), stored("flat")])
    assert labels == ["conv · 100 images", "conv · 1,000 images", "flat · 1,000 images"]


def test_runs_table_has_readable_sortable_columns():
    row = {"run_id": "abc", "dataset": "mnist", "architecture": "conv", "sample_size": 1000, "num_epochs": 12,
           "batch_size": 32, "seed": 0, "optimizer": "adam", "learning_rate": 0.001, "test_accuracy": 0.947,
           "test_loss": 0.2, "train_seconds": 9.0, "trained_at": "2026-11-26T12:00:00+00:00", "size_bytes": 10}
    table = runs_table([row])
    assert table.loc[0, "images"] == 1000 and str(table["trained at"].dtype).startswith("datetime64")
    assert run_choice_label(row) == "conv · mnist · 1,000 images · 12 epochs · seed 0 · 94.7% · abc"
    assert run_choice_label({**row, "recipe": "student", "precision": "bfloat16"}) == \
        "conv · mnist · 1,000 images · 12 epochs · seed 0 · bfloat16 · 94.7% · abc"
    assert list(runs_table([{**row, "recipe": "improved", "precision": "float32"}]).loc[0, ["recipe", "precision"]]) \
        == ["improved", "float32"]
    shuffled = {**row, "config_json": '{"pixels": "shuffled"}'}
    assert run_choice_label(shuffled) \
        == "conv (shuffled) · mnist · 1,000 images · 12 epochs · seed 0 · 94.7% · abc"  # the network's one name
    assert list(runs_table([row, shuffled])["pixels"]) == ["drawn", "shuffled"]
    assert list(runs_table([row, shuffled])["network"]) == ["conv", "conv (shuffled)"]


def test_live_curves_redraw_at_most_every_interval_and_after_each_runs_last_epoch_but_the_last_runs(monkeypatch):
    from core.records import EpochReport
    from ui import progress

    clock, draws = [100.0], []

    def draw(self):
        draws.append({label: list(history.get("accuracy", [])) for label, history in self.histories.items()})
        self._drawn_at = clock[0]

    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(progress.LiveCurves, "_draw", draw)
    monkeypatch.setattr(progress.LiveCurves, "LIVE_SECONDS", 1.0)
    curves = progress.LiveCurves(placeholder=None, num_epochs=3, last="conv")  # conv: the comparison draws it
    assert draws == [{}]  # drawn empty at once: the browser loads the charts' code before the first epoch
    seen = []
    for label in ("flat", "conv"):
        report = curves.reporter(label, then=seen.append)
        for epoch in (1, 2, 3):
            clock[0] += 0.6
            report(EpochReport(epoch, 3, {"accuracy": epoch / 10, "val_accuracy": epoch / 20}, 0.6))
    assert len(seen) == 6  # the progress bar still gets every epoch
    assert draws[1:] == [{"flat": [0.1, 0.2]},  # 1.2 s after the first draw
                         {"flat": [0.1, 0.2, 0.3]},  # flat's last epoch, 0.6 s later
                         {"flat": [0.1, 0.2, 0.3], "conv": [0.1, 0.2]}]  # 1.2 s later; not conv's last epoch
