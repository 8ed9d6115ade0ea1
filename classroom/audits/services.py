"""Audits of a collection: who is in a set of images, estimated by one or more models, raw and
corrected for each model's own bias (inference.quantify).

Flow: `create_audit` checks and stores the collection (uploads: as they came; a gallery subset:
only the images' ids), then a worker cleans the uploads (`prepare`), and one task per model
family answers every image in batches (`answer_queue`), saving after each batch, so a
redelivered task carries on. When the last model is done the estimates are stored and the
uploaded copies deleted; cancelling or failing deletes them too. Per image, only each model's
probabilities stay, and they go with the audit.

A task the broker never got (or lost when it restarted) marks the audit unsent, and a worker sends
what it still needs once the broker answers (`send_unsent_audits`). A second copy of a task is
harmless: a batch is stored only if no other copy stored it first, and only the first prepare counts.
"""

import logging
import random
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_noop

from inference.models import ModelVersion
from inference.stored_text import declare

from ..models import Assignment, CollectionAudit, CollectionAuditRun, GalleryImage, User
from . import collection

log = logging.getLogger(__name__)

Status = CollectionAudit.Status
RunStatus = CollectionAuditRun.Status
# Images per forward pass: VGG-Face amortises its cost over a batch; the MLPs are cheap either way.
BATCH = {"vgg": 8, "mlp": 64}
AUDIT_DIR = "audits"  # one flat folder of random names: the orphan purge lists it
# An audit still running after this long lost its task (a broker restart): it fails, its files go.
STALE_AFTER = timedelta(hours=2)


# A gallery collection's default name, stored in English and shown in each reader's language
# (classroom.stored_text), since a class may mix languages.
GALLERY_TITLE = declare(gettext_noop("%(n)s images from the class gallery"))


class AuditError(ValueError):
    """The audit cannot be made; the message says why, for a student or a teacher."""


def can_audit(user: User, assignment: Assignment) -> bool:
    if user.is_teacher:
        return assignment.classroom.teacher_id == user.pk
    return assignment.audits_enabled and assignment.classroom.enrollments.filter(student=user).exists()


def set_enabled(*, assignment: Assignment, enabled: bool) -> Assignment:
    assignment.audits_enabled = enabled
    assignment.save(update_fields=["audits_enabled"])
    return assignment


def _chosen_models(assignment: Assignment, models) -> list[ModelVersion]:
    allowed = {mv.pk: mv for mv in assignment.model_versions.all()}  # its versions, superseded or not
    chosen = [allowed.get(getattr(m, "pk", m)) for m in (models or allowed.values())]
    if not chosen or None in chosen:
        raise AuditError(gettext("Choose one or more of this experiment's models."))
    return chosen


def _gallery_pick(assignment: Assignment, counts: dict[str, int]) -> list[GalleryImage]:
    """A random draw of the asked number of the class gallery's images of each group."""
    labels = list(assignment.label_set.labels)
    unknown = set(counts) - set(labels)
    if unknown:
        raise AuditError(
            gettext("Unknown group %(group)r; this experiment's groups are %(groups)s.")
            % {"group": sorted(unknown)[0], "groups": ", ".join(labels)}
        )
    gallery = GalleryImage.objects.filter(classroom=assignment.classroom, label_set=assignment.label_set)
    picked = []
    for label in labels:
        want = int(counts.get(label) or 0)
        if want < 0:
            raise AuditError(gettext("The number of images of a group cannot be negative."))
        have = list(gallery.filter(label=label).values_list("pk", flat=True))
        if want > len(have):
            raise AuditError(
                gettext("The class gallery has %(n)s images of %(group)s, not %(asked)s.")
                % {"n": len(have), "group": label, "asked": want}
            )
        picked += random.sample(have, want)
    if not picked:
        raise AuditError(gettext("Choose how many images of each group the collection should have."))
    if len(picked) > settings.AUDIT_MAX_IMAGES:
        raise AuditError(
            gettext("An audit takes at most %(max)s images; choose fewer.") % {"max": settings.AUDIT_MAX_IMAGES}
        )
    random.shuffle(picked)  # the order says nothing about the groups
    return picked


