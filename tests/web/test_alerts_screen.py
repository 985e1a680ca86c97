"""The alerts bell and inbox in Chromium: counts, French wording, acknowledge and snooze."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from server.alerts.sweep import sweep
from server.alerts.tables import Alert
from server.clock import utcnow
from server.core.rules import LocationKind, Role
from server.stock.rules import ItemKind
from server.stock.tables import Item
from tests.factories import make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.web.conftest import NewContext
from tests.web.test_stock_screens import check_screen, sign_in


async def _clinic() -> int:
    site = await make_site("Maple Grove")
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    tdap = await make_item(site, "Tdap vaccine")
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY)
    await Item.update({Item.reorder_point: 5}).where(Item.id == tdap)
    await Item.update({Item.reorder_point: 50}).where(Item.id == gloves)
    await receive(site, gloves, fridge, 20, lot="GL-1", expiry=None)  # 20 <= 50: low
    await receive(site, tdap, fridge, 1, lot="TD-1", expiry=utcnow().date() + timedelta(days=10))
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    await make_user("boss", site_id=site, role=Role.MANAGER)
    await make_user("ivy", site_id=site, role=Role.INSPECTOR)
    await sweep(utcnow())
    return site


async def test_the_bell_counts_and_the_inbox_acknowledges_and_snoozes(new_context: NewContext) -> None:
    await _clinic()
    alerts = await Alert.select(Alert.rule, Alert.id, Alert.subject_name)
    rules = {r["rule"]: r["id"] for r in alerts if r["subject_name"] != "Tdap vaccine"}
    assert set(rules) >= {"low_stock", "expiring", "count_overdue"}
    open_count = len(alerts)  # and Tdap is low too: 1 left, reorder at 5

    page: Page = await (await new_context()).new_page()
    await sign_in(page, "nurse", "scan")
    bell = page.locator("#alerts-bell")
    await expect(bell).to_be_visible()
    await expect(bell.locator(".bell-count")).to_have_text(str(open_count))
    await bell.click()
    await page.wait_for_url("**/#/alerts")
    items = page.locator("#alerts li.alert-item")
    await expect(items).to_have_count(open_count)
    low = page.locator(f"#alerts li[data-id='{rules['low_stock']}']")
    await expect(low.locator(".alert-title")).to_have_text("Low stock: Nitrile gloves, 20 left")
    await check_screen(page, "alerts")

    # Acknowledge with a comment: it lands (through the outbox) and the bell counts one fewer.
    await low.get_by_role("button", name="Acknowledge").click()
    await page.locator("dialog textarea").fill("Ordered 2 boxes")
    await page.locator("dialog button[type=submit]").click()
    await expect(low).to_contain_text("Acknowledged by Nurse: Ordered 2 boxes")
    await expect(bell.locator(".bell-count")).to_have_text(str(open_count - 1))
    row = await Alert.select().where(Alert.id == rules["low_stock"]).first()
    assert row["ack_comment"] == "Ordered 2 boxes" and row["acknowledged_by"].startswith("user:")
    await expect(low.get_by_role("button", name="Snooze 4 h")).to_have_count(0)  # assistants cannot snooze

    # In French, the manager snoozes the expiring lot for a day.
    page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/alerts")
    expiring = page.locator(f"#alerts li[data-id='{rules['expiring']}']")
    await expect(expiring.locator(".alert-title")).to_contain_text("Expire le")
    await expiring.get_by_role("button", name="Reporter d\u2019un jour").click()
    await expect(expiring).to_have_count(0)
    row = await Alert.select().where(Alert.id == rules["expiring"]).first()
    assert row["snoozed_until"] is not None and row["snoozed_until"] > utcnow() + timedelta(hours=23)

    # Inspectors read logs: no bell.
    page = await (await new_context()).new_page()
    await sign_in(page, "ivy", "logs")
    await expect(page.locator("#alerts-bell")).to_be_hidden()


async def test_alert_mail_on_the_account_screen_offers_what_the_role_allows(new_context: NewContext) -> None:
    from server.alerts.tables import Subscription

    await _clinic()
    page: Page = await (await new_context()).new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto("/#/account")
    card = page.locator("#alert-mail")
    await expect(card).to_be_visible()
    await expect(card.get_by_label("Urgent alerts right away")).to_have_count(0)  # assistants: digest only
    await card.get_by_label("E-mail address").fill("nurse@clinic.test")
    await card.locator("button[type=submit]").click()
    await expect(page.locator("#toast")).to_contain_text("Alert mail saved")
    [row] = await Subscription.select()
    assert (row["email"], row["digest"], row["immediate"]) == ("nurse@clinic.test", True, False)
    await check_screen(page, "account-alert-mail")

    page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/account")
    card = page.locator("#alert-mail")
    await card.get_by_label("Adresse courriel").fill("boss@clinic.test")
    await card.get_by_label("Les alertes urgentes tout de suite").check()
    await card.locator("button[type=submit]").click()
    await expect(page.locator("#toast")).to_contain_text("Courriels d\u2019alerte enregistr\u00e9s")
    saved = await Subscription.select().where(Subscription.email == "boss@clinic.test").first()
    assert saved is not None and saved["immediate"] is True

    page = await (await new_context()).new_page()
    await sign_in(page, "ivy", "logs")
    await page.goto("/#/account")
    await expect(page.locator(".screen-title")).to_have_text("Me")
    await expect(page.locator("#alert-mail")).to_have_count(0)  # inspectors get no alert mail
    await expect(page.locator("#alert-settings")).to_have_count(0)  # nor the site's alert settings


async def test_a_manager_sets_when_alerts_speak_up(new_context: NewContext) -> None:
    from server.alerts.tables import AlertSettings

    site = await _clinic()
    page: Page = await (await new_context()).new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto("/#/account")
    await expect(page.locator("#alert-mail")).to_be_visible()
    await expect(page.locator("#alert-settings")).to_have_count(0)  # assistants do not set them

    page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/account")
    card = page.locator("#alert-settings")
    vaccine = card.get_by_label("Avertir ce nombre de jours avant l\u2019expiration d\u2019un vaccin")
    await expect(vaccine).to_have_value("30")
    await vaccine.fill("45")
    await card.get_by_label("D\u00e9but des heures calmes (facultatif)").fill("22:00")
    await card.locator("button[type=submit]").click()
    await expect(page.locator("#toast")).to_contain_text("les deux bouts des heures calmes")
    row = await AlertSettings.select().where(AlertSettings.site == site).first()
    assert row is None  # refused (one end of the quiet hours only): nothing saved
    await card.get_by_label("Fin des heures calmes (facultatif)").fill("06:30")
    await card.locator("button[type=submit]").click()
    await expect(page.locator("#toast")).to_contain_text("R\u00e9glages des alertes enregistr\u00e9s")
    row = await AlertSettings.select().where(AlertSettings.site == site).first()
    assert row is not None and row["expiry_days_vaccine"] == 45 and row["dirty_hours"] == 4
    assert (row["quiet_start"].strftime("%H:%M"), row["quiet_end"].strftime("%H:%M")) == ("22:00", "06:30")
    await check_screen(page, "account-alert-settings")
