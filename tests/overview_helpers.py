"""A small network in known states for the overview tests, and a naive oracle of its figures."""
import uuid
from datetime import datetime, timedelta, timezone

from stations.models import Connector, Station


def iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def ago(**delta):
    return iso(datetime.now(timezone.utc) - timedelta(**delta))


def start_network(connect_station, identity):
    """Four stations: one with an Available and an Occupied EVSE, a 1.6 one Faulted, one gone
    offline, one whose boot is Rejected. Returns (the stations still connected, identities)."""
    names = {role: f"{identity}-{role}" for role in ("mixed", "faulted", "gone", "rejected")}
    mixed = connect_station(names["mixed"])
    mixed.status("Available", evse_id=1)
    mixed.status("Occupied", evse_id=2)
    faulted = connect_station(names["faulted"], "1.6")
    faulted.status("Faulted", connector_id=1)
    gone = connect_station(names["gone"])
    gone.status("Available")
    gone.close()
    Station.objects.create(identity=names["rejected"], registration_policy="Rejected")
    rejected = connect_station(names["rejected"], boot=False)
    assert rejected.boot()["status"] == "Rejected"
    return [mixed, faulted, rejected], names


def session(station, transaction_id, seq_no, event_type, timestamp, energy_wh, power=None):
    """A 2.0.1 TransactionEvent with an energy register reading and power readings:
    `power` is kW, a number (phase-less) or a list (one per phase)."""
    samples = [{"value": energy_wh, "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"}}]
    if isinstance(power, (int, float)):
        samples.append({"value": power, "measurand": "Power.Active.Import",
                        "unitOfMeasure": {"unit": "kW"}})
    elif power:
        samples += [{"value": value, "measurand": "Power.Active.Import", "phase": phase,
                     "unitOfMeasure": {"unit": "kW"}} for phase, value in zip(("L1", "L2", "L3"), power)]
    payload = {"eventType": event_type, "timestamp": timestamp, "seqNo": seq_no,
               "triggerReason": {"Started": "CablePluggedIn", "Ended": "EVDeparted"}.get(
                   event_type, "MeterValuePeriodic"),
               "transactionInfo": {"transactionId": transaction_id},
               "evse": {"id": 1, "connectorId": 1},
               "meterValue": [{"timestamp": timestamp, "sampledValue": samples}]}
    if event_type == "Ended":
        payload["transactionInfo"]["stoppedReason"] = "EVDisconnected"
    return station.call("TransactionEvent", payload)


def new_transaction_id():
    return f"tx-{uuid.uuid4().hex[:10]}"


OCCUPIED = {"Occupied", "Charging", "Preparing", "SuspendedEV", "SuspendedEVSE", "Finishing"}


def naive_counts():
    """Station and connector counts by looking at every row in Python (the oracle the
    aggregate queries must agree with)."""
    stations = list(Station.objects.all())
    connectors = list(Connector.objects.select_related("station"))
    faulted_pks = {c.station_id for c in connectors if c.status == "Faulted"}
    station_counts = {
        "total": len(stations),
        "online": sum(s.online for s in stations),
        "offline": sum(not s.online for s in stations),
        "pending": sum(s.registration_status == "Pending" for s in stations),
        "rejected": sum(s.registration_status == "Rejected" for s in stations),
        "faulted": sum(s.pk in faulted_pks or s.status == "Faulted" for s in stations),
    }
    groups = {"available": {"Available"}, "occupied": OCCUPIED, "reserved": {"Reserved"},
              "faulted": {"Faulted"}, "unavailable": {"Unavailable"}}
    connector_counts = {"total": len(connectors), "offline": 0, "unknown": 0,
                        **{name: 0 for name in groups}}
    for connector in connectors:
        if not connector.station.online:
            connector_counts["offline"] += 1
            continue
        group = next((name for name, states in groups.items() if connector.status in states),
                     "unknown")
        connector_counts[group] += 1
    attention = {s.identity for s in stations
                 if not s.online or s.registration_status in ("Rejected", "Pending")
                 or s.pk in faulted_pks or s.status == "Faulted"}
    return station_counts, connector_counts, attention


def active_alert_count():
    from devicemodel.actions import active_alerts
    from stations.models import Alert

    return Alert.objects.filter(state=Alert.State.ACTIVE).count() + active_alerts().count()
