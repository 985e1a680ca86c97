"""Pack and device labels through the pure ``labels`` package (a 2 x 1 in roll, one label a page)."""

from __future__ import annotations

import asyncio

import labels
from labels import Code, DeviceLabel, PackLabel
from server.core.service import site_zone
from server.errors import InvalidInput, NotFound
from server.reprocessing.devices import device_row
from server.reprocessing.loads import load_row
from server.reprocessing.rules import REQUIRED_PROCESS, Spaulding
from server.reprocessing.tables import Pack, Sterilizer


async def load_labels(site_id: int, load_id: int) -> bytes:
    """The labels of a load's packs: date, load number, sterilizer, operator's initials, contents."""
    load = await load_row(site_id, load_id)
    sterilizer = await Sterilizer.select(Sterilizer.name).where(Sterilizer.id == load["sterilizer"]).first()
    name = sterilizer["name"] if sterilizer else "—"
    packs = (
        await Pack.select(Pack.label_code, Pack.initials, Pack.device.name.as_alias("name"))
        .where(Pack.load == load_id)
        .order_by(Pack.id)
    )
    if not packs:
        raise InvalidInput("This load has no packs to label.", code="nothing_to_print")
    chosen = [
        PackLabel(
            sterilized_on=load["day"],
            sterilizer=name,
            load_number=str(load["load_number"]),
            operator_initials=load["operator_initials"] or p["initials"],
            contents=p["name"],
            code=Code.of_text(p["label_code"]),
        )
        for p in packs
    ]
    return await asyncio.to_thread(labels.render_roll, chosen)


async def pack_label(site_id: int, pack_id: int) -> bytes:
    """One pack's label at packaging: the load fields are filled once it joins a load."""
    pack = await Pack.select().where((Pack.id == pack_id) & (Pack.site == site_id)).first()
    if pack is None:
        raise NotFound("This pack does not exist at this site.", code="pack_not_found")
    device = await device_row(site_id, pack["device"])
    day, number, sterilizer = pack["packaged_at"].astimezone(await site_zone(site_id)).date(), "—", "—"
    if pack["load"] is not None:
        load = await load_row(site_id, pack["load"])
        st = await Sterilizer.select(Sterilizer.name).where(Sterilizer.id == load["sterilizer"]).first()
        day, number, sterilizer = load["day"], str(load["load_number"]), st["name"] if st else "—"
    label = PackLabel(
        sterilized_on=day,
        sterilizer=sterilizer,
        load_number=number,
        operator_initials=pack["initials"],
        contents=device["name"],
        code=Code.of_text(pack["label_code"]),
    )
    return await asyncio.to_thread(labels.render_roll, [label])


async def device_label(site_id: int, device_id: int) -> bytes:
    device = await device_row(site_id, device_id)
    process = REQUIRED_PROCESS[Spaulding(device["spaulding"])].value
    detail = f"{device['spaulding'].replace('_', '-')} · {process}"
    label = DeviceLabel(name=device["name"], code=Code.of_text(device["label_code"]), detail=detail)
    return await asyncio.to_thread(labels.render_roll, [label])
