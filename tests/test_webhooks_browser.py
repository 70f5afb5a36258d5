"""In Debian's Chromium: a facilitator opens Webhooks from the meeting's settings, adds one, copies its secret
(shown once), finishes the meeting and reads the delivery in the log; axe-core finds nothing, light or dark."""

import re

import pytest

from tests.helpers import AppServer
from tests.test_facilitator_flow import axe_clean, shots
from tests.test_ux import LAPTOP, browser_for, open_page, start
from tests.test_ux import axe_source as axe_fixture  # noqa: F401 (test_ux's session fixture, registered here as axe_fixture)
from tests.test_webhooks_live import SENDER, finish
from tests.webhook_receiver import Receiver, verify

pytestmark = pytest.mark.browser


def test_a_facilitator_adds_a_webhook_sees_its_secret_once_and_its_delivery_in_the_log(chromium, tmp_path, request):
    from playwright.sync_api import expect

    from tests.helpers import HttpPerson

    with Receiver() as receiver:
        server = AppServer(f"sqlite:///{tmp_path / 'hooks.db'}", **SENDER).start(tmp_path / "server.log")
        context = None
        try:
            fay = HttpPerson(server.base)
            code = start(fay, "Webhook coffee")
            context = browser_for(chromium, fay, server.base)
            page = open_page(context, f"{server.base}/m/{code}", LAPTOP)
            page.get_by_text("Meeting settings").click()
            page.get_by_role("link", name="Webhooks").click()
            expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
            axe_clean(page, request, "webhooks, none yet")
            page.get_by_label(re.compile("^Address")).fill(receiver.url)
            page.get_by_label("Format").select_option("json")
            page.get_by_label(re.compile("Each topic discussed")).check()
            page.get_by_role("button", name="Add webhook").click()
            secret_box = page.locator("#webhook-secret")
            expect(secret_box).to_be_visible()
            secret = secret_box.input_value()
            assert secret.startswith("whsec_") and len(secret) > 40
            expect(page.locator(".webhook-url")).to_have_text(receiver.url)
            axe_clean(page, request, "webhooks, secret shown")
            shots(page, "webhooks-secret")
            finish(fay, code)
            [(headers, body, status)] = receiver.wait_for(1)
            assert verify(secret, headers, body)
            page.goto(f"{server.base}/m/{code}/webhooks")
            expect(page.locator("#webhook-secret")).to_have_count(0)  # shown only once
            log = page.locator(".delivery-log table")
            expect(log).to_contain_text("meeting.finished")
            expect(log.locator(".delivery-status")).to_have_text("delivered")
            expect(log.locator(".delivery-code")).to_have_text("200")
            axe_clean(page, request, "webhooks, delivery log")
            shots(page, "webhooks-log")
            page.get_by_role("button", name="Delete").click()  # asks first
            dialog = page.locator("dialog.confirm-dialog")
            expect(dialog).to_contain_text(f"Delete the webhook to {receiver.url}?")
            page.locator("#confirm-dialog-ok").click()
            expect(page.locator("#no-webhooks")).to_be_visible()
            assert page.errors == []
        finally:
            if context is not None:
                context.close()
            server.stop()
