"""Hundreds of XSS payloads in names, messages, rooms and community descriptions, shown
in a real browser: no script may run, no element may be injected, and the Content
Security Policy must never have to block anything.

The payloads come from a generator of our own: classic vectors (script tags, event
handlers on every kind of element, javascript: and data: URLs, markdown links and
images, mXSS shapes, template syntax) crossed with mutations (case, whitespace,
markdown wrappers, broken nesting). Each payload carries its own number, so a
dialog or an injected element says which one got through.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from tests.browser.ui import live, new_page
from tests.people import Person

pytestmark = [pytest.mark.anyio, pytest.mark.browser]

VECTORS = [
    "<script>alert({n})</script>",
    "<svg><script>alert({n})</script></svg>",
    '"><img src=x onerror=alert({n})>',
    "'><svg/onload=alert({n})>",
    '<iframe src="javascript:alert({n})"></iframe>',
    '<iframe srcdoc="<script>alert({n})</script>"></iframe>',
    '<a href="javascript:alert({n})">link{n}</a>',
    "[link{n}](javascript:alert({n}))",
    "[link{n}](JaVaScRiPt:alert({n}))",
    "[data{n}](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '![img{n}](x" onerror="alert({n}))',
    "<object data=\"javascript:alert({n})\"></object>",
    '<embed src="javascript:alert({n})">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert({n})>",
    '<style>*{{background:url("javascript:alert({n})")}}</style>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert({n})">',
    '<form action="javascript:alert({n})"><button>go{n}</button></form>',
    "<i id=xss-{n} class=xss-{n}>marker{n}</i>",
    '<noscript><p title="</noscript><img src=x onerror=alert({n})>">',
    "<template><img src=x onerror=alert({n})></template>",
    '${{alert({n})}}{{{{constructor.constructor("alert({n})")()}}}}',
    '<base href="javascript:alert({n})//">',
    '<div style="background:url(javascript:alert({n}))">d{n}</div>',
    "<scr<script>ipt>alert({n})</scr</script>ipt>",
    "&lt;script&gt;alert({n})&lt;/script&gt;",
    "\\u003cscript\\u003ealert({n})\\u003c/script\\u003e",
    "javascript:alert({n})",
    '<a href="&#106;avascript:alert({n})">e{n}</a>',
    "<![CDATA[<script>alert({n})</script>]]>",
    "<!--<img src=x onerror=alert({n})>-->",
]
TAGS = ["img src=x", "svg", "body", "div", "video src=x", "audio src=x", "input autofocus",
        "details open", "marquee", "select autofocus"]
HANDLERS = ["onerror", "onload", "onmouseover", "onfocus", "ontoggle", "onstart",
            "onanimationstart", "onpointerenter"]
MUTATIONS = [
    lambda p: p,
    lambda p: p.swapcase().replace("ALERT", "alert").replace("XSS-", "xss-"),
    lambda p: p.replace(" ", "\t").replace("<", "<\n", 1),
    lambda p: f"**{p}** _{p[:1]}_",
    lambda p: f"> {p}\n\n- {p[:10]}",
]


def payloads() -> list[str]:
    bases = list(VECTORS) + [f"<{tag} {handler}=alert({{n}})>" for tag, handler
                             in itertools.product(TAGS, HANDLERS)]
    counter = itertools.count(1)
    found = []
    for base, mutate in itertools.product(bases, MUTATIONS):
        n = next(counter)
        found.append(mutate(base.replace("{n}", str(n)).replace("{{", "{").replace("}}", "}")))
    return found


PAYLOADS = payloads()
INJECTED = """() => {
  const bad = document.querySelectorAll([
    '[id^="xss-"]', '[class*="xss-"]', 'script:not([src])', 'iframe', 'object', 'embed',
    'base', 'meta[http-equiv]', 'form[action^="javascript" i]', 'a[href^="javascript" i]',
    'a[href^="data:" i]', '[onerror]', '[onload]', '[onmouseover]', '[onfocus]', '[ontoggle]',
    '[onstart]', '[onanimationstart]', '[onpointerenter]', '[style*="javascript" i]',
  ].join(','));
  return [...bad].map((el) => el.outerHTML.slice(0, 120));
}"""


def chunks(items: list[str], budget: int) -> Iterator[str]:
    """Join payloads into texts of at most ``budget`` characters."""
    current: list[str] = []
    for item in items:
        if current and len("\n\n".join([*current, item])) > budget:
            yield "\n\n".join(current)
            current = []
        current.append(item[:budget])
    if current:
        yield "\n\n".join(current)


def short(limit: int) -> list[str]:
    return [p for p in PAYLOADS if len(p.strip()) <= limit and p.strip()]


async def assert_inert(page: Page, where: str) -> None:
    await page.wait_for_timeout(150)  # let any handler that could fire, fire
    assert await page.evaluate(INJECTED) == [], where
    assert page.errors == [], (where, page.errors[:5])  # type: ignore[attr-defined]


def test_there_are_at_least_500_distinct_payloads():
    assert len(set(PAYLOADS)) >= 500
    assert len(short(64)) >= 100  # enough to use as names


@pytest.mark.settings(commands_per_minute=100_000, command_burst=100_000,
                      signups_per_hour_per_address=100_000)
async def test_payloads_in_names_messages_and_descriptions_stay_inert(server, new_context):
    names, descriptions = short(64), list(chunks(PAYLOADS, 3900))
    viewer = await Person.sign_up(server.url, names[0])
    for index, description in enumerate(descriptions):
        made = await viewer.call("POST", "/api/communities", {
            "community": f"xss-{index}", "name": names[index + 1],
            "domain": PAYLOADS[index][:200], "purpose": PAYLOADS[-index - 1][:200],
            "description": description, "join_policy": "open"})
        assert made.status_code == 201, made.text
    rooms = []
    for name, topic in zip(names[10:70], short(200)[70:130], strict=True):
        page = await viewer.call("POST", "/api/communities/xss-0/rooms",
                                 {"name": name, "topic": topic})
        assert page.status_code == 201, page.text
        rooms = page.json()["rooms"]
    room = rooms[0]["room"]
    sockets = []
    messages = list(chunks(PAYLOADS, 3900 // 8))
    for index, name in enumerate(names[70:100]):  # people named with payloads, present
        person = await Person.sign_up(server.url, name)
        await person.join("xss-0")
        socket = await person.connect(server.ws_url)
        await socket.identify(community="xss-0")
        await socket.command("join", room=room)
        await socket.command("post", room=room, text=messages[index % len(messages)])
        sockets.append(socket)
    poster = await viewer.connect(server.ws_url)
    await poster.identify(community="xss-0")
    await poster.command("join", room=room)
    for text in messages:
        assert (await poster.command("post", room=room, text=text))["type"] == "ack"
    await poster.close()
    stranger = await Person.sign_up(server.url, names[100])
    await stranger.call("POST", "/api/communities", {
        "community": "elsewhere", "name": names[101], "domain": names[102],
        "purpose": names[103], "description": descriptions[0]})

    context = await new_context()
    await context.add_cookies([
        {"name": "practica_session", "value": viewer.session_cookie, "url": server.url},
        {"name": "practica_csrf", "value": viewer.csrf, "url": server.url}])
    page = await new_page(lambda: _same(context))
    await page.goto(f"{server.url}/c/xss-0")
    await live(page)
    description = page.locator("#community-description")
    await expect(description).to_contain_text("alert(1)")  # shown, as text
    await assert_inert(page, "community intro")
    await page.locator("#room-list button").first.click()
    await expect(page.locator(".message-list .message")).to_have_count(50)
    await expect(page.locator("#people-list li")).to_have_count(len(sockets) + 1)
    await assert_inert(page, "room with messages and people")
    await page.get_by_role("button", name="Members", exact=True).click()
    await expect(page.locator(".member-row")).to_have_count(len(sockets) + 1)
    await assert_inert(page, "members")
    await page.get_by_role("button", name="Manage", exact=True).click()
    await expect(page.locator("#audit-list, .audit-table").first).to_contain_text("create room")
    await assert_inert(page, "manage and audit")
    for index in range(1, len(descriptions)):
        await page.goto(f"{server.url}/c/xss-{index}")
        await expect(page.locator("#community-description")).to_contain_text("alert(")
        await assert_inert(page, f"description {index}")
    await page.goto(f"{server.url}/c/elsewhere")  # a front page, as a visitor
    await expect(page.locator("#front-description")).to_contain_text("alert(1)")
    await assert_inert(page, "front page")
    await page.goto(f"{server.url}/?browse")
    await expect(page.get_by_text(names[101], exact=True)).to_be_visible()
    await assert_inert(page, "directory")
    for socket in sockets:
        await socket.close()


async def _same(context):
    return context
