"""Smart-charging calls as each OCPP version words them, answered from the station's SmartCharging
(charging.py): Set/Clear/GetChargingProfile(s), GetCompositeSchedule, ISO 15118 car messages."""

from datetime import UTC, datetime

from .charging import TX, iso
from .ev import charging_needs, pick_schedule


def profile_201(profile_16):
    """A 1.6 csChargingProfiles in 2.0.1 names (one schedule in a list, the 2.0.1 purpose)."""
    purpose = profile_16["chargingProfilePurpose"]
    profile = {
        "id": profile_16["chargingProfileId"],
        "stackLevel": profile_16["stackLevel"],
        "chargingProfilePurpose": "ChargingStationMaxProfile" if purpose == "ChargePointMaxProfile" else purpose,
        "chargingProfileKind": profile_16["chargingProfileKind"],
        "chargingSchedule": [dict(profile_16["chargingSchedule"])],
    }
    for key in ("recurrencyKind", "validFrom", "validTo", "transactionId"):
        if profile_16.get(key) is not None:
            profile[key] = profile_16[key]
    return profile


class SmartChargingCalls:
    """What both versions share: the remote start's profile, the current in meter values."""

    def remote_start_profile(self, evse_id, profile):
        """A remote start may bring the transaction's TxProfile (K05); anything else is refused."""
        if not profile:
            return True
        smart = self.station.smart
        if profile["chargingProfilePurpose"] != TX:
            return False
        try:
            smart.held.install(evse_id, profile)
        except ValueError:
            return False
        smart.changed()
        return True

    def current_a(self, evse):
        """Amperes per phase of the power drawn now (230 V, the phases the EVSE allows)."""
        return round(evse.meter.power_w / (230.0 * (evse.phases or 3)), 1)


