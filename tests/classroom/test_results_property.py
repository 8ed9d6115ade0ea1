"""Every dashboard number against a plain Python computation over a random class.

Each seed builds a different class: three assignments (one hidden from
students), four models over two label sets, random statuses, guesses,
expected groups, gallery images (whose known group counts instead of the
expected one; the same image tested several times counts once), a teacher's
preview tests (never counted), face-found flags and submission times spread
over minutes, days or a year. The test then loads every stored prediction into Python,
counts the obvious way, and compares with classroom.results (SQL GROUP BY),
for a teacher and for a student (own numbers, hidden assignment left out).
"""

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from scipy.stats import binomtest

from classroom import results as res
from classroom.models import Assignment, GalleryImage, Prediction, Submission
from classroom.services.classes import create_assignment
from inference.models import LabelSet, ModelVersion
from tests import factories

SPANS = {1: timedelta(minutes=90), 2: timedelta(days=2), 3: timedelta(days=40), 4: timedelta(days=400), 5: None}
GRANULARITY = {1: "minute", 2: "hour", 3: "day", 4: "week", 5: "minute", 0: "minute"}


def _model(key, label_set, composition=None):
    return ModelVersion.objects.create(
        key=key,
        name=key.replace("-", " ").title(),
        family="mlp",
        label_set=label_set,
        artifact_path=f"test/{key}.skops",
        sha256="0" * 64,
        composition=composition or {},
        synthetic=True,
    )


def build_class(seed, demo_models):
    rng = random.Random(seed)
    balanced, unbalanced = demo_models
    demo_labels = balanced.label_set
    other_labels = LabelSet.objects.create(key=f"other-{seed}", name="Other", labels=["X", "Y", "Z"], synthetic=True)
    third = _model(f"third-{seed}", demo_labels, {g: 100 for g in demo_labels.labels})
    fourth = _model(f"fourth-{seed}", demo_labels)
    other = _model(f"other-{seed}", other_labels, {"X": 50, "Y": 10, "Z": 10})

    classroom = factories.ClassroomFactory()
    students = [factories.enrol(classroom, factories.StudentFactory()) for _ in range(rng.randint(3, 7))]
    a1 = create_assignment(
        classroom=classroom,
        title="A1",
        instructions="",
        model_versions=[balanced, unbalanced, third],
        ask_expected=True,
    )
    a2 = create_assignment(classroom=classroom, title="A2", instructions="", model_versions=[other], ask_expected=True)
    a3 = create_assignment(
        classroom=classroom,
        title="A3",
        instructions="",
        model_versions=[balanced, fourth],
        ask_expected=True,
        results_visibility=Assignment.ResultsVisibility.ON_RELEASE,
    )
    # Another class's tests must never leak in.
    stranger = factories.ClassroomFactory()
    a4 = create_assignment(
        classroom=stranger, title="A4", instructions="", model_versions=[balanced], ask_expected=True
    )
    stranger_student = factories.enrol(stranger, factories.StudentFactory())

    # A few gallery images per group, tested again and again: one image is one piece of evidence.
    gallery = {
        label_set.pk: {
            g: [
                GalleryImage.objects.create(
                    classroom=classroom,
                    label_set=label_set,
                    label=g,
                    source="test",
                    synthetic=True,
                    photo=f"gallery/{seed}-{g}-{i}.jpg",
                    width=96,
                    height=96,
                )
                for i in range(rng.randint(1, 3))
            ]
            for g in label_set.labels
        }
        for label_set in (demo_labels, other_labels)
    }
    span = SPANS.get(seed % 6) or timedelta(seconds=rng.randint(0, 30))
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 600))
    subs = []
    for assignment, n in ((a1, rng.randint(20, 70)), (a2, rng.randint(5, 30)), (a3, rng.randint(5, 30)), (a4, 10)):
        labels = assignment.label_set.labels
        for _ in range(n):
            who = stranger_student if assignment is a4 else rng.choice(students)
            expected = rng.choice(labels + [""] * rng.randint(0, 3)) if rng.random() > 0.05 else ""
            # a gallery image: its group is known, whatever the student expected
            true = rng.choice(labels) if rng.random() < 0.25 else ""
            image = rng.choice(gallery[assignment.label_set_id][true]) if true and rng.random() < 0.8 else None
            if image and assignment.classroom_id != classroom.pk:
                image = None
            created = t0 + timedelta(seconds=rng.uniform(0, span.total_seconds()))
            subs.append(
                Submission(
                    assignment=assignment,
                    student=who,
                    expected_label=expected,
                    true_label=true,
                    gallery_image=image,
                    created_at=created,
                )
            )
    for _ in range(3):  # the teacher previewing: never part of the results
        subs.append(
            Submission(
                assignment=a1,
                student=classroom.teacher,
                expected_label=a1.label_set.labels[0],
                preview=True,
                created_at=t0,
            )
        )
    times = [sub.created_at for sub in subs]
    subs = Submission.objects.bulk_create(subs)  # auto_now_add overrides created_at on insert...
    for sub, created in zip(subs, times, strict=True):
        sub.created_at = created
    Submission.objects.bulk_update(subs, ["created_at"])  # ...so set it again
    models_of = {a.pk: list(a.model_versions.all()) for a in (a1, a2, a3, a4)}
    preds = []
    for sub in subs:
        for mv in models_of[sub.assignment_id]:
            status = rng.choice(["done"] * 8 + ["failed", "pending", "running"])
            labels = mv.label_set.labels
            if status == "done":
                # a biased guesser: right more often for the first group
                truth = sub.true_label or sub.expected_label
                right = truth and rng.random() < (0.9 if truth == labels[0] else 0.5)
                label = truth if right else rng.choice(labels)
                face = rng.choice([True, True, True, False, None])
            else:
                label, face = "", None
            preds.append(Prediction(submission=sub, model_version=mv, status=status, label=label, face_found=face))
    Prediction.objects.bulk_create(preds)
    return classroom, (a1, a2, a3), students


