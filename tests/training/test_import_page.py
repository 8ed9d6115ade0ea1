"""Real models without a shell: the operator's "Models and data" page lists the import folder,
recognises each kind, and imports through a job with the command-line importers' checks."""

import shutil
import tarfile

import pytest
from django.urls import reverse

from inference.models import BaseWeights, ModelVersion
from tests import factories
from tests.training.test_importers import face, fairface_tree
from tests.vgg_files import write_legacy_file
from training.models import Dataset, TrainingJob
from training.services.jobs import run_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_registry")]


@pytest.fixture
def import_dir(tmp_path, settings):
    folder = tmp_path / "import"
    utk = folder / "UTKFace"
    for race in range(5):
        for i in range(8):
            face(utk / f"{20 + i}_{i % 2}_{race}_20170116174525{race}{i:02d}.jpg.chip.jpg")
    face(utk / "61_1_9_20170109142408075.jpg")  # race code out of range: skipped, with the reason
    with tarfile.open(folder / "UTKFace.tar.gz", "w:gz") as tar:
        tar.add(utk, arcname="UTKFace")
    d, train, val = fairface_tree(tmp_path / "ff", per_race=3)
    shutil.move(d, folder / "fairface")
    shutil.move(train, folder / "fairface" / "fairface_label_train.csv")
    shutil.move(val, folder / "fairface" / "fairface_label_val.csv")
    write_legacy_file(folder / "race_model_single_batch.h5", 6)
    (folder / "notes.txt").write_text("not for import")
    settings.IMPORT_DIR = str(folder)
    return folder


@pytest.fixture
def operator(client):
    user = factories.TeacherFactory(is_staff=True)
    client.force_login(user)
    return user


def import_item(client, item: str, **extra) -> TrainingJob:
    response = client.post(reverse("models_and_data"), {"item": item, **extra})
    job = TrainingJob.objects.filter(kind="import").latest("created_at")
    assert response.status_code == 302 and response["Location"] == reverse("training_job", args=[job.public_id])
    run_job(job.pk)  # what the training worker does
    job.refresh_from_db()
    return job


def test_the_page_recognises_each_kind(client, operator, import_dir):
    page = client.get(reverse("models_and_data")).content.decode()
    for name, kind in (
        ("UTKFace", "UTKFace images"),
        ("UTKFace.tar.gz", "UTKFace archive"),
        ("fairface", "FairFace images and labels"),
        ("race_model_single_batch.h5", "Race model weights (complete model)"),
    ):
        assert f"<td>{name}</td>\n        <td>{kind}</td>" in page, name
    assert "<td>notes.txt</td>" in page and "Not a kind this page imports." in page
    assert 'value="asian,indian,black,white,middle eastern,latino hispanic"' in page


def test_datasets_and_a_race_model_are_imported_through_jobs(client, operator, import_dir):
    utk = import_item(client, "UTKFace")
    assert utk.status == "done", utk.error
    assert "Imported UTKFace: 40 images." in utk.message
    assert "skipped 1 (name is not age_gender_race_datetime)" in utk.message
    ff = import_item(client, "fairface", merge_asian="1")
    assert ff.status == "done", ff.error
    six = Dataset.objects.get(key="fairface-6")
    assert six.images.count() == 42 and "Asian" in ff.message
    race = import_item(
        client, "race_model_single_batch.h5", labels="asian,indian,black,white,middle eastern,latino hispanic"
    )
    assert race.status == "done", race.error
    assert race.result.label_set == six.label_set  # the FairFace-6 groups: comparable, and testable on its gallery
    job_page = client.get(reverse("training_job", args=[utk.public_id])).content.decode()
    assert "Imported UTKFace: 40 images." in job_page


def test_an_archive_is_unpacked_into_the_data_folder_and_imported(client, operator, import_dir, settings):
    job = import_item(client, "UTKFace.tar.gz")
    assert job.status == "done", job.error
    dataset = Dataset.objects.get(key="utkface")
    assert dataset.images.count() == 40 and str(settings.DATA_DIR) in dataset.root


def test_a_broken_import_stores_nothing_and_says_why(client, operator, import_dir):
    csv = import_dir / "fairface" / "fairface_label_val.csv"
    csv.write_text(csv.read_text().replace("Indian", "Martian", 1))
    job = import_item(client, "fairface", merge_asian="1")
    assert (
        job.status == "failed"
        and job.error.startswith("Nothing was imported.")
        and "unknown race 'Martian'" in job.error
    )
    assert not Dataset.objects.exists()
    page = client.get(reverse("training_job", args=[job.public_id])).content.decode()
    assert "unknown race &#x27;Martian&#x27;" in page


def test_only_operators_and_only_items_in_the_folder(client, import_dir):
    teacher = factories.TeacherFactory()
    client.force_login(teacher)
    assert client.get(reverse("models_and_data")).status_code == 404
    assert b"operator-link" not in client.get(reverse("training_jobs")).content
    operator = factories.TeacherFactory(is_staff=True)
    client.force_login(operator)
    assert b"operator-link" in client.get(reverse("training_jobs")).content
    response = client.post(reverse("models_and_data"), {"item": "../../etc"}, follow=True)
    assert "is not in the import folder" in response.content.decode() and not TrainingJob.objects.exists()
    assert not BaseWeights.objects.exists() and not ModelVersion.objects.exists()


def test_without_an_import_folder_the_page_says_how_to_set_one(client, operator, settings):
    settings.IMPORT_DIR = ""
    page = client.get(reverse("models_and_data")).content.decode()
    assert 'id="no-import-dir"' in page and "ETHITECH_IMPORT_DIR" in page


def test_a_model_trained_on_the_imported_photos_uses_mtcnn_and_its_card_says_where_faces_were_found(
    client, operator, import_dir
):
    from training.services.jobs import start_job

    import_item(client, "UTKFace")
    job = start_job(
        kind=TrainingJob.Kind.MLP,
        created_by=operator,
        params={
            "dataset": "utkface",
            "mix": {"kind": "balanced", "per_group": 4},
            "test_per_group": 2,
            "input": {"size": 16, "mode": "gray"},
            "key": "utk-mlp",
        },
    )
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    mv = job.result
    assert mv.input_spec["detector"] == "mtcnn"  # real photos: MTCNN unless asked otherwise
    assert all(0 <= g["face_found"] <= 1 for g in mv.metrics["per_group"].values())
    card = client.get(reverse("model_card", args=[mv.key])).content.decode()
    assert "Face found</th>" in card
