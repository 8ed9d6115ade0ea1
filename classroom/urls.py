from django.urls import path

from .views import accounts, assignments, classes, gallery, results
from .views import privacy as privacy_views
from .views import training as training_views

urlpatterns = [
    path("", accounts.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("join/", accounts.join, name="join"),
    path("classes/new/", classes.create_classroom, name="create_classroom"),
    path("c/<uuid:public_id>/", classes.classroom_detail, name="classroom"),
    path("c/<uuid:public_id>/students/add/", classes.add_students, name="add_students"),
    path("c/<uuid:public_id>/students/roster/", classes.upload_roster, name="upload_roster"),
    path("c/<uuid:public_id>/students/<uuid:student_id>/reset/", classes.reset_password, name="reset_password"),
    path("c/<uuid:public_id>/students/<uuid:student_id>/export/", privacy_views.export_student, name="export_student"),
    path("c/<uuid:public_id>/students/<uuid:student_id>/delete/", privacy_views.delete_student, name="delete_student"),
    path("c/<uuid:public_id>/consent/", privacy_views.confirm_consent, name="confirm_consent"),
    path("c/<uuid:public_id>/delete/", privacy_views.delete_classroom, name="delete_classroom"),
    path("c/<uuid:public_id>/logins/", classes.credentials, name="credentials"),
    path("c/<uuid:public_id>/join-code/", classes.join_code, name="join_code"),
    path("c/<uuid:public_id>/experiments/new/", classes.create_assignment, name="create_assignment"),
    path("a/<uuid:public_id>/", assignments.assignment_detail, name="assignment"),
    path("a/<uuid:public_id>/submit/", assignments.submit, name="submit"),
    path("a/<uuid:public_id>/results/", results.assignment_results, name="results"),
    path("a/<uuid:public_id>/results.json", results.results_json, name="results_json"),
    path("a/<uuid:public_id>/projector/", results.projector, name="projector"),
    path("a/<uuid:public_id>/export.csv", results.export_csv, name="export_csv"),
    path("c/<uuid:public_id>/results/", results.classroom_results, name="classroom_results"),
    path("a/<uuid:public_id>/release/", assignments.release_results, name="release_results"),
    path("s/<uuid:public_id>/", assignments.submission_detail, name="submission"),
    path("s/<uuid:public_id>/status.json", assignments.submission_status, name="submission_status"),
    path("models/<slug:key>/", assignments.model_card, name="model_card"),
    path("c/<uuid:public_id>/gallery/", gallery.gallery, name="gallery"),
    path("c/<uuid:public_id>/gallery/remove/", gallery.remove_gallery, name="remove_gallery"),
    path("g/<uuid:public_id>/image.jpg", gallery.gallery_image, name="gallery_image"),
    path("a/<uuid:public_id>/submit-gallery/", gallery.submit_gallery, name="submit_gallery"),
    path("training/", training_views.jobs, name="training_jobs"),
    path("training/composition.json", training_views.composition_json, name="training_composition"),
    path("training/jobs/<uuid:public_id>/", training_views.job_detail, name="training_job"),
    path("training/jobs/<uuid:public_id>/status.json", training_views.job_status, name="training_job_status"),
    path("training/jobs/<uuid:public_id>/cancel/", training_views.cancel_job, name="cancel_training_job"),
    path("privacy/", privacy_views.privacy_page, name="privacy"),
]
