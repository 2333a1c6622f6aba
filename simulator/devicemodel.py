"""The device model of a simulated 2.0.1 station: the variables a CSMS reads, sets and reports."""

from dataclasses import dataclass

from .calls import now_iso


@dataclass
class Variable:
    component: str
    name: str
    value: str = ""
    mutability: str = "ReadWrite"
    data_type: str = "string"
    unit: str | None = None
    values_list: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    component_instance: str | None = None
    variable_instance: str | None = None
    # Which station setting the value mirrors, so a SetVariables takes effect.
    binds: str | None = None

    def component_ref(self):
        ref = {"name": self.component}
        if self.component_instance:
            ref["instance"] = self.component_instance
        if self.evse_id is not None:
            ref["evse"] = {"id": self.evse_id}
            if self.connector_id is not None:
                ref["evse"]["connectorId"] = self.connector_id
        return ref

    def variable_ref(self):
        ref = {"name": self.name}
        if self.variable_instance:
            ref["instance"] = self.variable_instance
        return ref

    def key(self):
        return (
            self.component,
            self.component_instance,
            self.evse_id,
            self.connector_id,
            self.name,
            self.variable_instance,
        )


def _key_of(component, variable):
    evse = component.get("evse") or {}
    return (
        component["name"],
        component.get("instance"),
        evse.get("id"),
        evse.get("connectorId"),
        variable["name"],
        variable.get("instance"),
    )


