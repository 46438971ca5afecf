"""Each figure's "How is this computed?" link (issue 15): every ``{% docs_link %}`` of the templates names a page of
docs/ and an anchor that page has (its headings' ids as MkDocs' toc makes them, and ids set with attr_list); the app
serves the built documentation at /docs/ to signed-in users (a page saying to run `make docs` until it is built),
whose pages hold no inline script, so they work under the Content-Security-Policy."""

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import markdown
import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from tests.web import conftest as web
from tests.web.conftest import book
from tests.web.test_csp import inline_code

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
USE = re.compile(r"{%\s*docs_link\b")
LINK = re.compile(r'{%\s*docs_link\s+"(?P<page>[^"]+)"\s+"(?P<anchor>[^"]*)"')

frozen = web.frozen


def template_files() -> list[Path]:
    dirs = [Path(path) for engine in settings.TEMPLATES for path in engine["DIRS"]]
    dirs += [Path(app.path) / "templates" for app in apps.get_app_configs() if Path(app.path).is_relative_to(ROOT)]
    return sorted({path for folder in dirs if folder.is_dir() for path in folder.rglob("*.html")})


def docs_links() -> list[tuple[str, str, str]]:
    """(template, page, anchor) of every use of the tag."""
    found = []
    for path in template_files():
        text = path.read_text()
        links = [(str(path.relative_to(ROOT)), m["page"], m["anchor"]) for m in LINK.finditer(text)]
        assert len(links) == len(USE.findall(text)), f"{path}: docs_link takes its page and anchor as string literals"
        found += links
    return found


def mkdocs_config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


@cache
def anchors(page: str) -> frozenset[str]:
    """The ids of docs/``page``.md rendered with the Markdown extensions MkDocs uses for it (its own toc, tables and
    fenced_code, plus mkdocs.yml's): the toc extension gives each heading the id MkDocs' pages carry (its slugify,
    markdown.extensions.toc.slugify; a repeated heading gets _1, _2...), attr_list any explicit {#id}."""
    names, configs = ["toc", "tables", "fenced_code"], {}
    for item in mkdocs_config()["markdown_extensions"]:
        name, options = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        names += [name] if name not in names else []
        configs[name] = options or {}
    html = markdown.Markdown(extensions=names, extension_configs=configs).convert((DOCS / f"{page}.md").read_text())
    return frozenset(re.findall(r'\bid="([^"]+)"', html))


def test_the_figures_link_to_the_documentation():
    links = docs_links()
    pages = {page for _template, page, _anchor in links}
    # The pages the issue names: portfolio, renewals and forecast, account, leadership, journeys, the churn model card.
    assert len(links) >= 50, len(links)
    assert {"concepts/health-score", "concepts/retention", "concepts/renewals-and-value", "concepts/surveys"} <= pages


def test_every_link_names_a_page_and_an_anchor_of_the_docs():
    broken = []
    for template, page, anchor in docs_links():
        if not (DOCS / f"{page}.md").is_file():
            broken.append(f"{template}: docs/{page}.md does not exist")
        elif anchor and anchor not in anchors(page):
            broken.append(f"{template}: docs/{page}.md has no heading or id {anchor!r}")
    assert broken == []


def test_the_link_addresses_are_those_of_the_built_pages():
    """The tag links page.html: MkDocs builds docs/page.md there only without directory URLs."""
    assert mkdocs_config()["use_directory_urls"] is False


