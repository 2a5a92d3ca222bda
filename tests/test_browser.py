"""The pages in a real browser: Debian's Chromium, driven by Playwright, against a live
``paperwire serve`` (a subprocess) on a SQLite database with three weeks of the shared HF data.

What a reader does every morning: the daily page, an abstract, days and weeks, the calendar,
search as you type, sign in and upvote without a reload, subscribe, the keyboard, math in
abstracts, the "New" badge; on a desktop, a phone and in dark mode.  Every page is checked for
console errors and for requests that leave 127.0.0.1; axe-core finds no serious or critical
accessibility violation on the daily, paper and search pages.  Screenshots go to
``artifacts/screenshots/`` (git-ignored).

Needs /usr/bin/chromium, the Python ``playwright`` package (no downloaded browsers), the
vendored front-end files and axe-core in node_modules (``npm ci``).  Without them the tests
skip and say why; under CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import HF_DIR, ROOT, free_port, needs_shared
from paperwire.community.repository import Community
from serve_process import ServeProcess
from web_helpers import HOSTILE_TITLE, hostile_record

CHROMIUM = Path("/usr/bin/chromium")
VENDOR = ROOT / "src" / "paperwire" / "web" / "static" / "vendor"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "artifacts" / "screenshots"
DAYS = [f"2024-10-{d:02d}" for d in (7, 8, 9, 10, 11, 14, 15, 16, 17, 18)]
MATH_PAPER, MATH_DAY = "2410.04717", "2024-10-09"  # its abstract has $textbf{...}$
LATEST = "2026-08-21"
USER, PASSWORD = "reader", "correct horse battery staple"
ADMIN = "keeper"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--metrics-recording-only",
]

pytestmark = pytest.mark.shared_data


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing: pip install -e '.[test]'"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install chromium (as .ci/run does)"
    if not (VENDOR / "katex.min.js").exists() or not (VENDOR / "htmx.min.js").exists():
        return "the vendored front-end files are missing: run scripts/update-assets"
    if not AXE.exists():
        return "axe-core is not installed: run npm ci (as .ci/run does)"
    return None


def _require_browser() -> None:
    why = _missing()
    if why and os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {why}")
    if why:
        pytest.skip(why)


# ---------------------------------------------------------------- the live server


def _seed(env: dict[str, str]) -> None:
    """Import the shared files and create the reader, in this process, through the store."""
    from paperwire.community.passwords import hash_password
    from paperwire.context import open_store
    from paperwire.settings import Settings
    from paperwire.sources.files import read_file

    settings = Settings(
        database_url=env["PAPERWIRE_DATABASE_URL"],
        data_dir=env["PAPERWIRE_DATA_DIR"],
        secret_key=env["PAPERWIRE_SECRET_KEY"],
        embed_on_import=False,
    )
    store = open_store(settings)
    try:
        files = [HF_DIR / f"{d}.json" for d in DAYS] + sorted(HF_DIR.glob("2026-08-*.json"))
        for path in files:
            store.import_records(read_file(path))
        # Hostile text on the day before the latest: markup and math in a title and abstract.
        store.import_records([hostile_record(__import__("datetime").date(2026, 8, 20))])
        Community.of(store).accounts.create_user(
            USER, hash_password(PASSWORD, "CHEAPEST"), fullname="A Reader"
        )
        Community.of(store).accounts.create_user(ADMIN, hash_password(PASSWORD, "CHEAPEST"))
        Community.of(store).accounts.set_admin(ADMIN)
    finally:
        store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, module_db_url) -> str:
    _require_browser()
    needs_shared(HF_DIR)
    tmp = tmp_path_factory.mktemp("browser")
    dead = f"http://127.0.0.1:{free_port()}"  # no live source is ever reached
    env = {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": module_db_url,
        "PAPERWIRE_DATA_DIR": str(tmp / "data"),
        "PAPERWIRE_SECRET_KEY": "browser-" + uuid.uuid4().hex,
        "PAPERWIRE_ARGON2_PROFILE": "CHEAPEST",
        "PAPERWIRE_EMBED_ON_IMPORT": "false",
        "PAPERWIRE_SYNC_ENABLED": "false",
        "PAPERWIRE_DIGEST_ENABLED": "false",
        "PAPERWIRE_SMTP_HOST": "127.0.0.1",
        "PAPERWIRE_SMTP_PORT": str(free_port()),
        "PAPERWIRE_DIGEST_RETRIES": "0",
        "PAPERWIRE_HF_URL": dead,
        "PAPERWIRE_ARXIV_API_URL": dead,
        "PAPERWIRE_OAI_URL": dead,
    }
    _seed(env)
    with ServeProcess(env, tmp / "serve.log", "--no-sync") as node:
        # Warm the search index once, so the first keystroke in the browser is not the slow one.
        httpx.get(node.url + "/search/suggest", params={"q": "model"}, timeout=60)
        yield node.url


# ---------------------------------------------------------------- the browser


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


class Watched:
    """A page with every request and console error recorded."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        self.page.wait_for_load_state("load")
        return response

    def check(self) -> None:
        away = [
            u
            for u in self.requests
            if urlsplit(u).scheme not in ("data", "blob", "about")
            and urlsplit(u).hostname != "127.0.0.1"
        ]
        assert not away, f"requests left localhost: {away}"
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.dialogs, f"something ran a dialog: {self.dialogs}"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def desktop(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    watched = Watched(context.new_page(), server)
    yield watched
    context.close()


def _cards(page) -> int:
    return page.locator(".cards > .card").count()


# ---------------------------------------------------------------- the tests


def test_daily_page_and_abstract(desktop):
    page = desktop.page
    r = desktop.go("/")
    assert r.status == 200
    assert _cards(page) > 5
    assert page.locator("h1").first.inner_text().strip()
    first = page.locator(".cards > .card").first
    details = first.locator("details")
    assert details.get_attribute("open") is None
    first.locator("summary").click()
    assert details.get_attribute("open") is not None
    assert first.locator(".abstract").is_visible()
    assert len(first.locator(".abstract").inner_text()) > 100
    # landmarks and the period navigation are there
    for selector in ("header.site", "main#main", "footer.site", "nav.periods", "form.jump"):
        assert page.locator(selector).count() >= 1, selector
    _shot(page, "desktop")
    desktop.check()


def test_days_weeks_and_calendar(desktop):
    page = desktop.page
    desktop.go("/")
    start = page.url
    page.locator(".periods a[rel=prev]").click()
    page.wait_for_url(lambda u: u != start)
    assert "/papers/date/2026-08-20" in page.url
    assert page.get_by_text(HOSTILE_TITLE).count() == 1  # shown as text, never as markup
    page.locator(".periods a[rel=next]").click()
    page.wait_for_url(f"**/papers/date/{LATEST}")
    page.locator(".periods a", has_text="Week").click()
    page.wait_for_url("**/papers/week/2026-W34")
    assert _cards(page) > 20
    page.locator(".periods a[rel=prev]").click()
    page.wait_for_url("**/papers/week/2026-W33")
    page.locator(".periods a", has_text="Month").click()
    page.wait_for_url("**/papers/month/2026-08")
    # the calendar: jump to a day with math in an abstract
    page.fill("#jump-day", MATH_DAY)
    page.select_option("#jump-kind", "day")
    page.locator("form.jump button").click()
    page.wait_for_url(f"**/papers/date/{MATH_DAY}")
    assert _cards(page) > 0
    desktop.check()


def test_math_is_rendered_and_nothing_runs(desktop):
    page = desktop.page
    desktop.go(f"/papers/date/{MATH_DAY}")
    card = page.locator(".cards > .card", has=page.locator(f'a[href="/papers/{MATH_PAPER}"]'))
    assert card.count() == 1
    assert card.locator(".abstract .katex").count() >= 1
    desktop.go(f"/papers/{MATH_PAPER}")
    assert page.locator(".abstract .katex").count() >= 1
    assert page.locator(".abstract .katex-mathml").count() >= 1  # readable by screen readers
    # hostile abstract: the math renders, the markup stays text, nothing executes
    desktop.go("/papers/2608.99999")
    assert page.locator(".abstract .katex").count() == 1
    assert page.locator("img[src=x]").count() == 0
    assert "<img src=x onerror=alert(1)>" in page.locator(".abstract").inner_text()
    _shot(page, "paper-math")
    desktop.check()


def test_search_as_you_type(desktop):
    page = desktop.page
    desktop.go("/")
    page.keyboard.press("/")  # the shortcut focuses the search box
    assert page.evaluate("document.activeElement.id") == "site-q"
    page.keyboard.type("diffus", delay=40)
    box = page.locator("#site-q-suggest")
    box.locator("li a").first.wait_for(state="visible", timeout=10_000)
    assert "/search/suggest" in " ".join(desktop.requests)
    # the box first shows the answer to an earlier keystroke ("d", "di", ...): wait for the
    # answer to the whole word, which replaces it
    deadline = time.monotonic() + 10
    while True:
        titles = box.locator("li a .t").all_inner_texts()
        if any("diffus" in t.lower() for t in titles) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert titles and any("diffus" in t.lower() for t in titles), titles
    _shot(page, "search-suggest")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('#site-q-suggest') !== null")
    page.keyboard.press("Escape")
    assert box.is_hidden()
    # Enter still runs the full search page
    page.locator("#site-q").press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=diffus$"))
    assert _cards(page) > 0
    desktop.check()


def test_keyboard_shortcuts(desktop):
    page = desktop.page
    desktop.go(f"/papers/date/{LATEST}")
    cards = page.locator(".cards > .card")
    page.keyboard.press("j")
    assert "current" in cards.nth(0).get_attribute("class")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "current" in cards.nth(1).get_attribute("class")
    assert page.evaluate("document.activeElement === document.querySelectorAll('.card')[1]")
    page.keyboard.press("a")
    assert cards.nth(1).locator("details").get_attribute("open") is not None
    page.keyboard.press("?")
    assert page.locator("dialog#pw-keys").is_visible()
    page.keyboard.press("Escape")
    assert page.locator("dialog#pw-keys").is_hidden()
    page.keyboard.press("h")  # previous day
    page.wait_for_url("**/papers/date/2026-08-20")
    page.keyboard.press("l")
    page.wait_for_url(f"**/papers/date/{LATEST}")
    page.keyboard.press("j")
    href = page.locator(".cards > .card.current .title a").get_attribute("href")
    page.keyboard.press("o")
    page.wait_for_url(f"**{href}")
    desktop.check()


def test_upvote_without_reload_after_signing_in(desktop):
    page = desktop.page
    desktop.go(f"/papers/date/{LATEST}")
    # signed out, the upvote button leads to the sign-in page (the plain form POST)
    page.locator(".cards > .card form.votes button").first.click()
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**/papers/date/{LATEST}")
    assert page.locator("nav.account").inner_text().count(USER) == 1
    page.evaluate("window.__sameDocument = true")
    card = page.locator(".cards > .card").nth(2)
    count = card.locator(".count")
    before = int(count.inner_text())
    card.locator("form.votes button").click()
    page.wait_for_function(
        "([el, n]) => el.textContent.trim() === String(n)", arg=[count.element_handle(), before + 1]
    )
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded"
    assert card.locator("form.votes button").get_attribute("aria-pressed") == "true"
    # u (keyboard) on the selected card withdraws it again
    card.locator(".title a").focus()
    page.keyboard.press("Escape")
    page.evaluate("document.querySelectorAll('.card')[2].focus()")
    page.keyboard.press("u")
    page.wait_for_function(
        "([el, n]) => el.textContent.trim() === String(n)", arg=[count.element_handle(), before]
    )
    assert page.evaluate("window.__sameDocument === true")
    page.wait_for_function(
        "() => document.getElementById('pw-status').textContent.includes('upvotes')"
    )
    # the server agrees: a reload shows the same count
    page.reload()
    assert int(page.locator(".cards > .card").nth(2).locator(".count").inner_text()) == before
    # the paper page's button updates its label and the split
    href = page.locator(".cards > .card").nth(0).locator(".title a").get_attribute("href")
    desktop.go(href)
    page.evaluate("window.__sameDocument = true")
    split = page.locator(".community .split").inner_text()
    page.locator("form.vote-form button").click()
    page.locator("form.vote-form button[aria-pressed=true]").wait_for()
    assert "Upvoted" in page.locator("form.vote-form button").inner_text()
    assert page.locator(".community .split").inner_text() != split
    assert page.evaluate("window.__sameDocument === true")
    desktop.check()


def test_subscribe_shows_confirmation_without_reload(desktop):
    page = desktop.page
    desktop.go("/")
    page.evaluate("window.__sameDocument = true")
    page.fill("#digest-email", "reader@example.org")
    page.fill("#digest-topics", "diffusion, agents")
    page.locator("form.digest-form button[type=submit]").click()
    notice = page.locator(".pw-notice")
    notice.wait_for(timeout=10_000)
    assert "Check your inbox" in notice.inner_text()
    assert "reader@example.org" in notice.inner_text()
    assert "ok" in notice.get_attribute("class")
    assert page.locator("#digest-email").input_value() == ""
    assert page.evaluate("window.__sameDocument === true")
    desktop.check()


def test_new_badge_since_last_visit(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    w = Watched(context.new_page(), server)
    page = w.page
    w.go("/")
    assert page.locator(".card .new").count() == 0  # first visit: nothing is new yet
    page.evaluate(
        """() => {
        localStorage.setItem('paperwire.lastVisit', String(Date.parse('2026-08-19T09:00:00Z')));
        localStorage.setItem('paperwire.lastSeen', String(Date.parse('2026-08-19T09:30:00Z')));
        }"""
    )
    w.go("/")  # a new visit; the previous one ended on 19 August
    n = _cards(page)
    assert n > 0 and page.locator(".card .new").count() == n
    w.go("/papers/date/2026-08-19")
    assert page.locator(".card .new").count() == 0
    w.go("/papers/date/2026-08-20")
    assert page.locator(".card .new").count() == _cards(page) > 0
    w.check()
    context.close()


WIDER_THAN_SCREEN = """() => {
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= width) return [];
    return [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > width + 0.5)
        .map(el => `${el.tagName}.${el.className} ${el.getBoundingClientRect().right}`)
        .slice(0, 5);
}"""


def test_phone_layout(browser, server):
    for width in (375, 320):
        # A phone-sized viewport (is_mobile emulation is left out: with Debian's Chromium it
        # ignores the viewport meta tag and lays pages out 980 px wide).
        context = browser.new_context(
            viewport={"width": width, "height": 800}, device_scale_factor=2, has_touch=True
        )
        w = Watched(context.new_page(), server)
        for path in ("/", f"/papers/{MATH_PAPER}", "/search?q=diffusion", "/papers/week/2026-W34"):
            w.go(path)
            wide = w.page.evaluate(WIDER_THAN_SCREEN)
            assert not wide, f"{path} scrolls sideways at {width}px: {wide}"
        if width == 375:
            w.go("/")
            w.page.locator(".cards > .card summary").first.click()
            _shot(w.page, "phone")
        w.check()
        context.close()


def test_dark_mode_follows_the_system(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    w = Watched(context.new_page(), server)
    w.go(f"/papers/date/{MATH_DAY}")
    bg = w.page.evaluate("getComputedStyle(document.body).backgroundColor")
    rgb = [int(x) for x in bg[bg.index("(") + 1 : bg.index(")")].split(",")[:3]]
    assert sum(rgb) < 120, f"dark mode background is {bg}"
    math_card = w.page.locator(
        ".cards > .card", has=w.page.locator(f'a[href="/papers/{MATH_PAPER}"]')
    )
    math_card.locator("summary").click()
    math_card.scroll_into_view_if_needed()
    assert math_card.locator(".katex").count() >= 1
    _shot(w.page, "dark")
    w.go("/")
    _shot(w.page, "dark-daily")
    w.check()
    context.close()


def test_pages_that_help_when_something_is_wrong(desktop):
    page = desktop.page
    r = desktop.go("/papers/2401.99999")
    assert r.status == 404
    assert "not in this database" in page.locator("main").inner_text()
    assert page.locator('main a[href="https://arxiv.org/abs/2401.99999"]').count() == 1
    assert page.locator("main form[role=search]").count() == 1
    r = desktop.go("/papers/date/2026-02-30")
    assert r.status == 400
    assert page.locator("main h1").inner_text() == "That address does not work"
    assert page.locator('main a[href="/"]').count() >= 1
    r = desktop.go("/papers/jump?day=someday")
    assert r.status == 400 and "not a date" in page.locator("main").inner_text()
    desktop.errors.clear()  # the browser logs the 404 and 400 responses themselves
    desktop.check()


def test_author_page_and_follow(browser, server):
    """From a paper page's author name to the author's page, then sign in and follow."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    w = Watched(context.new_page(), server)
    page = w.page
    w.go(f"/papers/{AUTHOR_PAPER}")
    link = page.locator(f'.authors.full a:text-is("{AUTHOR}")')
    link.click()
    page.wait_for_url(f"**{AUTHOR_PATH}")
    assert page.locator("main h1").inner_text() == AUTHOR
    assert page.locator(".cards > .card").count() == AUTHOR_PAPERS
    assert "several people" in page.locator(".note.ambiguous").inner_text()
    assert page.locator("#coauthors-h").count() == 1
    assert page.locator('head link[type="application/rss+xml"][href*="/feeds/author/"]').count()
    _shot(page, "author")
    # the sort by upvotes keeps every card; the date filter narrows them
    page.select_option(".author-filters select[name=sort]", "upvotes")
    page.locator(".author-filters button").click()
    page.wait_for_url("**sort=upvotes**")
    counts = [int(c) for c in page.locator(".cards .count").all_inner_texts()]
    assert len(counts) == AUTHOR_PAPERS and counts == sorted(counts, reverse=True)
    page.locator('.org-community a:text("Sign in")').click()
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{AUTHOR_PATH}")
    page.locator('.org-community button:text("Follow")').click()
    page.locator('.org-community button:text("Unfollow")').wait_for()
    assert "1 follower" in page.locator(".org-community").inner_text()
    _shot(page, "author-followed")
    w.check()
    context.close()


def test_papers_with_code(desktop):
    """The day page's "with code only" toggle and the GitHub-stars sort."""
    page = desktop.page
    desktop.go(f"/papers/date/{LATEST}")
    every = page.locator(".cards > .card").count()
    badges = page.locator(".cards > .card .badge.code").count()
    assert 0 < badges < every  # some papers of the day have code, some not
    page.locator('.sort a:text("with code only")').click()
    page.wait_for_url("**has_code=1**")
    assert page.locator(".cards > .card").count() == badges
    assert page.locator(".cards > .card .badge.code").count() == badges
    page.locator('.sort a:text("GitHub stars")').click()
    page.wait_for_url("**sort=stars**")
    assert "has_code=1" in page.url  # the filter stays on
    stars = [
        int(t.strip("★ ").replace(",", ""))
        for t in page.locator(".cards > .card .gh .stars").all_inner_texts()
    ]
    assert stars == sorted(stars, reverse=True) and len(stars) == badges
    _shot(page, "has-code")
    desktop.check()


def test_trend_chart_reads_in_dark_mode(browser, server):
    """The search page's papers-per-month chart: SVG bars without script, a table behind a
    disclosure, readable with the dark colour scheme."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    w = Watched(context.new_page(), server)
    page = w.page
    w.go("/search?q=diffusion")
    fig = page.locator("figure.trend")
    assert fig.is_visible()
    bars = fig.locator("svg rect").count()
    assert bars > 0
    color = fig.locator("svg").evaluate("el => getComputedStyle(el).color")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert color != background  # the bars stand out from the dark page
    fig.locator("summary").click()
    assert fig.locator("table tbody tr").count() == bars  # one row per month with papers
    fig.scroll_into_view_if_needed()
    _shot(page, "trend-dark")
    w.check()
    context.close()


def test_status_page_for_administrators(browser, server):
    """/status: the index's counts and freshness and the sync runs, for an administrator;
    axe-core finds nothing serious there either."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    w = Watched(context.new_page(), server)
    page = w.page
    w.go("/status")
    page.wait_for_url(re.compile(r"/login\?next=/status"))
    page.fill("#username", ADMIN)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/status")
    assert page.locator("main h1").inner_text() == "Status"
    rows = page.locator("#index-h + table tbody tr")
    assert rows.count() == 7
    papers = int(rows.nth(0).locator("td").inner_text().replace(",", ""))
    assert papers > 500  # the seeded days (about 550 papers)
    assert page.locator("#freshness").inner_text() != ""
    assert page.locator('#sources-h + table th[scope="row"]').count() >= 3
    _shot(page, "status")
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    w.check()
    context.close()


def test_collection_flow(browser, server):
    """Make a public collection, add two papers from the day's cards, move one up, annotate
    it, then read it signed out; axe-core on the owner's page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    w = Watched(context.new_page(), server)
    page = w.page
    w.go("/login?next=/collections")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/collections")
    page.fill("form.collection-form input[name=name]", "Reading group")
    page.check("form.collection-form input[name=public]")
    page.locator("form.collection-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/collections/\d+$"))
    here = urlsplit(page.url).path
    w.go(f"/papers/date/{LATEST}")
    titles = page.locator(".cards > .card .title a").all_inner_texts()[:2]
    for i in (0, 1):
        page.locator(".cards > .card").nth(i).locator("form.collect button").click()
        page.wait_for_url(f"**/papers/date/{LATEST}")
    w.go(here)
    shown = page.locator(".collection-item .title a").all_inner_texts()
    assert [t.strip() for t in shown] == [t.strip() for t in titles]
    page.locator(".collection-item").nth(1).locator('button:text("Up")').click()
    page.wait_for_url(f"**{here}**")
    items = page.locator(".collection-item")
    assert items.nth(0).locator(".title a").inner_text().strip() == titles[1].strip()
    items.nth(0).locator("input[name=note]").fill("Start with this one")
    items.nth(0).locator('button:text("Save note")').click()
    page.wait_for_url(f"**{here}**")
    assert page.locator(".collection-item .note").first.inner_text() == "Start with this one"
    _shot(page, "collection")
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    w.check()
    context.close()
    # signed out: the same order and note, no owner tools
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    r = Watched(other.new_page(), server)
    r.go(here)
    assert r.page.locator(".collection-item .note").first.inner_text() == "Start with this one"
    assert r.page.locator(".item-tools").count() == 0
    r.check()
    other.close()


def _papers_by(name: str) -> int:
    """Papers by ``name`` in the files ``_seed`` imports."""
    files = [HF_DIR / f"{d}.json" for d in DAYS] + sorted(HF_DIR.glob("2026-08-*.json"))
    ids = set()
    for path in files:
        for item in json.loads(path.read_text()):
            if any(a.get("name") == name for a in item["paper"]["authors"]):
                ids.add(item["paper"]["id"])
    return len(ids)


AUTHOR, AUTHOR_PATH = "Kaipeng Zhang", "/authors/Kaipeng%20Zhang"
AUTHOR_PAPERS = _papers_by(AUTHOR) if HF_DIR.exists() else 0
AUTHOR_PAPER = "2608.15659"  # one of his (the fifth of six authors)
AXE_PAGES = [
    "/",
    f"/papers/{MATH_PAPER}",
    "/search?q=diffusion",
    AUTHOR_PATH,
    f"/papers/date/{LATEST}?has_code=1&sort=stars",
    "/organizations/google",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_accessibility_axe(browser, server, scheme):
    # axe-core is injected by the test; only this context bypasses the CSP to allow that.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=scheme, bypass_csp=True
    )
    w = Watched(context.new_page(), server)
    source = AXE.read_text()
    problems = []
    for path in AXE_PAGES:
        w.go(path)
        w.page.add_script_tag(content=source)
        result = w.page.evaluate(
            "async () => await axe.run(document, {resultTypes: ['violations']})"
        )
        for v in result["violations"]:
            if v["impact"] in ("serious", "critical"):
                nodes = [n["target"] for n in v["nodes"][:3]]
                problems.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} {nodes}")
    assert not problems, "\n".join(problems)
    w.check()
    context.close()