def truncate(dt, kind):
    if kind == "minute":
        return dt.replace(second=0, microsecond=0)
    if kind == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if kind == "day" else day - timedelta(days=day.weekday())


def wilson(correct, total):
    if not total:
        return None, None
    ci = binomtest(correct, total).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def approx(a, b):
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-9)


def check(results, rows, model_ids, viewer=None):
    """rows: every prediction in scope, as plain dicts."""
    assert sorted(r.model.pk for r in results.models) == sorted(model_ids)
    if rows:
        times = [r["created"] for r in rows]
        assert results.first == min(times) and results.last == max(times)
    for r in results.models:
        mine = [p for p in rows if p["model"] == r.model.pk]
        done = [p for p in mine if p["status"] == "done"]
        labels = r.labels
        assert r.done == len(done)
        assert r.failed == sum(p["status"] == "failed" for p in mine)
        assert r.pending == sum(p["status"] in ("pending", "running") for p in mine)
        # gallery images (a known group) are face crops: only uploads count towards "no face found"
        uploads = [p for p in done if not p["known"]]
        looked = [p for p in uploads if p["face"] is not None]
        assert r.no_face == sum(p["face"] is False for p in uploads)
        assert approx(r.face_not_found_rate, r.no_face / len(looked) if looked else None)
        counts = Counter(p["label"] for p in done)
        assert r.predicted == [(g, counts[g]) for g in labels]
        known = [p for p in done if p["expected"]]
        assert r.unknown_group == len(done) - len(known)
        assert r.no_face_unknown_group == sum(p["face"] is False for p in uploads if not p["expected"])
        assert r.expected == [(g, sum(p["expected"] == g for p in known)) for g in labels]
        assert r.predicted_known == [(g, sum(p["label"] == g for p in known)) for g in labels]
        assert r.mine_done == (sum(p["student"] == viewer.pk for p in done) if viewer else 0)
        for i, g in enumerate(r.groups):
            group_rows = [p for p in known if p["expected"] == g.group]
            correct = sum(p["label"] == g.group for p in group_rows)
            assert (g.total, g.correct) == (len(group_rows), correct)
            assert g.no_face == sum(p["face"] is False for p in group_rows if not p["known"])
            assert g.looked == sum(p["face"] is not None for p in group_rows if not p["known"])
            units = {p["unit"] for p in group_rows}
            right = {p["unit"] for p in group_rows if p["label"] == g.group}
            assert (g.images, g.images_correct) == (len(units), len(right))
            assert approx(g.accuracy, len(right) / len(units) if units else None)
            low, high = wilson(len(right), len(units))
            assert approx(g.low, low) and approx(g.high, high)
            assert g.enough == (len(units) >= settings.MIN_TESTS_PER_GROUP)
            own = [p for p in group_rows if viewer and p["student"] == viewer.pk]
            assert (g.mine_total, g.mine_correct) == (len(own), sum(p["label"] == g.group for p in own))
            assert r.confusion[i].cells == [sum(p["label"] == guess for p in group_rows) for guess in labels]
            assert r.confusion[i].total == len(group_rows)
        units = {(p["expected"], p["unit"]) for p in known}
        right = {(p["expected"], p["unit"]) for p in known if p["label"] == p["expected"]}
        assert approx(r.accuracy, len(right) / len(units) if units else None)
        per_group = Counter(g for g, _ in units)
        # a gap only between groups with enough distinct images
        accs = {
            g: sum(1 for h, _ in right if h == g) / n for g, n in per_group.items() if n >= settings.MIN_TESTS_PER_GROUP
        }
        d = r.disparity
        if len(accs) < 2:
            assert d is None
        else:
            assert approx(d.gap, max(accs.values()) - min(accs.values()))
            assert approx(d.ratio, min(accs.values()) / max(accs.values()) if max(accs.values()) else None)
            assert approx(d.best.accuracy, max(accs.values())) and approx(d.worst.accuracy, min(accs.values()))
            assert d.clear == (d.worst.high < d.best.low)
        # trend: running totals to the end of each bucket
        kind = results.granularity
        buckets = sorted({truncate(p["created"], kind) for p in known})
        assert [t.start for t in r.trend] == buckets
        for point in r.trend:
            upto = [p for p in known if truncate(p["created"], kind) <= point.start]
            assert point.tests == len(upto)
            assert point.groups == [
                (sum(p["expected"] == g for p in upto), sum(p["expected"] == g == p["label"] for p in upto))
                for g in labels
            ]
    # disagreement between every two models with the same groups
    by_sub = defaultdict(dict)
    for p in rows:
        if p["status"] == "done":
            by_sub[p["submission"]][p["model"]] = p
    pairs = {(p.a.model.pk, p.b.model.pk): p for p in results.pairs}
    ordered = [r.model for r in results.models]
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            both = [(s[a.pk], s[b.pk]) for s in by_sub.values() if a.pk in s and b.pk in s]
            if a.label_set_id != b.label_set_id or not both:
                assert (a.pk, b.pk) not in pairs
                continue
            pair = pairs.pop((a.pk, b.pk))
            assert pair.both == len(both)
            assert pair.agree == sum(x["label"] == y["label"] for x, y in both)
            for g in pair.groups:
                assert g.a_only == sum(x["label"] == g.group != y["label"] for x, y in both)
                assert g.b_only == sum(y["label"] == g.group != x["label"] for x, y in both)
            dis = [(x, y) for x, y in both if x["label"] != y["label"] and x["expected"]]
            assert pair.disagree_known == len(dis)
            assert pair.a_right == sum(x["label"] == x["expected"] for x, _ in dis)
            assert pair.b_right == sum(y["label"] == y["expected"] for _, y in dis)
    assert not pairs