def create_audit(
    *,
    assignment: Assignment,
    user: User,
    models=None,
    uploads: list | None = None,
    gallery_counts: dict[str, int] | None = None,
    title: str = "",
) -> CollectionAudit:
    """An audit of uploaded photos (or zips of them), or of a gallery subset (teachers only)."""
    if not can_audit(user, assignment):
        raise PermissionError(gettext("Audits are not switched on for this experiment."))
    chosen = _chosen_models(assignment, models)
    if (not uploads) == (not gallery_counts):
        raise AuditError(
            gettext("Choose the collection: upload photos (or a zip), or pick images from the class gallery.")
        )
    if gallery_counts and not user.is_teacher:
        raise AuditError(gettext("Only the teacher builds collections from the class gallery."))
    if uploads and not assignment.classroom.consent_confirmed:
        raise AuditError(
            gettext(
                "Your teacher has not yet confirmed the school's consent policy for this class, so photos cannot be "
                "audited yet. Please ask your teacher."
            )
            if not user.is_teacher
            else gettext("Confirm the school's consent policy on the class page first: uploaded photos need it.")
        )
    if CollectionAudit.objects.filter(created_by=user, status=Status.RUNNING).exists():
        raise AuditError(gettext("Your last audit is still running. Wait for it to finish, or cancel it, first."))
    title = (title or "").strip()[:120]
    if gallery_counts:
        gallery_ids = _gallery_pick(assignment, gallery_counts)
        with transaction.atomic():
            audit = CollectionAudit.objects.create(
                assignment=assignment,
                created_by=user,
                source=CollectionAudit.Source.GALLERY,
                title=title or GALLERY_TITLE % {"n": len(gallery_ids)},
                gallery_ids=gallery_ids,
                image_count=len(gallery_ids),
            )
            _create_runs(audit, chosen)
            transaction.on_commit(partial(_queue_runs, audit.pk))
        return audit
    try:
        accepted = collection.accept(list(uploads), prefix=AUDIT_DIR)
    except collection.CollectionError as exc:
        raise AuditError(str(exc))
    try:
        with transaction.atomic():
            audit = CollectionAudit.objects.create(
                assignment=assignment,
                created_by=user,
                source=CollectionAudit.Source.UPLOAD,
                title=title or _upload_title(),
                incoming=accepted.stored,
                image_count=accepted.image_count,
            )
            _create_runs(audit, chosen)
            transaction.on_commit(partial(_queue_prepare, audit.pk))
    except BaseException:
        collection.discard([s["name"] for s in accepted.stored])
        raise
    return audit


def _upload_title() -> str:
    """An uploaded collection's default name, e.g. "Uploaded photos, 3 Mar 10:42", in the page's language."""
    when = date_format(timezone.localtime(), "j M H:i")
    return gettext("Uploaded photos, %(when)s") % {"when": when}


def _create_runs(audit: CollectionAudit, chosen: list[ModelVersion]) -> None:
    CollectionAuditRun.objects.bulk_create([CollectionAuditRun(audit=audit, model_version=mv) for mv in chosen])


def _send(task, audit_id: int, *args, queue: str) -> bool:
    """Send one of an audit's tasks. With the broker unreachable the audit is marked unsent and a
    worker sends what it still needs once the broker is back; no page or task fails for it."""
    try:
        task.apply_async(args=[audit_id, *args], queue=queue, retry=True, retry_policy={"max_retries": 2})
        return True
    except Exception as exc:  # noqa: BLE001 - whatever the broker raised, the audit must not stall
        log.warning(
            "Could not queue %s for audit %s on %s (%s); sent when the broker is back", task.name, audit_id, queue, exc
        )
    try:
        CollectionAudit.objects.filter(pk=audit_id, status=Status.RUNNING).update(unsent=True)
    except DatabaseError:
        log.exception("Audit %s could not be marked unsent either; it fails when it is stale", audit_id)
    return False


