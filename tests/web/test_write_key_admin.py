"""A write key is named on its creation page (a new source, or an existing one) and shown once with a copy button."""

import re

import pytest
from django.urls import reverse

from accounts.ingestion.auth import write_key_authenticate
from accounts.models import Source, WriteKey

pytestmark = pytest.mark.django_db


def test_an_admin_names_a_new_key_and_gets_a_copy_button(client, ada):
    client.force_login(ada)
    form = client.get(reverse("admin:accounts_writekey_add")).content.decode()
    assert 'name="name"' in form
    response = client.post(reverse("admin:accounts_writekey_add"), {"name": "Mobile app"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    plaintext = re.search(r"is (\S+)\. Copy it now", page)[1]
    write_key = WriteKey.objects.get()
    assert write_key.source == Source.objects.get(name="Mobile app")
    assert write_key_authenticate(key=plaintext) == (write_key.pk, write_key.source_id)
    assert f'data-copy-text="{plaintext}"' in page and "Copy the key" in page


def test_a_key_needs_a_name_or_a_source_not_both(client, ada):
    client.force_login(ada)
    source = Source.objects.create(name="Web app")
    response = client.post(reverse("admin:accounts_writekey_add"), {"name": "Other", "source": source.pk})
    assert response.status_code == 200 and not WriteKey.objects.exists()
    assert "one of the two" in response.content.decode()
