"""UTKFace and FairFace importers on generated fixture trees, malformed cases included."""

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from training.composition import CompositionError, available, plan, sample
from training.importers.fairface import import_fairface
from training.importers.utkface import import_utkface
from training.models import Dataset, DatasetImage


def face(path: Path, color=(180, 140, 120)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 64), color).save(path, quality=90)
    return path


@pytest.fixture
def utk_dir(tmp_path):
    d = tmp_path / "UTKFace"
    n = 0
    for race, count in enumerate([30, 12, 10, 8, 5]):
        for i in range(count):
            face(d / f"{20 + i}_{i % 2}_{race}_2017011617452{n:04d}.jpg.chip.jpg")
            n += 1
    face(d / "39_1_20170116174525125.jpg.chip.jpg")  # a real UTKFace quirk: race missing
    face(d / "61_1_9_20170109142408075.jpg")  # race code out of range
    (d / "25_0_1_20170116174525999.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")  # unreadable image
    (d / "README.txt").write_text("not an image")
    return d


@pytest.mark.django_db
def test_utkface_import_counts_and_skips(utk_dir, capsys):
    call_command("import_utkface", str(utk_dir))
    out = capsys.readouterr().out
    ds = Dataset.objects.get(key="utkface")
    assert ds.label_set.labels == ["White", "Black", "Asian", "Indian", "Others"]
    assert ds.images.count() == 65
    per_group = {g: ds.images.filter(label=g).count() for g in ds.label_set.labels}
    assert per_group == {"White": 30, "Black": 12, "Asian": 10, "Indian": 8, "Others": 5}
    assert ds.report["skipped"] == {
        "name is not age_gender_race_datetime": 2,
        "unreadable image": 1,
        "not an image file": 1,
    }
    assert set(ds.images.values_list("split", flat=True)) <= {"train", "test"}
    assert ds.images.filter(gender="female").exists() and ds.images.filter(age=20).exists()
    assert "White" in out and "skipped 1 (unreadable image)" in out
    # idempotent: a re-import creates no duplicates and keeps the same split for every file
    splits = dict(ds.images.values_list("path", "split"))
    call_command("import_utkface", str(utk_dir))
    assert ds.images.count() == 65 and dict(ds.images.values_list("path", "split")) == splits


@pytest.mark.django_db
def test_utkface_missing_or_empty_folder(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("import_utkface", str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="No usable UTKFace images"):
        call_command("import_utkface", str(tmp_path / "empty"))


RACES7 = ["White", "Black", "Latino_Hispanic", "East Asian", "Southeast Asian", "Indian", "Middle Eastern"]


def fairface_tree(tmp_path, *, per_race=3, mutate=None):
    d = tmp_path / "fairface"
    files = {}
    for split in ("train", "val"):
        rows = []
        for r, race in enumerate(RACES7):
            for i in range(per_race):
                name = f"{split}/{r * 10 + i}.jpg"
                face(d / name)
                rows.append(
                    {
                        "file": name,
                        "age": "20-29",
                        "gender": "Female" if i % 2 else "Male",
                        "race": race,
                        "service_test": "True",
                    }
                )
        if mutate:
            rows = mutate(split, rows)
        path = tmp_path / f"fairface_label_{split}.csv"
        fields = list(rows[0].keys())
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        files[split] = path
    return d, files["train"], files["val"]


@pytest.mark.django_db
def test_fairface_seven_and_merged_six(tmp_path):
    d, train, val = fairface_tree(tmp_path)
    report = import_fairface(d, train_labels=train, val_labels=val)
    seven = report.dataset
    assert seven.label_set.labels == RACES7 and seven.images.count() == 42
    assert seven.images.filter(split="train").count() == 21 and seven.images.filter(split="test").count() == 21
    call_command("import_fairface", str(d), "--train-labels", str(train), "--val-labels", str(val), "--merge-asian")
    six = Dataset.objects.get(key="fairface-6")
    assert six.label_set.labels == ["White", "Black", "Latino_Hispanic", "Asian", "Indian", "Middle Eastern"]
    assert six.images.filter(label="Asian", split="train").count() == 6
    call_command("import_fairface", str(d), "--train-labels", str(train), "--val-labels", str(val), "--merge-asian")
    assert six.images.count() == 42  # re-import: no duplicates


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mutate,message",
    [
        (
            lambda split, rows: [{k: v for k, v in r.items() if k != "race"} for r in rows],
            "fairface_label_train.csv line 1: missing column(s) race",
        ),
        (
            lambda split, rows: rows[:4] + [{**rows[4], "race": "Martian"}] + rows[5:] if split == "val" else rows,
            "fairface_label_val.csv line 6: unknown race 'Martian'",
        ),
        (
            lambda split, rows: rows + [{**rows[0], "file": "train/missing.jpg"}] if split == "train" else rows,
            "fairface_label_train.csv line 23: file 'train/missing.jpg' not found",
        ),
    ],
)
def test_broken_fairface_csv_names_the_line_and_imports_nothing(tmp_path, mutate, message):
    d, train, val = fairface_tree(tmp_path, mutate=mutate)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("import_fairface", str(d), "--train-labels", str(train), "--val-labels", str(val))
    assert not DatasetImage.objects.exists() and not Dataset.objects.exists()


