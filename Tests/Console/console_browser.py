#!/usr/bin/env python3
"""Browser test of the Conduit System Jobs console (static SPA served at /).

Run by a Swift test that prepares a server. Environment:
  CONDUIT_CONSOLE_URL          base URL of the server, e.g. http://127.0.0.1:PORT/
  CONDUIT_CONSOLE_KEY          a valid API key
  CONDUIT_CONSOLE_FAILED_JOB   id of a Failed (31) system job on `contact` that succeeds when retried
  CONDUIT_CONSOLE_SCREENSHOTS  optional directory for jobs.png, job-detail.png, endpoints.png, bus.png
  CONDUIT_CHROMIUM             default /usr/bin/chromium
  CONDUIT_CHROMEDRIVER         default /usr/bin/chromedriver

Prints `ok - <name>` / `not ok - <name>: <why>` per check and a last line
`CONSOLE passed=N failed=M`; exits 0 only when M == 0. Talks to loopback only.
"""

import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BUDGET_SECONDS = 75.0
START = time.monotonic()

URL = os.environ.get("CONDUIT_CONSOLE_URL", "").strip()
if URL and not URL.endswith("/"):
    URL += "/"
KEY = os.environ.get("CONDUIT_CONSOLE_KEY", "")
FAILED_JOB = os.environ.get("CONDUIT_CONSOLE_FAILED_JOB", "").strip().lower()
SHOTS = os.environ.get("CONDUIT_CONSOLE_SCREENSHOTS", "").strip()
CHROMIUM = os.environ.get("CONDUIT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONDUIT_CHROMEDRIVER", "/usr/bin/chromedriver")
DEBUG_DIR = os.path.join(SHOTS, "failures") if SHOTS else "/tmp/conduit-console-failures"

passed = 0
failed = 0
driver = None


class CheckFailed(Exception):
    pass


def elapsed():
    return time.monotonic() - START


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]


def save_debug(name):
    """Screenshot + page source of a failure, for debugging."""
    if driver is None:
        return
    try:
        os.makedirs(DEBUG_DIR, exist_ok=True)
        base = os.path.join(DEBUG_DIR, f"fail-{failed:02d}-{slug(name)}")
        driver.save_screenshot(base + ".png")
        with open(base + ".html", "w", encoding="utf-8") as f:
            f.write(driver.page_source)
        print(f"# debug saved: {base}.png / .html", flush=True)
    except Exception as e:  # never let debugging hide the result
        print(f"# cannot save debug output: {e}", flush=True)


def check(name, fn):
    """Runs one check; prints ok / not ok. Returns True when it passed."""
    global passed, failed
    if elapsed() > BUDGET_SECONDS:
        failed += 1
        print(f"not ok - {name}: skipped, time budget of {BUDGET_SECONDS:.0f} s used up", flush=True)
        return False
    try:
        fn()
    except Exception as e:  # any error is a failed check
        failed += 1
        why = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if not isinstance(e, (CheckFailed, AssertionError)):
            why = f"{type(e).__name__}: {why}"
        print(f"not ok - {name}: {why}", flush=True)
        if not isinstance(e, (CheckFailed, AssertionError)):
            traceback.print_exc(limit=3, file=sys.stdout)
        save_debug(name)
        return False
    passed += 1
    print(f"ok - {name}", flush=True)
    return True


def expect(cond, why):
    if not cond:
        raise CheckFailed(why)


