"""Audits of a collection of known make-up: the correction undoes the model's own bias."""

import numpy as np
import pytest

from classroom.audits import services
from classroom.models import CollectionAudit
from tests.classroom.audits.helpers import collection_of, run_workers, zip_upload
from tests.helpers import media_files

pytestmark = pytest.mark.usefixtures("fresh_registry")

TRUTH = [0.6, 0.1, 0.1, 0.1, 0.1]


@pytest.fixture
def known_audit(classroom, sturdier_demo_models, committed):
    from classroom.services.classes import create_assignment

    assignment = create_assignment(
        classroom=classroom,
        title="Audit",
        instructions="",
        model_versions=list(sturdier_demo_models),
        ask_expected=False,
    )
    classroom.consent_confirmed_at = classroom.created_at
    classroom.save()
    upload = zip_upload(collection_of([int(300 * t) for t in TRUTH]))
    audit = services.create_audit(assignment=assignment, user=classroom.teacher, uploads=[upload])
    return run_workers(audit, committed)


def test_the_corrected_estimate_undoes_the_10x_models_bias(known_audit):
    assert known_audit.status == CollectionAudit.Status.DONE, known_audit.error
    assert known_audit.files == [] and media_files() == []  # the photos went with the last answer
    runs = {r.model_version.key: r for r in known_audit.runs.all()}
    unbalanced, balanced = runs["demo-mlp-unbalanced"].estimates, runs["demo-mlp-balanced"].estimates
    truth = np.array(TRUTH)

    def off(est, method):
        return float(np.abs(np.array(est["methods"][method]["share"]) - truth).sum() / 2)

    assert off(unbalanced, "adjusted") < off(unbalanced, "raw")
    assert off(unbalanced, "em") < off(unbalanced, "raw")
    low, high = np.array(unbalanced["methods"]["adjusted"]["low"]), np.array(unbalanced["methods"]["adjusted"]["high"])
    assert np.all((low <= truth) & (truth <= high))
    assert off(balanced, "raw") < off(unbalanced, "raw")