def _queue_prepare(audit_id: int) -> bool:
    from ..tasks import prepare_audit

    return _send(prepare_audit, audit_id, queue="mlp")


def queue_answers(audit_id: int, family: str) -> bool:
    from ..tasks import answer_audit

    return _send(answer_audit, audit_id, family, queue=family)


def _queue_runs(audit_id: int) -> bool:
    families = set(
        CollectionAuditRun.objects.filter(audit_id=audit_id)
        .exclude(status__in=CollectionAuditRun.FINAL)
        .values_list("model_version__family", flat=True)
    )
    # Every family is tried, even after one failed.
    return bool(families) and all([queue_answers(audit_id, family) for family in sorted(families)])


def send_unsent_audits(*, broker_restarted: bool = False) -> int:
    """Send what running audits the broker never got (or lost, after it restarted) still need: the
    preparation of their images, or their unfinished families' answers. Each audit by one caller
    only, the one whose update clears the mark. Returns how many audits were sent."""
    if broker_restarted:
        CollectionAudit.objects.filter(status=Status.RUNNING).update(unsent=True)
    CollectionAudit.objects.filter(unsent=True).exclude(status=Status.RUNNING).update(unsent=False)
    sent = 0
    for pk in (
        CollectionAudit.objects.filter(status=Status.RUNNING, unsent=True)
        .order_by("created_at")
        .values_list("pk", flat=True)
    ):
        if CollectionAudit.objects.filter(pk=pk, unsent=True).update(unsent=False):
            # Read after the claim: one marked when its prepare could not queue the answers is prepared.
            sent += _queue_prepare(pk) if _unprepared(pk) else _queue_runs(pk)
    return sent