def test_the_tag_renders_an_accessible_translated_link(settings):
    template = Template('{% load docs_links %}{% docs_link "concepts/health-score" "bands" _("Health") %}')
    with translation.override("en"):
        html = template.render(Context())
    assert html == (
        '<a class="docs-link" href="/docs/concepts/health-score.html#bands" '
        'aria-label="How is this computed? (Health)">How is this computed?</a>'
    )
    with translation.override("ko"):
        assert ">어떻게 계산하나요?</a>" in template.render(Context())
    settings.DOCS_URL = "https://docs.example.com/csm/"
    assert 'href="https://docs.example.com/csm/concepts/health-score.html#bands"' in template.render(Context())
    with translation.override("en"):
        bare = Template('{% load docs_links %}{% docs_link "concepts/retention" "logo-churn" %}').render(Context())
    assert bare == '<a class="docs-link" href="https://docs.example.com/csm/concepts/retention.html#logo-churn">' + (
        "How is this computed?</a>"
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("frozen")
def test_the_portfolio_cards_link_to_their_sections(client, alice):
    book(n=3, owner=alice)
    client.force_login(alice)
    page = client.get(f"/portfolio/?owner={alice.pk}").content.decode()
    arr = page[page.index('id="portfolio-arr"') :]
    arr = arr[: arr.index("</div>")]
    assert 'href="/docs/concepts/contract-value.html#arr-and-mrr"' in arr
    assert 'href="/docs/concepts/renewals-and-value.html#arr-at-risk"' in page
    assert 'href="/docs/concepts/health-score.html#median-health"' in page


# ------------------------------------------------------------------------------------------------ serving /docs/


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.skip(f"mkdocs is not installed beside {sys.executable} (it is in the dev extra: make install)")
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [str(mkdocs), "build", "--quiet", "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return site


@pytest.mark.django_db
def test_docs_serves_the_built_site_to_signed_in_users(client, settings, built_site, alice):
    settings.DOCS_ROOT = built_site
    assert client.get("/docs/").url.startswith("/auth/login/?next=/docs/")
    client.force_login(alice)
    index = client.get("/docs/")
    assert index.status_code == 200 and index["Content-Type"] == "text/html"
    page = client.get("/docs/concepts/health-score.html")
    assert page.status_code == 200
    assert 'id="median-health"' in b"".join(page.streaming_content).decode()
    assert client.get("/docs/concepts/").status_code == 200  # a folder's index.html
    for path, content_type in {
        "css/base.css": "text/css",
        "js/globals.js": "text/javascript",
        "search/search_index.json": "application/json",
        "webfonts/fa-solid-900.woff2": "font/woff2",
    }.items():
        response = client.get(f"/docs/{path}")
        assert (response.status_code, response["Content-Type"]) == (200, content_type), path
    assert client.get("/docs/no-such-page.html").status_code == 404
    assert client.post("/docs/index.html").status_code == 405


def test_the_built_pages_hold_no_inline_script(built_site):
    """The app's policy (script-src 'self') refuses inline scripts: docs_theme/ gives the theme's globals to its
    scripts from a file."""
    found = {
        str(path.relative_to(built_site)): inline
        for path in built_site.rglob("*.html")
        if (inline := inline_code(path.read_text()))
    }
    assert found == {}


@pytest.mark.django_db
def test_docs_never_serves_a_file_outside_the_site(client, settings, tmp_path, alice):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>Docs</h1>")
    (tmp_path / "secret.txt").write_text("not for you")
    settings.DOCS_ROOT = site
    client.force_login(alice)
    for path in ("/docs/../secret.txt", "/docs/%2e%2e/secret.txt", "/docs/..%2fsecret.txt", f"/docs/{tmp_path}/x"):
        response = client.get(path)
        assert response.status_code in (400, 404), path  # 400: safe_join's SuspiciousFileOperation
        assert b"not for you" not in b"".join(getattr(response, "streaming_content", [response.content]))


@pytest.mark.django_db
def test_docs_says_how_to_build_it_until_it_is_built(client, settings, tmp_path, alice):
    settings.DOCS_ROOT = tmp_path / "site"  # not built
    client.force_login(alice)
    response = client.get("/docs/concepts/health-score.html")
    assert response.status_code == 404
    page = response.content.decode()
    assert "The documentation is not built yet" in page and "<code>make docs</code>" in page
    alice.language = "ko"
    alice.save(update_fields=["language"])
    assert "문서가 아직 빌드되지 않았습니다" in client.get("/docs/").content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_docs_work_under_the_policy_in_a_browser(live_server, client, settings, built_site, alice, monkeypatch):
    from tests.browser import CHROMIUM, CHROMIUM_ARGS, watch

    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    settings.DOCS_ROOT = built_site
    client.force_login(alice)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        page = context.new_page()
        problems = watch(page)
        with page.expect_console_message(lambda message: "search ready" in message.text):  # the index, in a worker
            page.goto("/docs/concepts/health-score.html#median-health")
        sync_api.expect(page.locator("h2#median-health")).to_be_visible()
        assert page.evaluate("() => [window.base_url, window.shortcuts.search]") == ["..", 83]
        page.keyboard.press("s")  # the theme's search shortcut (base.js)
        page.locator("#mkdocs-search-query").press_sequentially("retention")  # the search runs on keyup
        sync_api.expect(page.locator("#mkdocs-search-results article").first).to_be_visible()
        browser.close()
    assert problems == []