@pytest.mark.django_db
def test_composition_counts_are_exact_and_shortfalls_are_reported(utk_dir):
    ds = import_utkface(utk_dir).dataset
    avail = available(ds)
    assert sum(avail.values()) == ds.images.filter(split="train").count()
    ids, counts = sample(ds, {"kind": "balanced", "per_group": min(avail.values())}, seed=1)
    assert len(ids) == len(set(ids)) == 5 * min(avail.values())
    got = dict.fromkeys(counts, 0)
    for label in DatasetImage.objects.filter(id__in=ids).values_list("label", flat=True):
        got[label] += 1
    assert got == counts
    assert sample(ds, {"kind": "balanced", "per_group": 2}, seed=1) == sample(
        ds, {"kind": "balanced", "per_group": 2}, seed=1
    )
    assert sample(ds, {"kind": "balanced", "per_group": 2}, seed=1) != sample(
        ds, {"kind": "balanced", "per_group": 2}, seed=2
    )

    k = plan({"kind": "k_times", "majority": "White", "k": 10}, avail)
    minority = min(min(n for g, n in avail.items() if g != "White"), avail["White"] // 10)
    assert k["achievable"] and k["counts"]["White"] == 10 * minority and k["counts"]["Black"] == minority
    too_many = plan({"kind": "k_times", "majority": "White", "k": 10, "per_minority": 50}, avail)
    assert not too_many["achievable"]
    assert f"10x White allows about {minority:,} of each other group" in too_many["message"]
    with pytest.raises(CompositionError, match="Not achievable"):
        sample(ds, {"kind": "balanced", "per_group": 1000})
    capped = plan({"kind": "cap", "cap": 6}, avail)
    assert capped["counts"] == {g: min(6, n) for g, n in avail.items()} and capped["achievable"]
    explicit = plan({"kind": "counts", "counts": {"White": 3, "Black": 2}}, avail)
    assert explicit["counts"] == {"White": 3, "Black": 2, "Asian": 0, "Indian": 0, "Others": 0}
    with pytest.raises(CompositionError, match="Unknown group"):
        plan({"kind": "counts", "counts": {"Martian": 1}}, avail)


@pytest.mark.django_db
def test_mlp_pair_on_an_imported_dataset(utk_dir, capsys):
    import_utkface(utk_dir)
    call_command("train_mlp_pair", "--dataset", "utkface", "--majority", "White", "-k", "2", "--size", "16")
    out = capsys.readouterr().out
    from inference.models import ModelVersion

    bal = ModelVersion.objects.get(key="utkface-mlp-balanced")
    unb = ModelVersion.objects.get(key="utkface-mlp-unbalanced")
    assert len(set(bal.composition.values())) == 1
    assert unb.composition["White"] == 2 * unb.composition["Black"]
    assert not bal.synthetic and bal.input_spec["size"] == 16 and bal.input_spec["mode"] == "gray"
    assert bal.metrics["per_group"]["White"]["n"] == DatasetImage.objects.filter(split="test", label="White").count()
    assert "utkface-mlp-balanced" in out and "Held-out accuracy per group" in out
    with pytest.raises(CommandError, match="Not achievable"):
        call_command("train_mlp_pair", "--dataset", "utkface", "--per-group", "500")


@pytest.mark.django_db
def test_vgg_head_on_imported_fairface(tmp_path):
    from inference.models import ModelVersion
    from tests.vgg_files import TINY

    d, train, val = fairface_tree(tmp_path)
    call_command("import_fairface", str(d), "--train-labels", str(train), "--val-labels", str(val), "--merge-asian")
    call_command(
        "train_vgg_head",
        "--dataset",
        "fairface-6",
        "--per-group",
        "3",
        "--width",
        str(TINY),
        "--epochs",
        "2",
        "--key",
        "ff-head",
    )
    mv = ModelVersion.objects.get(key="ff-head")
    assert mv.label_set.labels[3] == "Asian" and mv.composition == dict.fromkeys(mv.label_set.labels, 3)
    assert mv.composition["Asian"] == 3 and not mv.synthetic
    assert mv.metrics["per_group"]["Asian"]["n"] == 6  # East + Southeast Asian held-out images
    with pytest.raises(CommandError, match="Not achievable"):
        call_command("train_vgg_head", "--dataset", "fairface-6", "--per-group", "99", "--width", str(TINY))