def prepare(audit_id: int) -> None:
    """Worker: every uploaded image through the submission intake; then the models' tasks."""
    audit = CollectionAudit.objects.filter(pk=audit_id).first()
    if audit is None or audit.status != Status.RUNNING or not audit.incoming:
        return
    step = max(1, audit.image_count // 50)

    def progress(i: int) -> None:
        if i % step == 0:  # never backwards: a second copy of this task may be behind
            CollectionAudit.objects.filter(pk=audit_id, prepared__lt=i).update(prepared=i)

    try:
        cleaned = collection.clean_entries(audit.incoming, prefix=AUDIT_DIR, progress=progress)
    except OSError:
        if _still_running(audit_id) and _unprepared(audit_id):
            raise
        return  # cancelled meanwhile (its files are gone with it), or prepared by another copy
    with transaction.atomic():
        audit = CollectionAudit.objects.select_for_update().get(pk=audit_id)
        if not audit.incoming:  # another copy of this task prepared it first: its copies count
            collection.discard(cleaned.files)
            return
        stored, audit.incoming = audit.incoming, []
        audit.skipped, audit.skipped_count = cleaned.skipped, cleaned.skipped_count
        audit.prepared = audit.image_count
        if audit.status != Status.RUNNING:  # cancelled meanwhile
            collection.discard(cleaned.files)
        elif not cleaned.files:
            audit.status, audit.finished_at = Status.FAILED, timezone.now()
            audit.error = gettext_noop("None of the files could be used as a photo: see the list of skipped files.")
            audit.runs.update(status=RunStatus.CANCELLED)
        else:
            audit.files, audit.image_count = cleaned.files, len(cleaned.files)
            transaction.on_commit(partial(_queue_runs, audit_id))
        audit.save()
    collection.discard([s["name"] for s in stored])


def _unprepared(audit_id: int) -> bool:
    return CollectionAudit.objects.filter(pk=audit_id).exclude(incoming=[]).exists()


def _sources(audit: CollectionAudit) -> list[str]:
    if audit.source == CollectionAudit.Source.UPLOAD:
        return list(audit.files)
    photos = dict(GalleryImage.objects.filter(pk__in=audit.gallery_ids).values_list("pk", "photo"))
    return [photos.get(pk, "") for pk in audit.gallery_ids]


def answer_queue(audit_id: int, family: str, *, chunk: int | None = None) -> bool:
    """Worker: this family's models answer the images, a batch at a time (each photo is decoded
    and its face found once for all of them); each batch is saved before the next. With `chunk`,
    stop after that many images and return True when some are left (the task queues the rest)."""
    from inference.predictors import ModelArtifactError
    from inference.services import load_face_photo, predict_photos

    audit = CollectionAudit.objects.filter(pk=audit_id).first()
    if audit is None or audit.incoming:
        return False
    runs = list(
        audit.runs.select_related("model_version__label_set", "model_version__base").filter(
            model_version__family=family, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
        )
    )
    if not runs:
        return False
    CollectionAuditRun.objects.filter(pk__in=[r.pk for r in runs], started_at__isnull=True).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    sources = _sources(audit)
    size = BATCH.get(family, 16)
    start = first = min(r.done for r in runs)
    while start < len(sources) and runs:
        if chunk is not None and start - first >= chunk:
            return True
        if not _still_running(audit_id):
            return False  # cancelled: the service has marked the runs and deleted the files
        try:
            photos = [_load(name, load_face_photo, family) for name in sources[start : start + size]]
        except OSError:
            if _still_running(audit_id):
                raise
            return False
        for run in list(runs):
            todo = photos[run.done - start :]
            if not todo:
                continue
            try:
                outcomes = predict_photos(model_version=run.model_version, sources=todo)
            except (ModelArtifactError, OSError, ValueError, RuntimeError):
                log.exception("Audit %s: model %s failed", audit_id, run.model_version.key)
                _end_run(
                    run,
                    RunStatus.FAILED,
                    error=gettext_noop(
                        "This model could not answer. Tell the person who runs the platform: its file may be "
                        "missing or damaged."
                    ),
                )  # the details are in the log
                runs.remove(run)
                continue
            labels = run.model_version.labels
            rows = [[o.probabilities[label] for label in labels] for o in outcomes]
            if not _store_batch(run, rows, sum(o.face_found for o in outcomes)):
                runs.remove(run)  # another copy of this task is ahead on this model: it carries on
        start += size
    for run in runs:
        _end_run(run, RunStatus.DONE, estimates=_estimates(run))
    finish_if_complete(audit_id)
    return False


def _store_batch(run: CollectionAuditRun, rows: list, faces: int) -> bool:
    """Append a batch to the run's answers, unless the run has ended or another copy of the task
    stored answers since this one read them (they only grow, so the count tells)."""
    with transaction.atomic():
        stored = CollectionAuditRun.objects.select_for_update().only("status", "probabilities").get(pk=run.pk)
        if stored.status in CollectionAuditRun.FINAL or stored.done != run.done:
            return False
        run.probabilities += rows
        run.faces_found += faces
        run.save(update_fields=["probabilities", "faces_found"])
    return True


def _still_running(audit_id: int) -> bool:
    return CollectionAudit.objects.filter(pk=audit_id, status=Status.RUNNING).exists()


def _load(name: str, load_face_photo, family: str):
    with default_storage.open(name, "rb") as fh:
        # Each model family's worker: the face found once (the MLP worker never waits for VGG-Face's).
        return load_face_photo(fh, name=name, share=True, wait=family != "mlp")


def _estimates(run: CollectionAuditRun) -> dict:
    """inference.quantify's estimates, corrected with the model's held-out confusion matrix where
    it has one; its training mix is kept beside them for the page."""
    from inference.quantify import estimate

    mv = run.model_version
    labels = mv.labels
    confusion = (mv.metrics or {}).get("confusion")
    composition = mv.composition or {}
    train = [int(composition.get(label, 0)) for label in labels] if composition else None
    result = estimate(run.probabilities, confusion=confusion)
    result["held_out_images"] = int(sum(map(sum, confusion))) if confusion else 0
    result["training_mix"] = train
    return result


def _end_run(run: CollectionAuditRun, status: str, *, estimates=None, error: str = "") -> None:
    run.status, run.estimates, run.error, run.finished_at = status, estimates, error[:500], timezone.now()
    run.save(update_fields=["status", "estimates", "error", "finished_at"])


def finish_if_complete(audit_id: int) -> None:
    """Once every model has finished: the audit is done (or failed) and its uploads are deleted."""
    with transaction.atomic():
        audit = CollectionAudit.objects.select_for_update().filter(pk=audit_id).first()
        if audit is None or audit.status != Status.RUNNING:
            return
        statuses = list(audit.runs.values_list("status", flat=True))
        if any(s not in CollectionAuditRun.FINAL for s in statuses):
            return
        audit.status = Status.DONE if RunStatus.DONE in statuses else Status.FAILED
        if audit.status == Status.FAILED:
            audit.error = gettext_noop(
                "No model could answer. Try again later, or tell the person who runs the platform."
            )
        _close(audit)


def fail(audit_id: int, error: str) -> None:
    """A task gave up (an unexpected error, or its time ran out): its runs fail and the files go."""
    with transaction.atomic():
        audit = CollectionAudit.objects.select_for_update().filter(pk=audit_id).first()
        if audit is None or audit.status != Status.RUNNING:
            return
        audit.runs.exclude(status__in=CollectionAuditRun.FINAL).update(
            status=RunStatus.FAILED, error=error[:500], finished_at=timezone.now()
        )
        audit.status, audit.error = Status.FAILED, error[:500]
        _close(audit)


def cancel_audit(*, audit: CollectionAudit, user: User) -> CollectionAudit:
    if user.pk not in (audit.created_by_id, audit.assignment.classroom.teacher_id):
        raise PermissionError(gettext("Only the person who started an audit, or the teacher, can cancel it."))
    with transaction.atomic():
        audit = CollectionAudit.objects.select_for_update().get(pk=audit.pk)
        if audit.status != Status.RUNNING:
            return audit
        audit.runs.exclude(status__in=CollectionAuditRun.FINAL).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now()
        )
        audit.status = Status.CANCELLED
        _close(audit)
    return audit


