"""Security headers on every response, and no secret in the access log."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from tests.web.conftest import AGENCY, Site
from web.pages.exports import feed_url
from web.security import SecretsMasked


def test_every_response_forbids_framing_sniffing_and_referrers(site: Site) -> None:
    agency = site.client(AGENCY)
    anonymous = site.client()
    responses = [
        anonymous.get("/login"),
        anonymous.get("/", follow_redirects=False),  # a redirect
        anonymous.get("/api/projects"),  # a 401
        agency.get("/dashboard"),
        agency.get(f"/projects/{site.project_a}"),
        agency.get("/api/projects"),
        agency.get("/projects/999999"),  # a 404 page
        anonymous.get("/answer/not-a-token"),  # a 403 page
        anonymous.get("/static/does-not-exist.css"),
    ]
    for response in responses:
        h = response.headers
        where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
        assert h["content-security-policy"] == "frame-ancestors 'none'", where
        assert h["x-frame-options"] == "DENY", where
        assert h["x-content-type-options"] == "nosniff", where
        assert h["referrer-policy"] == "no-referrer", where


def _access_line(path: str) -> str:
    """What uvicorn's access logger writes for a request to ``path`` (its own call)."""
    logger = logging.getLogger("uvicorn.access")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info('%s - "%s %s HTTP/%s" %d', "203.0.113.9:5123", "GET", path, "1.1", 200)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert len(records) == 1
    return records[0].getMessage()


def test_feed_keys_and_answer_tokens_are_masked_in_the_access_log(site: Site) -> None:
    feed = urlsplit(feed_url(site.c, site.project_a, site.agency))
    key = feed.query.removeprefix("key=")
    answer = urlsplit(site.c.make_link("report", site.project_a, 1, "q:2026-Q2")).path
    token = answer.removeprefix("/answer/")
    assert len(key) > 20 and len(token) > 20

    line = _access_line(f"{feed.path}?{feed.query}")
    assert key not in line
    assert f"/projects/{site.project_a}/calendar.ics?key=***" in line
    line = _access_line(f"{answer}/done?lang=en")
    assert token not in line
    assert "/answer/***/done?lang=en" in line
    line = _access_line(f"/login?next=/x&token={token}")
    assert token not in line and "next=/x&token=***" in line
    assert _access_line("/projects/3?page=2").endswith('"GET /projects/3?page=2 HTTP/1.1" 200')


def test_the_mask_is_installed_once_however_many_apps_are_built(site: Site) -> None:
    site.c.app()
    site.c.app()
    masks = [f for f in logging.getLogger("uvicorn.access").filters if isinstance(f, SecretsMasked)]
    assert len(masks) == 1


def test_the_mask_survives_uvicorns_logging_configuration(site: Site) -> None:
    """`copilote serve` builds the app, then uvicorn configures its loggers: still masked."""
    import logging.config

    from uvicorn.config import LOGGING_CONFIG

    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    saved = [(lg.handlers[:], lg.filters[:], lg.level, lg.propagate) for lg in loggers]
    try:
        logging.config.dictConfig(LOGGING_CONFIG)
        access = logging.getLogger("uvicorn.access")
        assert len([f for f in access.filters if isinstance(f, SecretsMasked)]) == 1
        answer = urlsplit(site.c.make_link("report", site.project_a, 1, "q:2026-Q2")).path
        assert answer.removeprefix("/answer/") not in _access_line(answer)
    finally:  # the other tests' logging as it was
        for lg, (handlers, filters, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers[:], lg.filters[:] = handlers, filters
            lg.setLevel(level)
            lg.propagate = propagate
