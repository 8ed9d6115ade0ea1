"""/api/: the REST API, its OpenAPI schema and a docs page."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import api
from .audits.api import AuditViewSet
from .lessons.api import LessonViewSet
from .views import api_docs

router = SimpleRouter(use_regex_path=False)
router.register("lessons", LessonViewSet, basename="api-lesson")
router.register("models", api.ModelViewSet, basename="api-model")
router.register("classes", api.ClassroomViewSet, basename="api-classroom")
router.register("assignments", api.AssignmentViewSet, basename="api-assignment")
router.register("submissions", api.SubmissionViewSet, basename="api-submission")
router.register("audits", AuditViewSet, basename="api-audit")
router.register("predictions", api.PredictionViewSet, basename="api-prediction")

urlpatterns = [
    path("token/", api.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs.docs, name="api-docs"),
    *router.urls,
]
