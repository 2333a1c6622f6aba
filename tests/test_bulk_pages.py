"""The bulk-action pages refuse bad input with the reason on the page (400), never a 500."""
import uuid


def test_bad_selections_are_shown_as_form_errors(dashboard, connect_station):
    identity = f"BP-{uuid.uuid4().hex[:8]}"
    connect_station(identity)
    cases = [
        ({"action": "reset"}, "Tick at least one station"),
        ({"action": "explode", "station": identity}, "Select a valid choice"),
        ({"action": "reset", "type": "Sideways", "station": identity}, "Select a valid choice"),
        ({"action": "reset", "station": "NO-SUCH-STATION-XYZ"}, "Unknown stations"),
        ({"action": "reset", "scope": "filter", "filter": f"q=none-{uuid.uuid4().hex}"},
         "chooses no station"),
        ({"action": "reset", "scope": "filter", "filter": "state=maybe"}, "state"),
    ]
    for query, reason in cases:
        answer = dashboard.get("/bulk-operations/confirm/", params=query)
        assert answer.status_code == 400, (query, answer.status_code)
        assert reason in answer.text, (query, answer.text[:2000])
        assert 'id="bulk-confirm"' not in answer.text

    # Confirming without a CSRF-valid form or with a wrong body is refused the same way.
    answer = dashboard.submit("/bulk-operations/start/", {"action": "reset"},
                              form_page=f"/bulk-operations/confirm/?action=reset&station={identity}")
    assert answer.status_code == 400 and "Tick at least one station" in answer.text

    page = dashboard.get("/bulk-operations/confirm/", params={"action": "reset", "station": identity})
    assert page.status_code == 200 and 'id="bulk-confirm"' in page.text
    answer = dashboard.submit("/bulk-operations/start/", {"action": "reset", "station": identity},
                              form_page=f"/bulk-operations/confirm/?action=reset&station={identity}")
    assert answer.status_code == 200 and "started on 1 station." in answer.text
    assert dashboard.get("/bulk-operations/").status_code == 200
    assert dashboard.get("/bulk-operations/999999999/").status_code == 404
