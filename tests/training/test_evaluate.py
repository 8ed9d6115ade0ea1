"""Every model evaluated: an imported race model's empty card filled from a dataset's held-out
split (command and card button), and the card says which dataset the numbers come from."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from inference.models import ModelVersion
from tests import factories
from tests.inference.test_vggface import LABELS
from tests.training.test_importers import fairface_tree
from tests.vgg_files import write_legacy_file
from training.models import Dataset, TrainingJob
from training.services.jobs import run_job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_registry")]


@pytest.fixture
def imported(tmp_path):
    d, train, val = fairface_tree(tmp_path, per_race=4)
    call_command("import_fairface", str(d), "--train-labels", str(train), "--val-labels", str(val), "--merge-asian")
    path = write_legacy_file(tmp_path / "race_model_single_batch.h5", 6)
    call_command("import_race_model", str(path), "--labels", LABELS, "--key", "race6")
    return ModelVersion.objects.get(key="race6"), Dataset.objects.get(key="fairface-6")


def test_the_command_fills_an_imported_models_card(client, imported, capsys):
    model, dataset = imported
    assert model.label_set == dataset.label_set and not model.metrics  # the FairFace-6 groups; never evaluated
    teacher = factories.TeacherFactory()
    client.force_login(teacher)
    before = client.get(reverse("model_card", args=[model.key])).content.decode()
    assert "Not evaluated yet" in before and 'id="evaluate-form"' not in before  # not an operator
    refused = client.post(reverse("evaluate_model", args=[model.key]), {"dataset": dataset.key})
    assert refused.status_code == 404 and not TrainingJob.objects.exists()
    call_command("evaluate_model", model.key, "--dataset", dataset.key)
    model.refresh_from_db()
    assert model.metrics["evaluated_on"]["dataset"] == "fairface-6" and model.metrics["evaluated_on"]["images"] == 28
    assert model.metrics["per_group"]["Asian"]["n"] == 8 and model.metrics["per_group"]["White"]["n"] == 4
    assert 0 <= model.metrics["per_group"]["White"]["face_found"] <= 1
    assert sum(map(sum, model.metrics["confusion"])) == 28
    assert "Evaluated on 28 held-out images" in capsys.readouterr().out
    card = client.get(reverse("model_card", args=[model.key])).content.decode()
    assert "Measured on 28 held-out images of <strong>FairFace" in card and "Face found</th>" in card
    assert model.metrics["intersectional"]["gender"]["values"] == ["female", "male"]
    assert "age_group" not in model.metrics["intersectional"]  # every image is 20-29: nothing to break down
    assert "Accuracy by group and gender" in card
    assert not TrainingJob.objects.get(kind="evaluate").result.training_jobs.exclude(kind="evaluate").exists()


def test_an_operator_evaluates_from_the_card(client, imported):
    model, dataset = imported
    operator = factories.TeacherFactory(is_staff=True)
    client.force_login(operator)
    card = client.get(reverse("model_card", args=[model.key])).content.decode()
    assert 'id="evaluate-form"' in card and f'<option value="{dataset.key}">' in card
    response = client.post(reverse("evaluate_model", args=[model.key]), {"dataset": dataset.key})
    job = TrainingJob.objects.get(kind="evaluate")
    assert response.status_code == 302 and response["Location"] == reverse("training_job", args=[job.public_id])
    assert job.created_by == operator and job.params["model"] == model.key
    assert client.get(response["Location"]).status_code == 200
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "done", job.error
    model.refresh_from_db()
    assert model.metrics["evaluated_on"]["name"] == dataset.name
    other = client.post(reverse("evaluate_model", args=[model.key]), {"dataset": "synthetic-demo"}, follow=True)
    assert "Choose one of the datasets listed" in other.content.decode()  # not a dataset with the model's groups
    assert TrainingJob.objects.filter(kind="evaluate").count() == 1


def test_a_dataset_with_other_groups_is_refused_with_a_message(imported, demo_models):
    _, dataset = imported
    with pytest.raises(CommandError, match="answers with the groups of .*Choose a dataset with the model's groups"):
        call_command("evaluate_model", demo_models[0].key, "--dataset", dataset.key)
    with pytest.raises(CommandError, match="No model 'nope'"):
        call_command("evaluate_model", "nope", "--dataset", dataset.key)


def test_the_imported_race_model_sits_beside_a_fairface_trained_model_in_one_experiment(imported, classroom):
    from classroom.services.classes import create_assignment
    from tests.vgg_files import TINY

    race, dataset = imported
    call_command(
        "train_vgg_head",
        "--dataset",
        "fairface-6",
        "--per-group",
        "3",
        "--width",
        str(TINY),
        "--epochs",
        "1",
        "--key",
        "ff-head",
    )
    trained = ModelVersion.objects.get(key="ff-head")
    experiment = create_assignment(
        classroom=classroom,
        title="Imported and trained",
        instructions="",
        model_versions=[race, trained],
        ask_expected=False,
    )
    assert experiment.label_set == dataset.label_set == race.label_set == trained.label_set
