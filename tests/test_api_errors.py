"""The API answers JSON `{"detail": ...}` to every error: bad paging, unrouted paths, wrong
methods, and 503 + Retry-After while its database is unreachable."""
import os

import httpx
import pytest

from tests.api_servers import own_database_server

HUGE = "99999999999999999999"


def assert_json_error(response, status):
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    assert response.json()["detail"], response.text
    return response.json()


@pytest.fixture(scope="module")
def schema(csms, operator):
    response = httpx.get(f"{csms.base_url}/api/v1/schema/", params={"format": "json"},
                         headers={"Authorization": f"Token {operator['token']}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def paged_lists(schema):
    """Every GET operation of the schema that takes `limit`, with `{...}` still in the path."""
    return sorted(path for path, operations in schema["paths"].items()
                  if any(parameter["name"] == "limit"
                         for parameter in operations.get("get", {}).get("parameters", [])))


@pytest.mark.parametrize("limit", [HUGE, "100000000", "1001", "0", "-1", "abc", "1.5", "", " 5"])
def test_a_limit_out_of_range_is_a_400_naming_it(api, limit):
    body = assert_json_error(api.get("/stations/", params={"limit": limit}), 400)
    assert body["detail"] == "limit: A whole number from 1 to 1000."


@pytest.mark.parametrize("offset", [HUGE, "-1", "x", "4611686018427387905"])
def test_an_offset_out_of_range_is_a_400_naming_it(api, offset):
    body = assert_json_error(api.get("/commands/", params={"offset": offset}), 400)
    assert body["detail"].startswith("offset: A whole number from 0 to ")


def test_pages_within_bounds(api):
    for _ in range(3):
        api.post("/stations/", json={"identity": f"CS-page-{os.urandom(4).hex()}"})
    first = api.get("/stations/", params={"limit": 2})
    assert first.status_code == 200
    body = first.json()
    assert len(body["results"]) == 2 and body["count"] >= 3 and "limit=2" in body["next"]
    assert api.get("/stations/", params={"limit": 1000}).json()["count"] == body["count"]
    beyond = api.get("/stations/", params={"offset": 2**62, "limit": 1}).json()
    assert beyond["results"] == [] and beyond["count"] == body["count"]


def test_every_list_bounds_its_limit(api, schema, identity):
    api.post("/stations/", json={"identity": identity})
    lists = paged_lists(schema)
    assert "/api/v1/stations/" in lists and "/api/v1/stations/{identity}/events/" in lists
    for path in lists:
        url = path.removeprefix("/api/v1").replace("{identity}", identity)
        if "{" not in url:
            assert_json_error(api.get(url, params={"limit": HUGE}), 400)
        else:  # a list under another object (a transaction's meter values): 404 if it is not there
            url = url.split("{")[0] + "1" + url.split("}", 1)[1]
            response = api.get(url, params={"limit": HUGE})
            assert_json_error(response, response.status_code)
            assert response.status_code in (400, 404)


def test_the_schema_documents_the_bounds(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/stations/"]["get"]["parameters"]}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000,
                                             "default": 100}
    assert parameters["offset"]["schema"]["minimum"] == 0
    assert "1 to 1000" in parameters["limit"]["description"]


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/v1/stations/x/no-such-action/",
                                  "/api/v2/stations/", "/api/", "/api/v1/stations/a/b/c/d/e/"])
def test_unrouted_api_paths_are_json_404(csms, operator, path):
    response = httpx.get(csms.base_url + path, headers={"Authorization": f"Token {operator['token']}"})
    body = assert_json_error(response, 404)
    assert path in body["detail"] and "/api/v1/docs/" in body["detail"]


def test_a_missing_final_slash_redirects_keeping_the_method(csms, api, identity):
    response = api.post("/stations", json={"identity": identity})
    assert response.status_code == 308 and response.headers["location"] == "/api/v1/stations/"
    assert "/api/v1/stations/" in response.json()["detail"]
    followed = httpx.post(csms.base_url + response.headers["location"], json={"identity": identity},
                          headers={"Authorization": api.headers["Authorization"]})
    assert followed.status_code == 201, followed.text


def test_unrouted_pages_outside_the_api_stay_html(csms):
    response = httpx.get(f"{csms.base_url}/no-such-page/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_a_wrong_method_is_json_405_with_allow(api, identity):
    api.post("/stations/", json={"identity": identity})
    for method, path in [("DELETE", "/commands/"), ("POST", "/transactions/export/"),
                         ("PUT", f"/stations/{identity}/reset/"), ("POST", "/schema/")]:
        response = api.request(method, path, json={})
        assert_json_error(response, 405)
        assert response.headers["allow"]


def test_a_browser_gets_json_too(api):
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    response = api.get("/stations/", headers=browser)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert_json_error(api.get("/stations/", params={"format": "api"}), 404)
    assert_json_error(api.get("/stations/", headers={"Accept": "text/html"}), 406)


def test_a_body_too_large_is_json_413(api):
    from django.conf import settings

    description = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = assert_json_error(api.post("/stations/", json={"identity": "CS-big", "description": description}), 413)
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in body["detail"]


def test_too_many_query_parameters_is_json_400(api):
    from django.conf import settings

    query = "&".join(f"p{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    body = assert_json_error(api.get(f"/stations/?{query}"), 400)
    assert "exceeded" in body["detail"]


def test_unauthenticated_is_json_401(csms):
    assert_json_error(httpx.get(f"{csms.base_url}/api/v1/stations/"), 401)
    assert_json_error(httpx.get(f"{csms.base_url}/api/v1/stations/",
                                headers={"Authorization": "Token not-a-token"}), 401)


# --- database unreachable ------------------------------------------------------------------------

@pytest.fixture
def server_on_own_sqlite(tmp_path):
    """A server on a SQLite file of its own (either backend), whose file the test can take away."""
    with own_database_server("server-own-sqlite", tmp_path) as (server, token):
        yield server, tmp_path / "server-own-sqlite.sqlite3", token


def test_database_unreachable_is_json_503_with_retry_after(server_on_own_sqlite):
    server, database, token = server_on_own_sqlite
    headers = {"Authorization": f"Token {token}"}
    url = f"{server.base_url}/api/v1/stations/"
    assert httpx.get(url, headers=headers, timeout=30).status_code == 200
    # The file gone and a directory in its place: every new connection fails to open it, first
    # in the token lookup, before any view runs.
    moved = database.with_suffix(".away")
    database.rename(moved)
    database.mkdir()
    try:
        response = httpx.get(url, headers=headers, timeout=30)
        body = assert_json_error(response, 503)
        assert body["detail"] == "The database is unavailable; retry shortly."
        assert response.headers["retry-after"] == "5"
        assert_json_error(httpx.post(url, headers=headers, json={"identity": "CS-x"}, timeout=30), 503)
    finally:
        database.rmdir()
        moved.rename(database)
    assert httpx.get(url, headers=headers, timeout=30).status_code == 200
    log = server.log_path.read_text()
    assert "database unavailable: OperationalError" in log
