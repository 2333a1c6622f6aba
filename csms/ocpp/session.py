"""The state of one station's WebSocket session, shared by the consumer and the handlers."""
from dataclasses import dataclass, field


@dataclass
class StationSession:
    identity: str
    ocpp_version: str
    connection_id: str
    channel_name: str = ""
    remote_address: str = ""
    # Set by the station directory: the domain's own key for the station and its boot state.
    station_pk: int | None = None
    registration_status: str = ""
    # Free room for domain apps (e.g. counters); the core never reads it.
    data: dict = field(default_factory=dict)

    @property
    def accepted(self):
        return self.registration_status == "Accepted"
