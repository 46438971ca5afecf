"""Korean as a first-class language: the language a request gets (the user's own, else the browser's, else the
workspace's), the header's switcher, and a crawl of every page as a Korean user that fails on any common English UI
word in the visible text and on any string looked up without a Korean translation."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.utils.translation.trans_real import DjangoTranslation

from accounts.models import Activity
from journeys.models import Stage
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    PlaybookFactory,
    StageChangeFactory,
    StageFactory,
    SuccessPlanFactory,
    SurveyResponseFactory,
    TaskFactory,
)
from tests.web import conftest as web
from tests.web.conftest import NOW, book

# The page tests' fixtures: today frozen on 2024-07-01, and a trained churn model.
frozen, churn_model = web.frozen, web.churn_model

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Common English UI words: none may be left in a Korean page's visible text (whole words, case-sensitive). Terms kept
# on purpose (ARR, NRR, GRR, NPS, CSAT, CSM, ACV, MRR, CLV, QBR, CSV, ROC AUC...) and user data are not in it.
ENGLISH = [
    "Portfolio",
    "Health",
    "health",
    "Renewal",
    "Renewals",
    "renewal",
    "Tasks",
    "Task",
    "Save",
    "Cancel",
    "Search",
    "Filter",
    "Filters",
    "Next",
    "Previous",
    "Account",
    "Accounts",
    "account",
    "accounts",
    "Owner",
    "Due",
    "Overdue",
    "Risk",
    "risk",
    "at risk",
    "No",
    "Show",
    "Export",
    "Log out",
    "Log in",
    "Preferences",
    "Contacts",
    "Contract",
    "Contracts",
    "Timeline",
    "Forecast",
    "Leadership",
    "Status",
    "Journey",
    "Surveys",
    "Playbooks",
    "Success plan",
    "Imports",
    "Upload",
    "Delete",
    "Edit",
    "Add",
    "Open",
    "Done",
    "Snooze",
    "Churn",
    "churn",
    "Usage",
    "Seats",
    "Segment",
    "Team",
    "Stage",
    "Total",
    "Median",
    "Password",
    "Language",
    "Time zone",
    "the",
    "and",
    "of",
    "not",
]
WORDS = re.compile(r"(?<![\w-])(" + "|".join(re.escape(word) for word in ENGLISH) + r")(?![\w-])")


class VisibleText(HTMLParser):
    """The text a person reads: text nodes outside script, style and template, plus titles and labels."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template"}:
            self.hidden += 1
        for name, value in attrs:
            if name in {"title", "aria-label", "placeholder", "alt"} and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template"}:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data.strip())


