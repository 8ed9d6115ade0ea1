"""Celery app. Workers consume per-model-family queues (mlp, vgg) so that a
slow model never holds up a fast one."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ethitech.settings")

app = Celery("ethitech")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
