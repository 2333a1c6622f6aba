"""Secrets the CSMS sends stations (Basic-auth passwords: 2.0.1 SetVariables
SecurityCtrlr.BasicAuthPassword, 1.6 ChangeConfiguration AuthorizationKey) kept out of the
message log: BRIEF §1, the CSMS never logs passwords."""
import json

REDACTED = "********"
SECRET_ACTIONS = {"SetVariables", "ChangeConfiguration"}


def redact_frame(action, frame):
    """`frame` (a CALL's text) with any password replaced; unchanged when it holds none."""
    if action not in SECRET_ACTIONS or ("BasicAuthPassword" not in frame
                                        and "AuthorizationKey" not in frame):
        return frame
    try:
        message = json.loads(frame)
        payload = message[3]
        if action == "ChangeConfiguration":
            if payload.get("key") == "AuthorizationKey":
                payload["value"] = REDACTED
        else:
            for item in payload.get("setVariableData", []):
                if (item.get("variable") or {}).get("name") == "BasicAuthPassword":
                    item["attributeValue"] = REDACTED
    except (ValueError, LookupError, AttributeError, TypeError):
        return frame  # not a CALL this CSMS built: nothing of ours to hide
    return json.dumps(message, separators=(",", ":"))