def english_words(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return sorted({match for part in parser.parts for match in WORDS.findall(part)})


@pytest.fixture
def missing_korean(monkeypatch):
    """Every message looked up in Korean that no catalog translates (Django's own, the apps', the project's)."""
    missing: set[str] = set()
    gettext, ngettext = DjangoTranslation.gettext, DjangoTranslation.ngettext

    def checked_gettext(self, message):
        if self.language() == "ko" and message not in self._catalog:
            missing.add(message.split("\x04")[-1])
        return gettext(self, message)

    def checked_ngettext(self, singular, plural, n):
        if self.language() == "ko" and (singular, 0) not in self._catalog:
            missing.add(singular)
        return ngettext(self, singular, plural, n)

    monkeypatch.setattr(DjangoTranslation, "gettext", checked_gettext)
    monkeypatch.setattr(DjangoTranslation, "ngettext", checked_ngettext)
    return missing


@pytest.fixture
def korean_book(alice, andy, ada, churn_model):
    """A small book with something on every page, its own data in Korean (user data is never checked)."""
    accounts = book(n=3, owner=alice, ae=andy)
    account = accounts[0]
    ada.language = alice.language = "ko"
    ada.save(update_fields=["language"])
    alice.save(update_fields=["language"])
    for existing in Stage.objects.all():  # the workspace's stages are data too
        existing.name = f"단계 {existing.order}"
        existing.save(update_fields=["name"])
    stage = StageFactory(name="온보딩")
    StageChangeFactory(account=account, to_stage=stage, changed_at=NOW - dt.timedelta(days=20), reason="킥오프")
    ContactFactory(account=account, name="김지수")
    ActivityFactory(account=account, author=alice, subject="분기 점검 통화", kind=Activity.Kind.CALL)
    task = TaskFactory(account=account, owner=ada, title="스폰서에게 전화", due_date=NOW.date() - dt.timedelta(days=2))
    TaskFactory(account=account, owner=ada, title="갱신 견적 준비", due_date=NOW.date())
    SuccessPlanFactory(account=account)
    playbook = PlaybookFactory(name="헬스 빨강 대응")
    for score in (9, 3, 7):
        SurveyResponseFactory(account=account, score=score, comment="좋아요")
    return {"account": account, "contract": account.contracts.get(), "task": task, "playbook": playbook}


def pages(world, churn_model) -> dict[str, str]:
    account = world["account"].pk
    return {
        "portfolio": "/portfolio/?owner=",
        "account": f"/accounts/{account}/",
        "renewals": "/renewals/?window=365&owner=",
        "forecast": f"/renewals/{world['contract'].pk}/forecast/",
        "leadership": "/leadership/",
        "status": "/status/",
        "churn model card": f"/churn-models/{churn_model.pk}/",
        "my tasks": "/tasks/",
        "task": f"/tasks/{world['task'].pk}/",
        "journey": "/journey/",
        "surveys": "/surveys/",
        "survey upload": "/surveys/upload/",
        "playbooks": "/playbooks/",
        "playbook dry run": f"/playbooks/{world['playbook'].pk}/dry-run/",
        "success plan": f"/accounts/{account}/success-plan/",
        "imports": "/imports/",
        "preferences": "/preferences/",
        "404": "/accounts/999999/",
    }


def test_every_page_reads_in_korean(client, ada, alice, korean_book, churn_model, missing_korean):
    client.force_login(ada)
    english = {}
    for name, url in pages(korean_book, churn_model).items():
        response = client.get(url)
        assert response.status_code == (404 if name == "404" else 200), (name, url)
        assert 'lang="ko"' in response.content.decode()
        english[name] = english_words(response.content.decode())

    client.force_login(alice)
    forbidden = client.get("/status/")
    assert forbidden.status_code == 403
    english["403"] = english_words(forbidden.content.decode())

    client.logout()
    login = client.get("/auth/login/", HTTP_ACCEPT_LANGUAGE="ko")
    english["login"] = english_words(login.content.decode())

    # The survey file's column names (account, kind, score...) stay as the file must spell them.
    english["survey upload"] = [word for word in english["survey upload"] if word != "account"]
    assert {name: words for name, words in english.items() if words} == {}
    # Language names are shown each in its own language (the switcher), never translated.
    assert sorted(missing_korean - {name for _code, name in settings.LANGUAGES}) == []


def test_the_users_language_wins_over_the_browsers(client, alice):
    client.force_login(alice)
    assert client.get("/preferences/", HTTP_ACCEPT_LANGUAGE="ko").headers["Content-Language"] == "ko"
    alice.language = "en"
    alice.save(update_fields=["language"])
    response = client.get("/preferences/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response.headers["Content-Language"] == "en"
    assert "Preferences" in response.content.decode()


def test_without_a_choice_or_a_browser_language_the_workspace_default(client, alice, settings):
    client.force_login(alice)
    assert client.get("/preferences/").headers["Content-Language"] == "en"


def test_the_switcher_sets_the_cookie_and_a_signed_in_users_preference(client, alice):
    client.force_login(alice)
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/preferences/"})
    assert response.status_code == 302 and response.url == "/preferences/"
    alice.refresh_from_db()
    assert alice.language == "ko"
    page = client.get("/preferences/").content.decode()
    assert "설정" in page and 'value="en"' in page  # the switcher offers English back

    client.post("/i18n/setlang/", {"language": "fr", "next": "/preferences/"})
    alice.refresh_from_db()
    assert alice.language == "ko"  # a language the platform does not speak is ignored


def test_the_switcher_works_before_signing_in(client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/auth/login/"})
    assert response.status_code == 302
    assert "로그인" in client.get("/auth/login/").content.decode()


def test_preferences_save_the_language(client, alice):
    client.force_login(alice)
    response = client.post("/preferences/", {"time_zone": "Asia/Seoul", "language": "ko"}, follow=True)
    alice.refresh_from_db()
    assert (alice.time_zone, alice.language) == ("Asia/Seoul", "ko")
    assert "설정을 저장했습니다" in response.content.decode()
