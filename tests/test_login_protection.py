"""Password guessing is limited on every login path (web, admin, API token), with an admin unlock; staff sign in
to the admin with a TOTP code when ADMIN_REQUIRE_OTP is on."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIMIT = 20


def web_login(username: str, password: str, *, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": username, "password": password})


def admin_login(username: str, password: str, *, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"}
    )


def api_token(username: str, password: str, *, address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        reverse("api-token"), {"username": username, "password": password}, format="json"
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_twenty_wrong_passwords_lock_the_user_out_of_every_login_path_until_unlocked(alice, ada):
    ada.set_password("password")
    ada.save()
    for n in range(LIMIT - 1):
        assert web_login("alice", f"guess-{n}").status_code == 200  # the form again, not locked yet
    assert api_token("alice", "guess-last").status_code == 429  # the 20th failure, on another path, locks

    # The right password now fails everywhere, from any address (the lock is on the username).
    assert web_login("alice", "password", address="10.9.9.9").status_code == 429
    assert admin_login("alice", "password", address="10.9.9.9").status_code == 429
    locked = api_token("alice", "password", address="10.9.9.9")
    assert locked.status_code == 429
    assert "locked" in locked.json()["detail"].lower()
    assert signed_in(web_login("ada", "password", address="10.9.9.9"))  # others are not locked

    call_command("axes_reset_username", "alice")  # the admin's unlock (also: delete its Access attempts)

    assert signed_in(web_login("alice", "password"))
    assert api_token("alice", "password").status_code == 200


def test_twenty_failures_from_one_address_lock_that_address(alice, bob):
    for n in range(LIMIT):
        web_login(f"nobody-{n}", "guess", address="10.6.6.6")

    assert web_login("alice", "password", address="10.6.6.6").status_code == 429
    assert signed_in(web_login("bob", "password", address="10.7.7.7"))
    assert AccessAttempt.objects.filter(ip_address="10.6.6.6").exists()


def test_the_admin_requires_a_totp_code_from_staff_when_required(settings, ada):
    settings.ADMIN_REQUIRE_OTP = True
    ada.set_password("password")
    ada.save()
    device = TOTPDevice.objects.create(user=ada, name="phone", confirmed=True)
    client = Client()
    client.force_login(ada)
    assert client.get(reverse("admin:index")).status_code == 302  # a password session alone is not enough

    wrong = client.post(reverse("admin:login"), {"username": "ada", "password": "password", "otp_token": "000000"})
    assert wrong.status_code == 200  # the form again

    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    right = client.post(
        reverse("admin:login"),
        {"username": "ada", "password": "password", "otp_device": device.persistent_id, "otp_token": code},
    )
    assert right.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_without_the_requirement_the_admin_takes_a_password_session(settings, ada):
    settings.ADMIN_REQUIRE_OTP = False
    client = Client()
    client.force_login(ada)
    assert client.get(reverse("admin:index")).status_code == 200


def test_without_the_requirement_staff_sign_in_to_the_admin_with_a_password(settings, ada):
    settings.ADMIN_REQUIRE_OTP = False
    ada.set_password("password")
    ada.save()
    client = Client()

    response = client.post(reverse("admin:login"), {"username": "ada", "password": "password", "next": "/admin/"})

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
