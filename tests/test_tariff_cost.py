"""The cost arithmetic and the tariff API."""
from decimal import Decimal

from transactions.metering import compute_cost
from transactions.models import Tariff


def test_cost_components_and_rounding():
    tariff = Tariff(price_per_kwh=Decimal("0.3333"), price_per_minute=Decimal("0.05"),
                    price_per_session=Decimal("0.99"), idle_fee_per_minute=Decimal("0.20"),
                    idle_grace_minutes=15, vat_percent=Decimal("21"), currency="EUR")
    cost = compute_cost(tariff, Decimal("12345"), charging_seconds=5400, duration_seconds=7800)
    assert cost.energy == Decimal("4.1146")  # 12.345 kWh x 0.3333
    assert cost.time == Decimal("4.5000")  # 90 min x 0.05
    assert cost.idle_minutes == Decimal("25.0000") and cost.idle == Decimal("5.0000")
    assert cost.subtotal == Decimal("14.6046")
    assert cost.total == Decimal("17.67")  # 14.6046 x 1.21 = 17.6716


def test_idle_within_grace_costs_nothing():
    tariff = Tariff(idle_fee_per_minute=Decimal("1"), idle_grace_minutes=30, currency="EUR")
    assert compute_cost(tariff, 0, 0, 1800).total == Decimal("0.00")


def test_tariff_api(api, identity, connect_station):
    connect_station(identity)
    created = api.post("/tariffs/", json={
        "name": f"api-{identity}", "currency": "chf", "price_per_kwh": "0.45",
        "vat_percent": "7.7", "stations": [identity]})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["currency"] == "CHF" and body["stations"] == [identity]
    bad = api.post("/tariffs/", json={"name": "negative", "price_per_kwh": "-1"})
    assert bad.status_code == 400 and "price_per_kwh" in bad.json()["detail"]
    unknown_station = api.patch(f"/tariffs/{body['id']}/", json={"stations": ["no-such-station"]})
    assert unknown_station.status_code == 400 and unknown_station.json()["detail"]
    moved = api.post("/tariffs/", json={"name": f"api2-{identity}", "stations": [identity]}).json()
    assert api.get(f"/tariffs/{body['id']}/").json()["stations"] == []
    assert moved["stations"] == [identity]