def wait_for(fn, timeout, what):
    """Polls fn until it returns something truthy; ignores stale elements meanwhile."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except (StaleElementReferenceException,) as e:
            last_error = e
        except WebDriverException as e:
            last_error = e
        if time.monotonic() > deadline:
            extra = f" ({type(last_error).__name__})" if last_error else ""
            raise CheckFailed(f"timed out after {timeout:g} s waiting for {what}{extra}")
        time.sleep(0.1)


def css(sel):
    return driver.find_elements(By.CSS_SELECTOR, sel)


def one(sel):
    els = css(sel)
    return els[0] if els else None


# The console re-renders parts of a page as live updates arrive, so an element found a moment ago may be gone
# (StaleElementReferenceException). The helpers below read the DOM in one script call, which holds no element
# across calls, and act on an element found again when it went stale.

def js(script, *args):
    return driver.execute_script(script, *args)


def visible(sel):
    """The first element matching sel when it is displayed, else None."""
    for _ in range(20):
        try:
            e = one(sel)
            return e if e is not None and e.is_displayed() else None
        except StaleElementReferenceException:
            time.sleep(0.05)
    return None


def attr(sel, name):
    """An attribute of the first element matching sel (None when there is none)."""
    return js("const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
              sel, name)


def text_of(sel, default=None):
    """The rendered text of the first element matching sel (default when there is none)."""
    t = js("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;", sel)
    return default if t is None else t


def texts_of(sel):
    """The rendered texts of every element matching sel."""
    return js("return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);", sel)


def click(sel, what=None):
    """Clicks the first element matching sel, finding it again if the page re-rendered it meanwhile."""
    last = None
    for _ in range(20):
        e = one(sel)
        if e is None:
            raise CheckFailed(f"no {what or sel} to click")
        try:
            e.click()
            return
        except StaleElementReferenceException as error:
            last = error
            time.sleep(0.05)
    raise CheckFailed(f"{what or sel} kept being re-rendered: {last}")


def status_shown(code, word):
    """The job status element says `code` in data-status and `word` in its text."""
    st = js("const e = document.querySelector('[data-test=\"job-status\"]');"
            " return e ? [e.getAttribute('data-status'), e.innerText] : null;")
    return st is not None and st[0] == code and word in (st[1] or "")


def shot(name):
    if not SHOTS:
        return
    try:
        os.makedirs(SHOTS, exist_ok=True)
        time.sleep(0.3)  # let the fresh-row highlight and layout settle
        driver.save_screenshot(os.path.join(SHOTS, name))
        print(f"# screenshot {os.path.join(SHOTS, name)}", flush=True)
    except Exception as e:
        print(f"# cannot save screenshot {name}: {e}", flush=True)


def page_ready(test):
    return attr(f'[data-test="{test}"]', "data-state") == "ready"


def marker():
    return driver.execute_script("return window.__noReload === undefined ? null : window.__noReload;")


def job_rows():
    """[(id, status)] of the job rows on the list page."""
    rows = js("return Array.from(document.querySelectorAll('tr[data-job-id]'))"
              ".map(r => [r.getAttribute('data-job-id').toLowerCase(), r.getAttribute('data-status')]);")
    return [tuple(r) for r in rows]


def jobs_list_ready(query):
    """The list page has finished loading the data of exactly this hash (e.g. "#/jobs?status=31")."""
    page = js("const e = document.querySelector('[data-test=\"page-jobs\"]');"
              " return e ? [e.getAttribute('data-state'), e.getAttribute('data-query')] : null;")
    return page is not None and page[0] == "ready" and page[1] == query


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for a in (
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
        "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--metrics-recording-only", "--password-store=basic",
        # loopback only: nothing but 127.0.0.1 / localhost resolves
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost",
    ):
        options.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    d.set_page_load_timeout(20)
    d.set_script_timeout(10)
    return d


def post_contact():
    req = urllib.request.Request(
        URL + "api/data/v9.2/contacts",
        data=json.dumps({"firstname": "Live", "lastname": "Update"}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", "Accept": "application/json",
                 "OData-Version": "4.0", "OData-MaxVersion": "4.0"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        body = e.read()[:300].decode("utf-8", "replace")
        raise CheckFailed(f"POST contacts answered {e.code}: {body}")


# ----------------------------------------------------------------------------------------------------
# The checks
# ----------------------------------------------------------------------------------------------------

state = {}


def t_signin_required():
    driver.get(URL + "#/jobs")
    wait_for(lambda: visible("#signin-key"), 15, "the sign-in form")
    expect(visible("#signin-button") is not None, "no sign-in button")
    expect(not css('[data-test="page-jobs"]'), "the jobs page is in the DOM without a key")
    expect(not css("tr[data-job-id]"), "job rows are shown without a key")
    expect(not css('[data-test="nav-jobs"]'), "the navigation is shown without a key")


def t_wrong_key():
    box = wait_for(lambda: visible("#signin-key"), 5, "the sign-in form")
    box.clear()
    box.send_keys("not-the-right-key-" + str(int(time.time())))
    click("#signin-button", "the sign-in button")
    wait_for(lambda: visible("#signin-error"), 10, "the sign-in error message")
    text = (text_of("#signin-error") or "").strip()
    expect(len(text) > 5, f"sign-in error is empty: {text!r}")
    expect(not css('[data-test="page-jobs"]'), "the jobs page appeared with a wrong key")


def t_right_key():
    box = wait_for(lambda: visible("#signin-key"), 5, "the sign-in form")
    box.clear()
    box.send_keys(KEY)
    click("#signin-button", "the sign-in button")
    wait_for(lambda: page_ready("page-jobs"), 15, "the jobs list (data-state=ready)")
    expect(not css("#signin-key"), "the sign-in form is still shown")
    rows = wait_for(lambda: css("tr[data-job-id]"), 5, "job rows")
    expect(len(rows) > 0, "no job rows")
    expect(visible('[data-test="signout"]') is not None, "no Sign out link")
    shot("jobs.png")


def t_counts_failed():
    wait_for(lambda: one('[data-test="count"][data-status="31"]'), 5, 'the count button data-status="31"')
    n = int(attr('[data-test="count"][data-status="31"]', "data-count") or "0")
    expect(n >= 1, f"the Failed count is {n}")
    state["failed_count"] = n


def t_filter_failed():
    click('[data-test="count"][data-status="31"]', "the Failed count")
    wait_for(lambda: "status=31" in driver.current_url, 5, "status=31 in the URL")
    wait_for(lambda: jobs_list_ready("#/jobs?status=31"), 10, "the list filtered by status=31")
    rows = job_rows()
    expect(rows, "no rows after filtering by Failed")
    bad = [r for r in rows if r[1] != "31"]
    expect(not bad, f"{len(bad)} rows are not Failed, e.g. {bad[:2]}")
    ids = {r[0] for r in rows}
    if FAILED_JOB not in ids:
        # the job may be older than the first page: show the largest page the API allows
        driver.execute_script("location.hash = arguments[0]", "#/jobs?status=31&size=500")
        wait_for(lambda: jobs_list_ready("#/jobs?status=31&size=500"), 10, "the list with 500 rows a page")
        rows = job_rows()
        expect(all(r[1] == "31" for r in rows), "rows that are not Failed with 500 a page")
        ids = {r[0] for r in rows}
    expect(FAILED_JOB in ids, f"the failed job {FAILED_JOB} is not in the Failed list ({len(ids)} rows)")


def t_filter_in_url():
    url = driver.current_url
    expect("status=31" in url, f"the URL has no status filter: {url}")
    query = "#" + url.split("#", 1)[1]
    driver.refresh()  # a reload keeps the filter
    wait_for(lambda: jobs_list_ready(query), 15, f"the jobs list {query} after a reload")
    expect("active" in (attr('[data-test="count"][data-status="31"]', "class") or ""),
           "after a reload the Failed filter is not active")
    rows = job_rows()
    expect(rows and all(r[1] == "31" for r in rows), "after a reload the rows are not all Failed")


def t_detail_status():
    links = [f'tr[data-job-id="{FAILED_JOB}"] a[data-test="job-link"]',
             f'tr[data-job-id="{FAILED_JOB.upper()}"] a[data-test="job-link"]']
    link = wait_for(lambda: next((sel for sel in links if one(sel) is not None), None), 5, "the failed job's link")
    click(link, "the failed job's link")
    wait_for(lambda: page_ready("page-job"), 10, "the job detail page")
    expect(FAILED_JOB in driver.current_url.lower(), f"the URL is not the job's: {driver.current_url}")
    try:
        wait_for(lambda: status_shown("31", "Failed"), 5, "the status Failed (31, 'Failed')")
    except CheckFailed as e:
        shown = text_of('[data-test="job-status"]', "not shown")
        raise CheckFailed(f"{e}; status is {shown!r}")


def t_detail_error():
    texts = [t.strip() for t in texts_of('[data-test="job-message"], [data-test="job-friendlymessage"]')]
    texts = [t for t in texts if t]
    expect(texts, "no error message shown")
    code = (text_of('[data-test="job-errorcode"]') or "").strip()
    if code not in ("", "—"):
        expect(re.search(r"0x[0-9a-f]{8}", code), f"error code not shown as hex: {code!r}")


def t_detail_history():
    rows = css('[data-test="attempt"]')
    expect(len(rows) >= 1, "the run history has no attempt")


def context_tab(tab, pane):
    err = text_of('[data-test="context-error"]')
    if err is not None:
        raise CheckFailed(f"contextError shown: {err.strip()}")
    wait_for(lambda: visible(f'[data-test="ctx-tab-{tab}"]'), 5, f"the {tab} tab")
    click(f'[data-test="ctx-tab-{tab}"]', f"the {tab} tab")
    wait_for(lambda: visible(f'[data-test="{pane}"]'), 5, f"the {tab} pane")
    return text_of(f'[data-test="{pane}"]', "")


def t_context_tree():
    text = context_tab("tree", "ctx-tree")
    expect("contact" in text, "the context tree does not mention contact")


def t_context_json():
    text = context_tab("json", "ctx-json")
    expect("RemoteExecutionContext" in text or "MessageName" in text, f"JSON tab text: {text[:120]!r}")


def t_context_xml():
    text = context_tab("xml", "ctx-xml")
    expect("RemoteExecutionContext" in text or "MessageName" in text, f"XML tab text: {text[:120]!r}")
    context_tab("tree", "ctx-tree")
    shot("job-detail.png")


def t_retry():
    driver.execute_script("window.__noReload = 1;")
    wait_for(lambda: visible('[data-test="action-retry"]'), 5, "the Retry now button")
    expect(attr('[data-test="action-retry"]', "disabled") is None, "Retry now is disabled on a Failed job")
    click('[data-test="action-retry"]', "Retry now")
    try:
        # the page re-renders the status element as the job changes: code and text are read from one element
        wait_for(lambda: status_shown("30", "Succeeded"), 15, "the status to become Succeeded (30, 'Succeeded')")
    except CheckFailed as e:
        st = text_of('[data-test="job-status"]', "?")
        banner = text_of('[data-test="action-result"]', "-")
        raise CheckFailed(f"{e}; status is {st}; action result: {banner}")
    expect(marker() == 1, "the page was reloaded (window.__noReload is gone)")


def t_live_indicator():
    e = wait_for(lambda: attr('[data-test="live-indicator"]', "data-state") == "connected", 10, "the live indicator to be connected")
    expect(e, "not connected")


def t_live_update():
    driver.execute_script("window.__noReload = 1;")
    click('[data-test="nav-jobs"]', "the Jobs link")
    wait_for(lambda: jobs_list_ready("#/jobs"), 10, "the unfiltered jobs list")
    time.sleep(0.5)  # let a refresh caused by the retry settle
    total = int(attr('[data-test="jobs-total"]', "data-total") or "0")
    before = {r[0] for r in job_rows()}
    post_contact()

    def grew():
        t = int(attr('[data-test="jobs-total"]', "data-total") or "0")
        return t > total or any(r[0] not in before for r in job_rows())

    wait_for(grew, 10, f"more than {total} jobs or a new row")
    expect(marker() == 1, "the page was reloaded (window.__noReload is gone)")
    shot("jobs.png")


def open_page(nav, page, error, label):
    """Clicks a navigation link and waits for its page; its error element must not show."""
    click(f'[data-test="{nav}"]', label)
    wait_for(lambda: page_ready(page) or one(f'[data-test="{error}"]'), 10, label)
    err = text_of(f'[data-test="{error}"]')
    expect(err is None, f"error: {err}")


def t_endpoints():
    open_page("nav-endpoints", "page-endpoints", "endpoints-error", "the endpoints page")
    eps = css('[data-test="endpoint"]')
    expect(len(eps) >= 1, "no service endpoint listed")
    wait_for(lambda: css('[data-test="steps"] tbody tr'), 5, "the steps of the endpoints")
    shot("endpoints.png")


def t_bus():
    open_page("nav-bus", "page-bus", "bus-load-error", "the bus page")
    expect(len(css('[data-test="bus-entity"]')) >= 1, "no bus entity listed")
    # open a queue or subscription with messages for the screenshot (best effort)
    for kind in ("queue", "subscription"):
        entity = f'[data-test="bus-entity"][data-kind="{kind}"]'
        if one(entity) is None:
            continue
        try:
            click(entity, f"a {kind}")
            wait_for(lambda: css('[data-test="bus-messages"] tbody tr'), 5, "peeked messages")
            if one('[data-test="bus-message-row"]') is not None:
                click('[data-test="bus-message-row"]', "a message")
                wait_for(lambda: css('[data-test="bus-message-body"]'), 5, "the message body")
        except CheckFailed:
            pass
        break
    shot("bus.png")


def t_expired_key():
    driver.execute_script("sessionStorage.setItem('conduit.console.key', 'expired-' + Date.now());")
    click('[data-test="nav-jobs"]', "the Jobs link")
    wait_for(lambda: visible("#signin-key"), 10, "the sign-in form after a 401")
    msg = (text_of("#signin-error") or "").strip()
    expect(msg, "no message explains why the sign-in form is back")
    expect(not css('[data-test="page-jobs"]'), "the jobs page is still shown")


def main():
    global driver, failed
    missing = [n for n, v in (("CONDUIT_CONSOLE_URL", URL), ("CONDUIT_CONSOLE_KEY", KEY), ("CONDUIT_CONSOLE_FAILED_JOB", FAILED_JOB)) if not v]
    if missing:
        print(f"not ok - environment: missing {', '.join(missing)}")
        print("CONSOLE passed=0 failed=1")
        return 1
    try:
        driver = make_driver()
    except Exception as e:
        print(f"not ok - start chromium: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        print("CONSOLE passed=0 failed=1")
        return 1
    try:
        check("without a key only the sign-in form is shown", t_signin_required)
        check("a wrong key shows an error", t_wrong_key)
        signed_in = check("the right key signs in and shows the jobs list", t_right_key)
        if signed_in:
            check("the counts bar shows at least one Failed job", t_counts_failed)
            filtered = check("filtering by Failed shows only Failed rows, with the given job", t_filter_failed)
            check("the status filter is in the URL and survives a reload", t_filter_in_url)
            detail = filtered and check("the job detail shows status Failed", t_detail_status)
            if detail:
                check("the job detail shows the error message", t_detail_error)
                check("the job detail shows at least one attempt", t_detail_history)
                check("the context tree mentions contact", t_context_tree)
                check("the context JSON tab shows the context", t_context_json)
                check("the context XML tab shows the context", t_context_xml)
                check("Retry now makes the job Succeeded without a reload", t_retry)
            else:
                for n in ("job detail checks", "Retry now"):
                    failed += 1
                    print(f"not ok - {n}: skipped, the job detail page could not be opened")
            check("the live indicator is connected", t_live_indicator)
            check("a new contact shows up in the list live, without a reload", t_live_update)
            check("the endpoints page lists an endpoint", t_endpoints)
            check("the bus page lists an entity", t_bus)
            check("a rejected key later brings back the sign-in form with a message", t_expired_key)
    finally:
        try:
            driver.quit()
        except Exception:
            pass
    print(f"# {elapsed():.1f} s", flush=True)
    print(f"CONSOLE passed={passed} failed={failed}", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