class SmartCharging201(SmartChargingCalls):
    def on_SetChargingProfile(self, payload):
        smart, profile, evse_id = self.station.smart, payload["chargingProfile"], payload["evseId"]
        reason = smart.rejects(evse_id, profile, "2.0.1")
        if reason is not None:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidProfile", "additionalInfo": reason[:512]}}, None
        smart.install(evse_id, profile)
        follow_up = None
        if profile["chargingProfilePurpose"] == TX:
            session = self.station.evse(evse_id).session
            if session is not None and session.ev.iso15118:
                follow_up = self.notify_ev_charging_schedule(session, profile)
        return {"status": "Accepted"}, follow_up

    def on_ClearChargingProfile(self, payload):
        criteria = payload.get("chargingProfileCriteria") or {}
        profile_id = payload.get("chargingProfileId")
        cleared = self.station.smart.clear(
            profile_ids=None if profile_id is None else {profile_id},
            evse_id=criteria.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
        )
        return {"status": "Accepted" if cleared else "Unknown"}, None

    def on_GetChargingProfiles(self, payload):
        criteria = payload.get("chargingProfile") or {}
        ids, sources = criteria.get("chargingProfileId"), criteria.get("chargingLimitSource")
        self.station.smart.held.drop_expired(datetime.now(UTC))
        found = self.station.smart.held.select(
            profile_ids=None if ids is None else set(ids),
            evse_id=payload.get("evseId"),
            purpose=criteria.get("chargingProfilePurpose"),
            stack_level=criteria.get("stackLevel"),
            sources=None if sources is None else set(sources),
        )
        if not found:
            return {"status": "NoProfiles"}, None
        return {"status": "Accepted"}, self.report_charging_profiles(payload["requestId"], found)

    async def report_charging_profiles(self, request_id, found):
        """One part per EVSE and source, at most report_items_per_part profiles each (K09)."""
        size = max(1, self.station.profile.report_items_per_part)
        groups = {}
        for held in sorted(found, key=lambda held: (held.evse_id, held.parsed.id)):
            groups.setdefault((held.evse_id, held.source), []).append(dict(held.profile))
        parts = [
            (evse_id, source, profiles[i : i + size])
            for (evse_id, source), profiles in groups.items()
            for i in range(0, len(profiles), size)
        ]
        for index, (evse_id, source, profiles) in enumerate(parts):
            await self.station.call(
                "ReportChargingProfiles",
                {
                    "requestId": request_id,
                    "chargingLimitSource": source,
                    "evseId": evse_id,
                    "tbc": index < len(parts) - 1,
                    "chargingProfile": profiles,
                },
            )

    def on_GetCompositeSchedule(self, payload):
        evse_id = payload["evseId"]
        if evse_id and self.station.evse(evse_id) is None:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "UnknownEvse"}}, None
        unit = payload.get("chargingRateUnit") or "W"
        start, periods = self.station.smart.composite_answer(evse_id, payload["duration"], unit)
        schedule = {"evseId": evse_id, "duration": payload["duration"], "scheduleStart": iso(start),
                    "chargingRateUnit": unit, "chargingSchedulePeriod": periods}
        return {"status": "Accepted", "schedule": schedule}, None

    # --- an ISO 15118 car -------------------------------------------------------------------

    async def notify_ev_charging_needs(self, session, duration_s):
        """The car reports its needs once the transaction runs (K15); a TxProfile already held
        (from the remote start) is answered with the car's schedule at once."""
        ev, evse = session.ev, session.evse
        station = self.station
        ev_max_w = min(ev.max_power_w or station.profile.max_power_w, station.profile.max_power_w)
        payload = charging_needs(evse.evse_id, ev_max_w, duration_s, ev.energy_transfer, ev.max_schedule_tuples)
        session.departure_s = duration_s
        # Only a profile held before: one arriving from now on is answered when it arrives.
        held = station.smart.held.select(evse_id=evse.evse_id, purpose=TX)
        answer = await station.call("NotifyEVChargingNeeds", payload)
        station.ev_messages.append(("NotifyEVChargingNeeds", payload, answer))
        if held and evse.session is session:
            await self.notify_ev_charging_schedule(session, held[0].profile)

    async def notify_ev_charging_schedule(self, session, profile):
        """The schedule the car picks within what its EVSE's profiles allow (K15/K17)."""
        station, evse = self.station, session.evse
        unit = profile["chargingSchedule"][0]["chargingRateUnit"]
        duration = max(1, int(session.departure_s or 3600))
        start, periods = station.smart.composite_answer(evse.evse_id, duration, unit)
        ev_max_w = min(session.ev.max_power_w or station.profile.max_power_w, station.profile.max_power_w)
        schedule = pick_schedule(
            periods, unit, ev_max_w, duration, session.ev.max_schedule_tuples,
            profile["chargingSchedule"][0].get("id", 1),
        )
        payload = {"timeBase": iso(start), "evseId": evse.evse_id, "chargingSchedule": schedule}
        answer = await station.call("NotifyEVChargingSchedule", payload)
        station.ev_messages.append(("NotifyEVChargingSchedule", payload, answer))


class SmartCharging16(SmartChargingCalls):
    def on_SetChargingProfile(self, payload):
        smart, connector_id = self.station.smart, payload["connectorId"]
        profile = profile_201(payload["csChargingProfiles"])
        if smart.rejects(connector_id, profile, "1.6") is not None:
            return {"status": "Rejected"}, None
        smart.install(connector_id, profile)
        return {"status": "Accepted"}, None

    def on_ClearChargingProfile(self, payload):
        profile_id = payload.get("id")
        cleared = self.station.smart.clear(
            profile_ids=None if profile_id is None else {profile_id},
            evse_id=payload.get("connectorId"),
            purpose=payload.get("chargingProfilePurpose"),
            stack_level=payload.get("stackLevel"),
        )
        return {"status": "Accepted" if cleared else "Unknown"}, None

    def on_GetCompositeSchedule(self, payload):
        connector_id = payload["connectorId"]
        if connector_id and self.station.evse(connector_id) is None:
            return {"status": "Rejected"}, None
        unit = payload.get("chargingRateUnit") or "W"
        start, periods = self.station.smart.composite_answer(connector_id, payload["duration"], unit)
        return {
            "status": "Accepted",
            "connectorId": connector_id,
            "scheduleStart": iso(start),
            "chargingSchedule": {
                "duration": payload["duration"],
                "startSchedule": iso(start),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": periods,
            },
        }, None
