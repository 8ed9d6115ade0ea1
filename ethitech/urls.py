from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog, set_language

password_pages = [
    # Any signed-in user changes their own password (it ends their API tokens too).
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path("account/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # Teachers who forgot theirs: a link by email (students ask their teacher for a new card).
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

language_pages = [
    # The switcher posts here; the choice is kept in a cookie (LANGUAGE_COOKIE_AGE).
    path("language/", require_POST(set_language), name="set_language"),
    # The JavaScript files' messages in the page's language (gettext() in static/js).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
]

urlpatterns = [
    *language_pages,
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    *password_pages,
    path("api/", include("classroom.api_urls")),
    path("", include("classroom.urls")),
]
if settings.ADMIN_ENABLED:
    # Off unless an operator asks for it; its login goes through the same lockout (django-axes).
    urlpatterns.insert(2, path("admin/", admin.site.urls))

# A database or Redis outage met outside a view is a 503 "try again" too (classroom.middleware).
handler500 = "classroom.views.errors.server_error"
