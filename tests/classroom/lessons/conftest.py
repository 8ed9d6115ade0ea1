"""Fixtures shared by the lesson tests: a class gallery and an experiment from the first lesson."""

import pytest

from classroom.lessons import catalogue
from classroom.lessons import services as lesson_services
from classroom.models import GalleryImage
from classroom.services import gallery
from inference.models import ModelVersion
from training.importers.synthetic import import_synthetic

LESSON = "who-is-in-the-training-data"


@pytest.fixture
def demo_vgg(demo_models):
    """A row like the demo VGG-Face model train_demo_models installs (casting reads family and mix only)."""
    balanced = demo_models[0]
    return ModelVersion.objects.create(
        key="demo-vgg-balanced",
        name="Demo VGG-Face (balanced, synthetic)",
        family="vgg",
        label_set=balanced.label_set,
        artifact_path="x",
        sha256="0" * 64,
        composition=balanced.composition,
        synthetic=True,
        pretrained=False,
    )


@pytest.fixture
def published(classroom):
    dataset = import_synthetic(train_per_group=4, test_per_group=6).dataset
    gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=2)
    return list(GalleryImage.objects.filter(classroom=classroom))


@pytest.fixture
def lesson_assignment(classroom, demo_models, published):
    lesson = catalogue.get_lesson(LESSON)
    fields = {**lesson_services.experiment_fields(lesson), "allow_uploads": False, "tests_goal": 3}
    return lesson_services.create_experiment(classroom=classroom, lesson=lesson, **fields)
