"""Deployment checks, Content-Security-Policy, CSRF in every form, login throttling."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def production_env(**extra) -> dict:
    """This environment, minus what the test run sets for itself (the browser test allows async-unsafe ORM calls)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return {**env, "DJANGO_SETTINGS_MODULE": "ethitech.settings_production", **extra}


def run_manage(*args, **env):
    environment = production_env(**env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_under_production_settings():
    proc = run_manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output, output


def test_production_refuses_to_start_without_a_real_secret_key():
    proc = run_manage("check", DJANGO_SECRET_KEY="")
    assert proc.returncode != 0 and "DJANGO_SECRET_KEY" in proc.stderr


def test_production_hashes_passwords_with_argon2id():
    probe = (
        "from django.conf import settings; import django; django.setup(); "
        "from django.contrib.auth.hashers import get_hasher, make_password; h = get_hasher(); "
        "print(h.algorithm, make_password('x').split('$')[1], settings.SESSION_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS > 0)"
    )
    env = production_env(DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["argon2", "argon2id", "True", "True"], out.stderr


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client, student):
    client.force_login(student)
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if " " in d.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_have_no_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script> (CSP blocks it)"
    assert not re.search(r"<style\b", text), "<style> element (CSP blocks it)"
    assert not re.search(r"\sstyle\s*=", text), "style= attribute (CSP blocks it)"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler (CSP blocks it)"
    assert not re.search(r"(href|src)\s*=\s*[\"']\s*javascript:", text, re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_every_post_form_has_a_csrf_token(template):
    for form in re.findall(r"<form\b[^>]*>.*?</form>", template.read_text(), re.S | re.I):
        if re.search(r"method\s*=\s*[\"']?post", form, re.I):
            assert "{% csrf_token %}" in form, form[:200]


@pytest.mark.django_db
def test_login_is_locked_after_repeated_wrong_passwords(client, settings):
    """django-axes: the username is locked from that address; the rest of the class can still log in."""
    student = factories.StudentFactory()
    classmate = factories.StudentFactory()
    url = reverse("login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": student.username, "password": "wrong"})
        assert response.status_code == 200 and b"Please enter a correct username" in response.content
    locked = client.post(url, {"username": student.username, "password": "wrong"})
    assert locked.status_code == 429 and b"Too many wrong passwords" in locked.content
    # Even the right password is refused while locked.
    right = client.post(url, {"username": student.username, "password": "pw-student-123"})
    assert right.status_code == 429 and "_auth_user_id" not in client.session
    # A classmate behind the same school address is not affected.
    other = client.post(url, {"username": classmate.username, "password": "pw-student-123"})
    assert other.status_code == 302 and client.session["_auth_user_id"] == str(classmate.pk)


@pytest.mark.django_db
def test_successful_logins_leave_no_access_log(client):
    from axes.models import AccessLog

    student = factories.StudentFactory()
    response = client.post(reverse("login"), {"username": student.username, "password": "pw-student-123"})
    assert response.status_code == 302
    assert not AccessLog.objects.exists()


@pytest.mark.django_db
def test_error_pages_are_friendly_and_render_without_context(client, student):
    from django.template import loader

    response = client.get("/no-such-page/")
    assert response.status_code == 404 and b"This page does not exist" in response.content
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(student)
    response = csrf_client.post(reverse("join"), {"code": "ABC"})
    assert response.status_code == 403 and b"This form has expired" in response.content
    for name in ("400.html", "403.html", "404.html", "500.html"):
        assert "EthiTech classroom" in loader.get_template(name).render()  # as Django's handlers render them