def stored(assignments):
    return [
        {
            "model": p.model_version_id,
            "status": p.status,
            "label": p.label,
            "face": p.face_found,
            "expected": p.submission.true_label or p.submission.expected_label,
            "student": p.submission.student_id,
            "known": bool(p.submission.true_label),
            "submission": p.submission_id,
            "created": p.submission.created_at,
            "unit": ("g", p.submission.gallery_image_id) if p.submission.gallery_image_id else ("s", p.submission_id),
        }
        for p in Prediction.objects.filter(
            submission__assignment__in=assignments, submission__preview=False
        ).select_related("submission")
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_every_dashboard_number_matches_plain_python(seed, demo_models, django_assert_max_num_queries):
    classroom, (a1, a2, a3), students = build_class(seed, demo_models)
    teacher, student = classroom.teacher, students[0]
    models_of = {a: {m.pk for m in a.model_versions.all()} for a in (a1, a2, a3)}

    with django_assert_max_num_queries(4):
        results = res.compute(res.assignment_scope(a1, teacher))
    check(results, stored([a1]), models_of[a1])
    assert results.granularity == GRANULARITY[seed % 6]
    assert results.pairs and all(r.trend for r in results.models)  # the fixture exercises every part
    check(res.compute(res.assignment_scope(a1, student)), stored([a1]), models_of[a1], viewer=student)

    with django_assert_max_num_queries(4):
        results = res.compute(res.classroom_scope(classroom, teacher))
    check(results, stored([a1, a2, a3]), models_of[a1] | models_of[a2] | models_of[a3])
    # a student's class view leaves out the assignment whose results are not released
    check(
        res.compute(res.classroom_scope(classroom, student)),
        stored([a1, a2]),
        models_of[a1] | models_of[a2],
        viewer=student,
    )

    # The page, the projector feed and the API serve these same numbers.
    data = res.as_dict(res.compute(res.assignment_scope(a1, teacher)))
    from django.test import Client

    client = Client()
    client.force_login(teacher)
    assert client.get(reverse("results", args=[a1.public_id])).context["data"] == data
    assert client.get(reverse("api-assignment-results", args=[a1.public_id])).json() == data
    page = client.get(reverse("classroom_results", args=[classroom.public_id]))
    assert page.context["data"] == res.as_dict(res.compute(res.classroom_scope(classroom, teacher)))


def test_wilson_interval_known_values():
    low, high = res.wilson_interval(8, 10)
    assert round(low, 4) == 0.4902 and round(high, 4) == 0.9433
    assert res.wilson_interval(0, 0) == (None, None)
    assert res.wilson_interval(0, 5)[0] == 0.0 and res.wilson_interval(5, 5)[1] == 1.0
