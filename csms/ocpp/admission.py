"""Admission control: how many stations may be connecting and booting at once in this process.

A station's first seconds are its most expensive (handshake, admission, presence, boot, status
of every connector). When thousands reconnect at once (a network outage ends), serving all of them
concurrently makes every one slow: handshakes pass the stations' open timeout, they retry, and the
retries are wasted work that slows the rest (a congestion collapse). Instead the server stops
accepting new TCP connections while `OCPP_MAX_ADMISSIONS` stations are being admitted; the others
wait in the kernel's listen backlog, costing nothing, and are taken in order as admissions finish.

A station holds a place while the server works for it: from its upgrade until its session is
open (admission, presence), then again from its first frame until that frame is handled (its
BootNotification, normally). Between the two, waiting for the station to speak, it holds none: a
silent socket costs nothing, so silent upgrades can never keep the shared port (HTTP too) paused.
A place is also given back on disconnect, or after `ADMISSION_TIMEOUT` seconds at the latest.
All of this runs on the server's event loop thread.
"""
from django.conf import settings

ADMISSION_TIMEOUT = 10.0  # s: a stuck admission or first call stops holding a place
RESUME_FRACTION = 0.75  # accept again once admissions fall below this share of the limit


class AdmissionGate:
    def __init__(self):
        self.admitting = 0
        self.ports = []  # listening ports to pause (registered by the daphne server)
        self.paused = False

    @property
    def limit(self):
        return settings.OCPP_MAX_ADMISSIONS

    def add_port(self, port):
        self.ports.append(port)

    def enter(self):
        self.admitting += 1
        if self.limit and self.admitting >= self.limit and not self.paused and self.ports:
            self.paused = True
            for port in self.ports:
                port.stopReading()

    def leave(self):
        self.admitting = max(0, self.admitting - 1)
        if self.paused and self.admitting < self.limit * RESUME_FRACTION:
            self.paused = False
            for port in self.ports:
                port.startReading()


gate = AdmissionGate()
