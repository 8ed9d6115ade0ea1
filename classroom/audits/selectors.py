"""Reads for audits: who sees which audit, and what its page shows.

Students see their own audits and the teacher's (class material), never a classmate's, and
never anything per image. Teachers see every audit of their experiments, and, for gallery
collections only, each image's group and each model's answer."""

from collections import Counter

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import Assignment, CollectionAudit, GalleryImage, User
from ..stored_text import translated

METHOD_NAMES = {
    "raw": _("Counting top guesses"),
    "adjusted": _("Corrected (error table)"),
    "em": _("Corrected (step by step)"),
}


def audits_for(assignment: Assignment, user: User):
    qs = CollectionAudit.objects.filter(assignment=assignment).select_related("created_by")
    if user.is_teacher:
        return qs
    return qs.filter(Q(created_by=user) | Q(created_by_id=assignment.classroom.teacher_id))


def audit_for(user: User, public_id) -> CollectionAudit:
    qs = CollectionAudit.objects.select_related("assignment__classroom", "assignment__label_set", "created_by")
    audit = qs.filter(public_id=public_id).first()
    if audit is None:
        raise Http404("No such audit.")
    classroom = audit.assignment.classroom
    if user.is_teacher:
        allowed = classroom.teacher_id == user.pk
    else:
        member = classroom.enrollments.filter(student=user).exists()
        allowed = member and audit.created_by_id in (user.pk, classroom.teacher_id)
    if not allowed:
        raise Http404("No such audit.")
    return audit


def in_reader_language(audit: CollectionAudit) -> CollectionAudit:
    """The audit as its page shows it: the error and skipped files' reasons its worker stored in
    English, translated (on this instance only: never saved)."""
    audit.error = translated(audit.error)
    audit.title = translated(audit.title)
    audit.skipped = [{**s, "reason": translated(s.get("reason", ""))} for s in audit.skipped or []]
    return audit


def true_mix(audit: CollectionAudit) -> list[float] | None:
    """A gallery collection's real make-up (share per group, label-set order)."""
    if audit.source != CollectionAudit.Source.GALLERY or not audit.gallery_ids:
        return None
    labels = list(audit.assignment.label_set.labels)
    counts = Counter(GalleryImage.objects.filter(pk__in=audit.gallery_ids).values_list("label", flat=True))
    total = sum(counts.values()) or 1
    return [counts.get(label, 0) / total for label in labels]


def status(audit: CollectionAudit) -> dict:
    """What the page polls while the audit runs: one line per model."""
    runs = list(audit.runs.select_related("model_version").order_by("model_version__family", "model_version__key"))
    preparing = bool(audit.incoming)
    total = audit.image_count or 1
    return {
        "status": audit.status,
        "final": audit.is_final,
        "preparing": preparing,
        "prepared": audit.prepared,
        "images": audit.image_count,
        "error": translated(audit.error),
        "runs": [
            {
                "model": r.model_version.name,
                "status": r.status,
                "status_display": r.get_status_display(),
                "done": r.done,
                "percent": 0 if preparing else min(100, round(100 * r.done / total)),
            }
            for r in runs
        ],
    }


def _cell(method: dict | None, i: int) -> dict | None:
    if method is None:
        return None
    return {"share": method["share"][i], "low": method["low"][i], "high": method["high"][i]}


def _off(shares: list[float], truth: list[float]) -> float:
    """How far an estimate is from the truth: the share of the collection put in the wrong group."""
    return sum(abs(a - b) for a, b in zip(shares, truth, strict=True)) / 2


def report(audit: CollectionAudit) -> dict:
    """Per model: each group's estimated share by each method, with intervals; with the true
    make-up beside them for a gallery collection, and how far each method is from it."""
    labels = list(audit.assignment.label_set.labels)
    truth = true_mix(audit)
    models = []
    for run in audit.runs.select_related("model_version").order_by("model_version__family", "model_version__key"):
        run.error = translated(run.error)  # stored in English by the worker; never saved from here
        est = run.estimates or {}
        methods = est.get("methods") or {}
        mix = est.get("training_mix")
        rows = [
            {
                "group": label,
                "truth": truth[i] if truth else None,
                "trained_on": mix[i] if mix else None,
                "cells": [_cell(methods.get(m), i) for m in METHOD_NAMES],
            }
            for i, label in enumerate(labels)
        ]
        off = None
        if truth and methods:
            off = {m: _off(methods[m]["share"], truth) for m in METHOD_NAMES if methods.get(m)}
        models.append(
            {
                "run": run,
                "model": run.model_version,
                "rows": rows if methods else [],
                "why_not": translated((est.get("why_not") or {}).get("adjusted", "")),
                "held_out_images": est.get("held_out_images", 0),
                "training_total": sum(mix) if mix else None,
                "off": off,
                "faces_found": run.faces_found,
                "no_face": run.done - run.faces_found,
                "answered": run.done,
            }
        )
    done = [m for m in models if m["rows"]]
    side_by_side = [
        {
            "group": label,
            "truth": truth[i] if truth else None,
            "cells": [(m["rows"][i]["cells"][0], m["rows"][i]["cells"][1]) for m in done],
        }
        for i, label in enumerate(labels)
    ]
    return {
        "labels": labels,
        "truth": truth,
        "methods": [str(name) for name in METHOD_NAMES.values()],
        "models": models,
        "compared": [m["model"] for m in done],
        "side_by_side": side_by_side if len(done) > 1 else [],
    }


def per_image(audit: CollectionAudit) -> list[dict]:
    """Teachers, gallery collections only: each image's group and each model's answer."""
    if audit.source != CollectionAudit.Source.GALLERY:
        return []
    labels = list(audit.assignment.label_set.labels)
    images = {g.pk: g for g in GalleryImage.objects.filter(pk__in=audit.gallery_ids)}
    runs = list(audit.runs.select_related("model_version").order_by("model_version__family", "model_version__key"))
    rows = []
    for i, pk in enumerate(audit.gallery_ids):
        image = images.get(pk)
        answers = []
        for run in runs:
            if i < run.done:
                probs = run.probabilities[i]
                answers.append(labels[max(range(len(probs)), key=probs.__getitem__)])
            else:
                answers.append("")
        rows.append({"image": image, "label": image.label if image else gettext("(removed)"), "answers": answers})
    return rows