class DeviceModel:
    def __init__(self, station):
        self.station = station
        profile = station.profile
        variables = [
            Variable("ChargingStation", "Model", "SimCharge AC22", "ReadOnly"),
            Variable("ChargingStation", "VendorName", "SimCharge", "ReadOnly"),
            Variable(
                "ChargingStation",
                "AvailabilityState",
                "Available",
                "ReadOnly",
                "OptionList",
                values_list="Available,Occupied,Reserved,Unavailable,Faulted",
            ),
            Variable("ChargingStation", "SupplyPhases", "3", "ReadOnly", "integer"),
            Variable("OCPPCommCtrlr", "HeartbeatInterval", "", "ReadWrite", "integer", "s", binds="heartbeat_interval"),
            Variable("OCPPCommCtrlr", "MessageTimeout", "30", "ReadOnly", "integer", "s", variable_instance="Default"),
            Variable("OCPPCommCtrlr", "NetworkConfigurationPriority", "1", "ReadWrite", "SequenceList"),
            Variable("OCPPCommCtrlr", "WebSocketPingInterval", "0", "ReadWrite", "integer", "s"),
            Variable("SampledDataCtrlr", "TxUpdatedInterval", "", "ReadWrite", "integer", "s", binds="meter_interval"),
            Variable(
                "SampledDataCtrlr",
                "TxUpdatedMeasurands",
                "Energy.Active.Import.Register,Power.Active.Import",
                "ReadWrite",
                "MemberList",
            ),
            Variable(
                "SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", "ReadWrite", "MemberList"
            ),
            Variable("AuthCtrlr", "AuthorizeRemoteStart", "false", "ReadWrite", "boolean"),
            Variable("AuthCtrlr", "LocalPreAuthorize", "false", "ReadWrite", "boolean"),
            Variable(
                "TxCtrlr",
                "TxStartPoint",
                "Authorized",
                "ReadWrite",
                "MemberList",
                values_list="ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed",
            ),
            Variable(
                "TxCtrlr",
                "TxStopPoint",
                "EVConnected,Authorized",
                "ReadWrite",
                "MemberList",
                values_list="ParkingBayOccupancy,EVConnected,Authorized,PowerPathClosed",
            ),
            Variable("TxCtrlr", "EVConnectionTimeOut", "60", "ReadWrite", "integer", "s"),
            Variable("SecurityCtrlr", "SecurityProfile", "1", "ReadOnly", "integer"),
            Variable("SecurityCtrlr", "Identity", station.identity, "ReadOnly"),
            Variable("SecurityCtrlr", "BasicAuthPassword", "", "WriteOnly", binds="password"),
            Variable(
                "DeviceDataCtrlr", "ItemsPerMessage", "50", "ReadOnly", "integer", variable_instance="GetVariables"
            ),
            Variable(
                "DeviceDataCtrlr", "ItemsPerMessage", "50", "ReadOnly", "integer", variable_instance="SetVariables"
            ),
            Variable(
                "DeviceDataCtrlr", "BytesPerMessage", "65000", "ReadOnly", "integer", variable_instance="GetVariables"
            ),
            Variable("SmartChargingCtrlr", "Enabled", "true", "ReadWrite", "boolean"),
            Variable("SmartChargingCtrlr", "RateUnit", "A,W", "ReadOnly", "MemberList"),
            Variable("SmartChargingCtrlr", "ProfileStackLevel", "10", "ReadOnly", "integer"),
            Variable("ClockCtrlr", "DateTime", "", "ReadOnly", "dateTime", binds="clock"),
        ]
        for evse in station.evses:
            variables += [
                Variable(
                    "EVSE",
                    "AvailabilityState",
                    "Available",
                    "ReadOnly",
                    "OptionList",
                    evse_id=evse.evse_id,
                    values_list="Available,Occupied,Reserved,Unavailable,Faulted",
                ),
                Variable("EVSE", "Power", "0", "ReadOnly", "decimal", "W", evse_id=evse.evse_id),
                Variable(
                    "Connector",
                    "ConnectorType",
                    "cType2",
                    "ReadOnly",
                    evse_id=evse.evse_id,
                    connector_id=evse.connector_id,
                ),
            ]
        self.max_power_w = profile.max_power_w
        self.variables = {variable.key(): variable for variable in variables}
        self.components = {variable.component for variable in variables}

    def value_of(self, variable):
        station = self.station
        if variable.binds == "heartbeat_interval":
            return str(int(station.heartbeat_interval))
        if variable.binds == "meter_interval":
            return str(int(station.meter_interval))
        if variable.binds == "clock":
            return now_iso()
        return variable.value

    def _find(self, component, variable):
        if component["name"] not in self.components:
            return None, "UnknownComponent"
        found = self.variables.get(_key_of(component, variable))
        if found is None:
            return None, "UnknownVariable"
        return found, None

    def get(self, item):
        component, variable = item["component"], item["variable"]
        attribute_type = item.get("attributeType", "Actual")
        result = {"component": component, "variable": variable, "attributeType": attribute_type}
        found, problem = self._find(component, variable)
        if problem:
            return {**result, "attributeStatus": problem}
        if attribute_type != "Actual":
            return {**result, "attributeStatus": "NotSupportedAttributeType"}
        if found.mutability == "WriteOnly":
            return {**result, "attributeStatus": "Rejected"}
        return {**result, "attributeStatus": "Accepted", "attributeValue": self.value_of(found)}

    def set(self, item):
        component, variable = item["component"], item["variable"]
        attribute_type = item.get("attributeType", "Actual")
        result = {"component": component, "variable": variable, "attributeType": attribute_type}
        found, problem = self._find(component, variable)
        if problem:
            return {**result, "attributeStatus": problem}
        if attribute_type != "Actual":
            return {**result, "attributeStatus": "NotSupportedAttributeType"}
        if found.mutability == "ReadOnly":
            return {**result, "attributeStatus": "Rejected", "attributeStatusInfo": {"reasonCode": "ReadOnly"}}
        value = item["attributeValue"]
        if found.data_type == "integer":
            try:
                number = int(value)
            except ValueError:
                return {**result, "attributeStatus": "Rejected", "attributeStatusInfo": {"reasonCode": "InvalidValue"}}
            if found.unit == "s" and number < 0:
                return {
                    **result,
                    "attributeStatus": "Rejected",
                    "attributeStatusInfo": {"reasonCode": "ValueOutOfRange"},
                }
        elif found.data_type == "boolean" and value.lower() not in ("true", "false"):
            return {**result, "attributeStatus": "Rejected", "attributeStatusInfo": {"reasonCode": "InvalidValue"}}
        self.apply(found, value)
        return {**result, "attributeStatus": "Accepted"}

    def apply(self, variable, value):
        station = self.station
        if variable.binds == "heartbeat_interval":
            station.set_heartbeat_interval(int(value))
        elif variable.binds == "meter_interval":
            station.meter_interval_override = max(1, int(value))
        elif variable.binds == "password":
            # Used from the next connection on (A01: the station reconnects with it).
            station.password = value
        else:
            variable.value = value

    def report(self, report_base, component_variables=None, component_criteria=None):
        """reportData items for a GetBaseReport / GetReport."""
        selected = []
        for variable in self.variables.values():
            if report_base == "ConfigurationInventory" and variable.mutability == "ReadOnly":
                continue
            if report_base == "SummaryInventory" and variable.name != "AvailabilityState":
                continue
            if component_variables and not any(
                wanted["component"]["name"] == variable.component
                and wanted.get("variable", {}).get("name") in (None, variable.name)
                for wanted in component_variables
            ):
                continue
            if component_criteria and "Available" not in component_criteria:
                continue
            selected.append(self.report_data(variable))
        return selected

    def report_data(self, variable):
        attribute = {
            "type": "Actual",
            "mutability": variable.mutability,
            "persistent": True,
            "constant": variable.mutability == "ReadOnly",
        }
        if variable.mutability != "WriteOnly":
            attribute["value"] = self.value_of(variable)
        characteristics = {"dataType": variable.data_type, "supportsMonitoring": False}
        if variable.unit:
            characteristics["unit"] = variable.unit
        if variable.values_list:
            characteristics["valuesList"] = variable.values_list
        if variable.component == "EVSE" and variable.name == "Power":
            characteristics["maxLimit"] = self.max_power_w
        return {
            "component": variable.component_ref(),
            "variable": variable.variable_ref(),
            "variableAttribute": [attribute],
            "variableCharacteristics": characteristics,
        }