def delete_audit(*, audit: CollectionAudit, user: User) -> None:
    if user.pk not in (audit.created_by_id, audit.assignment.classroom.teacher_id):
        raise PermissionError(gettext("Only the person who started an audit, or the teacher, can delete it."))
    if audit.status == Status.RUNNING:
        audit = cancel_audit(audit=audit, user=user)
    audit.delete()


def delete_audits(audits) -> int:
    """Delete audits (a student's, a class's) with their runs; running ones' photos go too."""
    rows = list(audits.values_list("pk", "files", "incoming"))
    files = [name for _, stored, incoming in rows for name in [*stored, *(i["name"] for i in incoming)]]
    CollectionAudit.objects.filter(pk__in=[pk for pk, _, _ in rows]).delete()
    transaction.on_commit(partial(collection.discard, files))
    return len(rows)


def _close(audit: CollectionAudit) -> None:
    """Final state, saved, and the uploaded copies deleted once the transaction commits."""
    files = list(audit.files) + [s["name"] for s in audit.incoming]
    audit.files, audit.incoming, audit.finished_at = [], [], timezone.now()
    audit.save()
    transaction.on_commit(partial(collection.discard, files))


def purge(now) -> int:
    """Maintenance: fail audits whose task was lost, and delete audit files no running audit
    refers to (a worker killed while it cleaned the photos leaves some). Returns files deleted."""
    for audit_id in CollectionAudit.objects.filter(status=Status.RUNNING, created_at__lt=now - STALE_AFTER).values_list(
        "pk", flat=True
    ):
        fail(audit_id, gettext_noop("The audit stopped before the models could answer. Start it again."))
    from ..services.retention import delete_unreferenced_files

    def running_audits_files(paths) -> set[str]:
        referenced = set()
        for files, incoming in CollectionAudit.objects.filter(status=Status.RUNNING).values_list("files", "incoming"):
            referenced.update(files)
            referenced.update(item["name"] for item in incoming)
        return referenced

    # A file younger than ten minutes may belong to an audit being created right now.
    return delete_unreferenced_files(AUDIT_DIR, running_audits_files, now, grace=timedelta(minutes=10))
