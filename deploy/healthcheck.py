"""Container healthcheck of a CSMS server: GET /healthz/ must answer 200 (database and channel
layer reachable from this process).

Standard library only, so a check costs no Django start-up; exits 0 when healthy, 1 otherwise.
"""
import http.client
import os
import sys


def host_header():
    # Django answers 400 to a Host outside ALLOWED_HOSTS, so ask as the first host it allows.
    for host in os.environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=4)
    try:
        connection.request("GET", "/healthz/", headers={"Host": host_header()})
        response = connection.getresponse()
        status, body = response.status, response.read(2000).decode(errors="replace")
    except OSError as error:
        print(f"unhealthy: {error}")
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"unhealthy: GET /healthz/ answered {status}: {body}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
