"""Small helpers shared by the tests."""
import time


def eventually(check, timeout=10, interval=0.05):
    """Poll `check` until it returns a truthy value; return it, or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(interval)
