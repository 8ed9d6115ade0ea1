"""Groups within groups on the class results page: gallery tests split by the gallery image's
gender and age band (the synthetic set's made-up style and band), small cells "too few"."""

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from classroom.models import GalleryImage, Prediction
from classroom.services import gallery
from classroom.services.classes import create_assignment
from classroom.services.submissions import submit_photo
from training.importers.synthetic import import_synthetic

pytestmark = pytest.mark.usefixtures("fresh_registry")


@pytest.fixture(autouse=True)
def _empty_gallery_folder():
    yield
    shutil.rmtree(Path(settings.MEDIA_ROOT) / gallery.GALLERY_DIR, ignore_errors=True)


def test_gallery_tests_are_split_by_style_and_band(client, classroom, student, demo_models, settings):
    settings.UPLOADS_PER_MINUTE = 1000
    dataset = import_synthetic(train_per_group=1, test_per_group=12).dataset
    gallery.publish_gallery(classroom=classroom, teacher=classroom.teacher, dataset=dataset, per_group=12)
    images = list(GalleryImage.objects.filter(classroom=classroom))
    assert all(i.gender in ("Style 1", "Style 2") and i.age_group.startswith("Band ") for i in images)
    assignment = create_assignment(
        classroom=classroom, title="Within", instructions="", model_versions=list(demo_models), ask_expected=False
    )
    for image in images:
        sub = submit_photo(assignment=assignment, student=student, gallery_image=image)
        # The models are right exactly for the Group A images of Style 1.
        right = image.label == "Group A" and image.gender == "Style 1"
        Prediction.objects.filter(submission=sub).update(
            status="done", label=image.label if right else ("Group B" if image.label == "Group A" else "Group A")
        )
    style1_a = sum(1 for i in images if i.label == "Group A" and i.gender == "Style 1")
    client.force_login(classroom.teacher)
    page = client.get(reverse("results", args=[assignment.public_id])).content.decode()
    assert 'id="within-groups"' in page
    assert page.count("right answers by group and style (synthetic, gender-like)") == 2  # one table per model
    assert "right answers by group and band (synthetic, age-like)" in page
    row = re.search(r'<th scope="row">Group A</th>(.*?)</tr>', page.split("gender-like)</caption>")[1]).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', row)
    assert style1_a >= settings.MIN_TESTS_PER_GROUP  # the generated gallery is the same every run
    assert cells[0].startswith("100%") and f"{style1_a} tests" in cells[0]
    assert cells[1].startswith("0%")  # Group A, Style 2: always wrong
    band = page.split("band (synthetic, age-like)</caption>")[1].split("</table>")[0]
    assert "too few tests" in band  # 12 images per group over 3 bands and 2 answers: some cells are small
