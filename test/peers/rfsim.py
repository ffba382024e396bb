#!/usr/bin/python3
"""rfsim.py - Redfish BMC simulator: vigil's Redfish test peer.

One process serves many simulated BMCs over HTTPS (HTTP/1.1, keep-alive,
Content-Length bodies), each on its own address:port, from one asyncio loop.
Python 3.11 stdlib only; run it with /usr/bin/python3.

USAGE
  rfsim.py --cert C.pem --key K.pem [options] --bmc NAME=ADDR:PORT[:OPT...] ...
  rfsim.py --cert C.pem --key K.pem [options] --range FIRST_ADDR COUNT PORT
  e.g.
  rfsim.py --cert c.pem --key k.pem --bmc a=127.0.0.1:8443 --ready rdy
  rfsim.py --cert c.pem --key k.pem --bmc a=127.0.0.1:8443 \\
      --bmc b=127.0.0.2:8443:subsystem --bmc c=127.0.0.3:8443:delay=5:hang
  rfsim.py --cert c.pem --key k.pem --range 127.10.0.1 500 8443 \\
      --range-style mixed --ctl /tmp/rf.fifo --ctl-port 0 --ready rdy

OPTIONS
  --cert FILE, --key FILE   server certificate and key (PEM), required.
  --bmc NAME=ADDR:PORT[:OPT]...  one BMC (repeatable). ADDR must be IPv4 in
                     127.0.0.0/8. OPTs, any order: "legacy" | "subsystem"
                     (style), "delay=SECONDS", "hang" (= hang on), "hang=tcp".
  --range FIRST COUNT PORT  COUNT BMCs named bmc1..bmcCOUNT on consecutive
                     addresses from FIRST (last octets .0 and .255 skipped:
                     127.10.0.254 is followed by 127.10.1.1), all on PORT.
                     Repeatable; numbering continues across ranges (a second
                     --range starts at bmc(N+1)).
  --style legacy|subsystem   default style of --bmc BMCs (default legacy).
  --range-style legacy|subsystem|mixed   style of --range BMCs (default: the
                     --style value). mixed: odd-numbered BMCs (bmc1, bmc3..)
                     legacy, even-numbered subsystem.
  --user U, --password P     credentials (default vigil / vigilpass).
  --ready FILE       removed at start; written (atomically, by rename) once
                     every socket listens. Remove it yourself before starting
                     rfsim, or a poll may see the previous run's file. Lines: "pid=N", "bmcs=N",
                     "ctl_port=N" (if --ctl-port), then one line per BMC:
                     "bmc=NAME ADDR PORT STYLE SYSTEM_ID".
  --ctl FIFO         control FIFO (created if missing). Opened read-write so
                     writers may come and go (never sees EOF). No replies:
                     errors and stats output go to stderr.
  --ctl-port PORT    control over plain TCP on 127.0.0.1:PORT (0: ephemeral,
                     see ready file). One command per line; one reply line
                     per command: "ok", "ok JSON" (stats) or "error: TEXT".
                     Blank and #-comment lines get no reply.
  --stats FILE       on SIGUSR1 and at exit write all counters as one JSON
                     object {NAME: {...}} to FILE (atomically).
                     Without --stats, SIGUSR1 prints that JSON to stderr.
  --log-entries N    initial event-log entries per BMC (default 2: an ACPI
                     S0 "working" entry and a PSU1 presence entry, OK; more
                     are filler entries as by "fill").
  --log-max N        MaxNumberOfRecords (default 1000); when full the oldest
                     entry is dropped (WrapsWhenFull), Ids keep growing.
  --page-size N      max Members per Entries page (default 50).
  --session-timeout S   idle session lifetime (default 1800, 0 = forever).
  --max-sessions N   per BMC; a login beyond it gets 503
                     Base.1.8.SessionLimitExceeded (default 0 = unlimited).
  --idle-timeout S   close keep-alive connections idle S seconds (default 60,
                     0 = never; checked every second or so).
  --sensor-events    a "sensor" command that changes a sensor's health also
                     appends an entry, e.g. Critical/Temperature/Assert
                     "CPU Temp: Upper Critical going high, reading 91", and on
                     return to OK an OK/Deassert "CPU Temp: back to normal,
                     reading 45". Default off (sensor changes log nothing).
  --backlog N        listen backlog (default 128).
  -v, --verbose      log each request (and handshake failures) to stderr.
                     Otherwise only errors are logged.
  SIGTERM/SIGINT: close everything, write --stats, exit 0.
  RLIMIT_NOFILE is raised (soft to hard) when many BMCs are given.

CTL COMMANDS  (NAME is a BMC name, "*" for all, or a comma list a,b,c;
  words are split shell-like: quote names with spaces "CPU Temp")
  NAME power On|Off            set PowerState (System and Chassis); logs nothing.
                               Off also makes System Status.State
                               "StandbyOffline" (On: "Enabled").
  NAME health OK|Warning|Critical   System (and Chassis) Status.Health and
                               HealthRollup.
  NAME sensor SENSOR VALUE     VALUE a number: set the reading; Health becomes
                               Critical at/above the upper critical (or fatal)
                               threshold or at/below the lower critical one,
                               Warning at/above upper / at/below lower
                               non-critical, else OK. VALUE OK|Warning|Critical:
                               force that Health (until a number is set).
                               Sensors: "CPU Temp" 45 C (75/85/95),
                               "Inlet Temp" 22 C (40/45/50), "Fan 1" 3000 RPM
                               (lower 1000/500), "12V Rail" 12.0 V (upper
                               12.6/13.2, lower 11.4/10.8), "Power Consumed"
                               180 W (no thresholds), "PSU1" input 200 W
                               (no thresholds; use OK|Warning|Critical).
                               SensorNumbers: 1, 2, 48, 64, 80, 96 in that
                               order. Readings do not follow PowerState.
  NAME log SEVERITY SENSORTYPE MESSAGE [MESSAGEID [ENTRYCODE [SENSORNUMBER]]]
                               append an entry. SEVERITY OK|Warning|Critical.
                               MESSAGEID default: PREFIX+TAG+SEVERITY, PREFIX
                               "Event.1.0." (legacy) / "OpenBMC.0.1."
                               (subsystem), TAG from SENSORTYPE (Temperature
                               Temp, Processor CPU, "Power Supply / Converter"
                               PSU, "OS Stop / Shutdown" OSStop, "System ACPI
                               Power State" ACPIState, "Power Unit" PowerUnit,
                               others: their letters), e.g. Event.1.0.TempCritical.
                               ENTRYCODE default Assert. SENSORNUMBER default:
                               that of the sensor whose name starts MESSAGE,
                               else 0.
  NAME fill N                  append N filler entries (OK, "System Event",
                               "rfsim filler entry K", PREFIX+"SystemEventOK").
  NAME clearlog [marker]       empty the log; Ids restart at 1. With "marker"
                               the new log holds one entry Id 1: OK, SensorType
                               "Event Logging Disabled", "Log area
                               reset/cleared", PREFIX+"LogClearedOK".
  NAME delay SECONDS           delay every response (float; 0 = normal). The
                               TLS handshake is not delayed.
  NAME hang on|off|tcp         on: TLS completes, requests are read, never
                               answered. tcp: new connections accepted, TLS
                               never completed; existing ones read but never
                               answer. off: normal for new requests (already
                               parked requests stay unanswered).
  NAME expire                  drop every session token of the BMC: next use
                               of an old token gets 401.
  NAME down / NAME up          close the listening socket and abort every
                               connection / listen again.
  NAME stats                   JSON {NAME: {counters and state}}: stderr (FIFO)
                               or the reply. Counters: requests (every request
                               read, hung ones too), connections (TCP accepts),
                               tls_failures, logins, login_failures, logouts,
                               unauthorized (every 401 sent, failed logins
                               too), token_auth / basic_auth (requests
                               accepted by each), not_found, bad_requests
                               (400/405/411/413), resets, hung, delayed. State: address, port, style,
                               power, health, sessions, log_entries, delay,
                               hang, up.
  NAME zero                    reset the counters.

URL LAYOUT  (R = /redfish/v1; ids: legacy system "System.Embedded.1", chassis
  "Enclosure.Embedded.1", manager "BMC.Embedded.1"; subsystem system "1",
  chassis "1U", manager "bmc")
  /redfish                  {"v1": "/redfish/v1/"}          (no auth)
  R, R/                     ServiceRoot (GET/HEAD, no auth)
  R/Systems, R/Systems/SYS, R/Systems/SYS/Actions/ComputerSystem.Reset (POST)
  R/Systems/SYS/LogServices, .../LogServices/SEL, .../SEL/Entries[?$top=&$skip=],
  .../SEL/Entries/N, .../SEL/Actions/LogService.ClearLog (POST)
  R/Chassis, R/Chassis/CH
    legacy:    R/Chassis/CH/Thermal, R/Chassis/CH/Power
    subsystem: R/Chassis/CH/ThermalSubsystem, .../ThermalSubsystem/Fans,
               .../Fans/Fan1, .../ThermalSubsystem/ThermalMetrics,
               R/Chassis/CH/Sensors, .../Sensors/<id> (temperature_CPU_Temp,
               temperature_Inlet_Temp, fan_Fan_1, voltage_12V_Rail,
               power_Power_Consumed), R/Chassis/CH/PowerSubsystem,
               .../PowerSubsystem/PowerSupplies, .../PowerSupplies/PSU1,
               .../PSU1/Metrics
  R/Managers, R/Managers/MGR, R/Managers/MGR/LogServices (empty)
  R/SessionService, R/SessionService/Sessions (POST = login), .../Sessions/N
  (DELETE = logout, 204). A trailing "/" is ignored everywhere.
  Entries: ascending Id; a page holds at most --page-size; without $top a
  longer log gives Members@odata.nextLink "...Entries?$skip=50"; with $top
  a nextLink only when the page was cut below $top (it carries the rest of
  $top). Members@odata.count is always the total.
  Reset (204): On, ForceRestart, GracefulRestart, PowerCycle -> On;
  ForceOff, GracefulShutdown -> Off. Each appends one entry: GracefulShutdown:
  OK "OS Stop / Shutdown" PREFIX+"OSGracefulShutdown"; others: OK "Power
  Unit", PREFIX+"PowerOff" (ForceOff) / "PowerOn" (On) / "PowerCycle"; the
  Message says "ResetType=X". Bad ResetType: 400.

AUTH  /redfish and the service root need none; POST .../Sessions with
  {"UserName","Password"}: 201 with X-Auth-Token and Location headers and a
  Session body, bad credentials 401, bad JSON 400. Everything else needs a
  valid X-Auth-Token or Basic auth with --user/--password, else 401 (with
  WWW-Authenticate: Basic). Errors carry {"error": {"code":
  "Base.1.8.GeneralError", "message", "@Message.ExtendedInfo": [...]}}.
  Unknown path 404, wrong method 405 (with Allow). Every response has
  OData-Version: 4.0; JSON bodies Content-Type: application/json.
"""

import argparse
import asyncio
import base64
import ipaddress
import json
import os
import resource
import secrets
import shlex
import signal
import socket
import ssl
import stat
import sys
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from urllib.parse import parse_qsl, unquote

R = "/redfish/v1"
HEALTHS = ("OK", "Warning", "Critical")
RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle"]
STYLE_IDS = {"legacy": ("System.Embedded.1", "Enclosure.Embedded.1", "BMC.Embedded.1", "Event.1.0."),
             "subsystem": ("1", "1U", "bmc", "OpenBMC.0.1.")}
TAGS = {"Temperature": "Temp", "Processor": "CPU", "Power Supply / Converter": "PSU",
        "OS Stop / Shutdown": "OSStop", "System ACPI Power State": "ACPIState",
        "Power Unit": "PowerUnit", "Event Logging Disabled": "LogCleared"}
# name, kind, sensor number, reading, lower noncrit, lower crit, upper noncrit, crit, fatal
SENSORS = [("CPU Temp", "temp", 1, 45, None, None, 75, 85, 95),
           ("Inlet Temp", "temp", 2, 22, None, None, 40, 45, 50),
           ("Fan 1", "fan", 48, 3000, 1000, 500, None, None, None),
           ("12V Rail", "volt", 64, 12.0, 11.4, 10.8, 12.6, 13.2, None),
           ("Power Consumed", "power", 80, 180, None, None, None, None, None),
           ("PSU1", "psu", 96, 200, None, None, None, None, None)]
KIND = {  # kind: Sensor Id prefix, ReadingType, ReadingUnits, SEL SensorType, PhysicalContext
    "temp": ("temperature", "Temperature", "Cel", "Temperature", "CPU"),
    "fan": ("fan", "Rotational", "RPM", "Fan", "Fan"),
    "volt": ("voltage", "Voltage", "V", "Voltage", "VoltageRegulator"),
    "power": ("power", "Power", "W", "Power Unit", "PowerSupply"),
    "psu": ("psu", "Power", "W", "Power Supply / Converter", "PowerSupply")}
REASONS = {100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
           401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
           411: "Length Required", 413: "Payload Too Large", 431: "Request Header Fields Too Large",
           500: "Internal Server Error", 503: "Service Unavailable"}
COUNTERS = ("requests", "connections", "tls_failures", "logins", "login_failures", "logouts",
            "unauthorized", "token_auth", "basic_auth", "not_found", "bad_requests", "resets",
            "hung", "delayed")
MAX_HEAD, MAX_BODY = 16384, 1 << 20
OPT = None          # parsed command line
SSLCTX = None
VERBOSE = False


def log(msg):
    print("rfsim: " + msg, file=sys.stderr, flush=True)


def now_iso():
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def num(v):
    """A reading as int when it is integral, for tidy JSON."""
    return int(v) if float(v).is_integer() else round(float(v), 3)


def link(path):
    return {"@odata.id": path}


def collection(path, typ, name, members):
    return {"@odata.id": path, "@odata.type": "#%s.%s" % (typ, typ), "Name": name,
            "Members": [link(m) for m in members], "Members@odata.count": len(members)}


def error(status, msg_id, message):
    """(status, Redfish error body, no extra headers)."""
    return status, {"error": {
        "code": "Base.1.8.GeneralError",
        "message": "A general error has occurred. See ExtendedInfo for more information.",
        "@Message.ExtendedInfo": [{"@odata.type": "#Message.v1_1_1.Message",
                                   "MessageId": "Base.1.8." + msg_id, "Message": message,
                                   "Severity": "Critical", "Resolution": "None."}]}}, ()


class CtlError(Exception):
    pass


# ---------------------------------------------------------------- model

class Sensor:
    def __init__(self, name, kind, number, reading, lnc, lc, unc, uc, uf):
        self.name, self.kind, self.number, self.reading = name, kind, number, reading
        self.lnc, self.lc, self.unc, self.uc, self.uf = lnc, lc, unc, uc, uf
        self.forced = None
        self.sid = "%s_%s" % (KIND[kind][0], name.replace(" ", "_"))

    def health(self):
        if self.forced:
            return self.forced
        r = self.reading
        if (self.uc is not None and r >= self.uc) or (self.uf is not None and r >= self.uf) \
                or (self.lc is not None and r <= self.lc):
            return "Critical"
        if (self.unc is not None and r >= self.unc) or (self.lnc is not None and r <= self.lnc):
            return "Warning"
        return "OK"

    def status(self):
        return {"State": "Enabled", "Health": self.health()}

    def legacy_thresholds(self):
        d = {}
        for key, v in (("UpperThresholdNonCritical", self.unc), ("UpperThresholdCritical", self.uc),
                       ("UpperThresholdFatal", self.uf), ("LowerThresholdNonCritical", self.lnc),
                       ("LowerThresholdCritical", self.lc)):
            if v is not None:
                d[key] = num(v)
        return d

    def thresholds(self):
        d = {}
        for key, v, act in (("UpperCaution", self.unc, "Increasing"), ("UpperCritical", self.uc, "Increasing"),
                            ("UpperFatal", self.uf, "Increasing"), ("LowerCaution", self.lnc, "Decreasing"),
                            ("LowerCritical", self.lc, "Decreasing")):
            if v is not None:
                d[key] = {"Reading": num(v), "Activation": act}
        return d


class Bmc:
    def __init__(self, name, addr, port, style, index):
        self.name, self.addr, self.port, self.style, self.index = name, addr, port, style, index
        self.sys_id, self.ch_id, self.mgr_id, self.prefix = STYLE_IDS[style]
        self.sysp = "%s/Systems/%s" % (R, self.sys_id)
        self.chp = "%s/Chassis/%s" % (R, self.ch_id)
        self.mgrp = "%s/Managers/%s" % (R, self.mgr_id)
        self.selp = self.sysp + "/LogServices/SEL"
        self.uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, "rfsim-" + name))
        self.serial = "RFS%06d" % index
        self.power, self.health = "On", "OK"
        self.sensors = {s[0]: Sensor(*s) for s in SENSORS}
        self.entries, self.next_id = [], 1
        self.sessions, self.next_session = {}, 1    # token -> [id, last use]
        self.delay, self.hang = 0.0, None           # hang: None, "on", "tcp"
        self.server, self.conns = None, set()
        self.c = dict.fromkeys(COUNTERS, 0)
        t0, step = time.time() - 3600, min(10.0, 3000.0 / max(OPT.log_entries, 1))
        base = [("OK", "System ACPI Power State", "System ACPI Power State: S0/G0 working, asserted"),
                ("OK", "Power Supply / Converter", "PSU1: Presence detected, asserted")]
        for i in range(OPT.log_entries):
            sev, typ, msg = base[i] if i < len(base) else ("OK", "System Event", "rfsim filler entry %d" % (i + 1))
            self.add_entry(sev, typ, msg, created=t0 + step * i)
        self.routes = self.build_routes()

    # -- event log
    def add_entry(self, severity, sensor_type, message, message_id=None, code="Assert", number=None,
                  created=None):
        if message_id is None:
            tag = TAGS.get(sensor_type) or "".join(ch for ch in sensor_type.title() if ch.isalnum())
            message_id = self.prefix + tag + severity
        if number is None:
            number = next((s.number for s in self.sensors.values() if message.startswith(s.name)), 0)
        n = self.next_id
        self.next_id += 1
        ts = datetime.fromtimestamp(created or time.time(), timezone.utc).astimezone()
        self.entries.append({
            "@odata.id": "%s/Entries/%d" % (self.selp, n), "@odata.type": "#LogEntry.v1_9_0.LogEntry",
            "Id": str(n), "Name": "Log Entry %d" % n, "Created": ts.isoformat(timespec="seconds"),
            "EntryType": "SEL", "Severity": severity, "Message": message, "MessageId": message_id,
            "SensorType": sensor_type, "EntryCode": code, "SensorNumber": number})
        if len(self.entries) > OPT.log_max:
            del self.entries[0]

    def clear_log(self, marker=False):
        self.entries, self.next_id = [], 1
        if marker:
            self.add_entry("OK", "Event Logging Disabled", "Log area reset/cleared")

    # -- resources
    def status(self):
        state = "Enabled" if self.power == "On" else "StandbyOffline"
        return {"State": state, "Health": self.health, "HealthRollup": self.health}

    def root(self):
        return {"@odata.id": R + "/", "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
                "Id": "RootService", "Name": "Root Service", "RedfishVersion": "1.6.0",
                "UUID": self.uuid, "Product": "rfsim", "Vendor": "vigil",
                "Systems": link(R + "/Systems"), "Chassis": link(R + "/Chassis"),
                "Managers": link(R + "/Managers"), "SessionService": link(R + "/SessionService"),
                "Links": {"Sessions": link(R + "/SessionService/Sessions")}}

    def system(self):
        model = "Legacy-1U" if self.style == "legacy" else "Subsystem-2U"
        return {"@odata.id": self.sysp, "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
                "Id": self.sys_id, "Name": "System", "SystemType": "Physical", "HostName": self.name,
                "Manufacturer": "rfsim", "Model": model, "SerialNumber": self.serial,
                "UUID": self.uuid, "BiosVersion": "1.4.2", "PowerState": self.power,
                "Status": self.status(),
                "ProcessorSummary": {"Count": 2, "Status": {"State": "Enabled", "Health": "OK"}},
                "MemorySummary": {"TotalSystemMemoryGiB": 256, "Status": {"State": "Enabled", "Health": "OK"}},
                "LogServices": link(self.sysp + "/LogServices"),
                "Links": {"Chassis": [link(self.chp)], "ManagedBy": [link(self.mgrp)]},
                "Actions": {"#ComputerSystem.Reset": {
                    "target": self.sysp + "/Actions/ComputerSystem.Reset",
                    "ResetType@Redfish.AllowableValues": RESET_TYPES}}}

    def chassis(self):
        legacy = self.style == "legacy"
        d = {"@odata.id": self.chp, "Id": self.ch_id, "Name": "Chassis", "ChassisType": "RackMount",
             "@odata.type": "#Chassis.v1_10_0.Chassis" if legacy else "#Chassis.v1_21_0.Chassis",
             "Manufacturer": "rfsim", "SerialNumber": self.serial, "PowerState": self.power,
             "Status": self.status(),
             "Links": {"ComputerSystems": [link(self.sysp)], "ManagedBy": [link(self.mgrp)]}}
        if legacy:
            d["Thermal"], d["Power"] = link(self.chp + "/Thermal"), link(self.chp + "/Power")
        else:
            d["ThermalSubsystem"] = link(self.chp + "/ThermalSubsystem")
            d["PowerSubsystem"] = link(self.chp + "/PowerSubsystem")
            d["Sensors"] = link(self.chp + "/Sensors")
        return d

    def of_kind(self, kind):
        return [s for s in self.sensors.values() if s.kind == kind]

    def thermal(self):
        p = self.chp + "/Thermal"
        temps = [dict({"@odata.id": "%s#/Temperatures/%d" % (p, i), "MemberId": str(i), "Name": s.name,
                       "SensorNumber": s.number, "ReadingCelsius": num(s.reading),
                       "PhysicalContext": "CPU" if s.name.startswith("CPU") else "Intake",
                       "Status": s.status()}, **s.legacy_thresholds())
                 for i, s in enumerate(self.of_kind("temp"))]
        fans = [dict({"@odata.id": "%s#/Fans/%d" % (p, i), "MemberId": str(i), "Name": s.name,
                      "SensorNumber": s.number, "Reading": num(s.reading), "ReadingUnits": "RPM",
                      "Status": s.status()}, **s.legacy_thresholds())
                for i, s in enumerate(self.of_kind("fan"))]
        return {"@odata.id": p, "@odata.type": "#Thermal.v1_7_0.Thermal", "Id": "Thermal",
                "Name": "Thermal", "Temperatures": temps, "Temperatures@odata.count": len(temps),
                "Fans": fans, "Fans@odata.count": len(fans)}

    def power_res(self):
        p = self.chp + "/Power"
        pc, psu = self.sensors["Power Consumed"], self.sensors["PSU1"]
        w = num(pc.reading)
        ctl = [{"@odata.id": p + "#/PowerControl/0", "MemberId": "0", "Name": pc.name,
                "PowerConsumedWatts": w, "PowerCapacityWatts": 750,
                "PowerMetrics": {"IntervalInMin": 1, "MinConsumedWatts": w, "MaxConsumedWatts": w,
                                 "AverageConsumedWatts": w}, "Status": pc.status()}]
        sups = [{"@odata.id": p + "#/PowerSupplies/0", "MemberId": "0", "Name": psu.name,
                 "SensorNumber": psu.number, "PowerInputWatts": num(psu.reading),
                 "LineInputVoltage": 230, "PowerCapacityWatts": 750, "LastPowerOutputWatts": w,
                 "Status": psu.status()}]
        volts = [dict({"@odata.id": "%s#/Voltages/%d" % (p, i), "MemberId": str(i), "Name": s.name,
                       "SensorNumber": s.number, "ReadingVolts": num(s.reading), "Status": s.status()},
                      **s.legacy_thresholds()) for i, s in enumerate(self.of_kind("volt"))]
        return {"@odata.id": p, "@odata.type": "#Power.v1_7_1.Power", "Id": "Power", "Name": "Power",
                "PowerControl": ctl, "PowerControl@odata.count": 1, "PowerSupplies": sups,
                "PowerSupplies@odata.count": 1, "Voltages": volts, "Voltages@odata.count": len(volts)}

    def sub_sensors(self):
        return [s for s in self.sensors.values() if s.kind != "psu"]

    def sensor_res(self, s):
        k = KIND[s.kind]
        return {"@odata.id": "%s/Sensors/%s" % (self.chp, s.sid), "@odata.type": "#Sensor.v1_7_0.Sensor",
                "Id": s.sid, "Name": s.name, "Reading": num(s.reading), "ReadingType": k[1],
                "ReadingUnits": k[2], "PhysicalContext": k[4], "Status": s.status(),
                "Thresholds": s.thresholds()}

    def fan_res(self, s):
        p = "%s/ThermalSubsystem/Fans/%s" % (self.chp, s.name.replace(" ", ""))
        return {"@odata.id": p, "@odata.type": "#Fan.v1_3_0.Fan", "Id": s.name.replace(" ", ""),
                "Name": s.name, "PhysicalContext": "SystemBoard", "Status": s.status(),
                "SpeedPercent": {"DataSourceUri": "%s/Sensors/%s" % (self.chp, s.sid),
                                 "Reading": round(s.reading / 120.0, 1), "SpeedRPM": num(s.reading)}}

    def psu_res(self):
        s = self.sensors["PSU1"]
        p = self.chp + "/PowerSubsystem/PowerSupplies/PSU1"
        return {"@odata.id": p, "@odata.type": "#PowerSupply.v1_5_0.PowerSupply", "Id": "PSU1",
                "Name": "PSU1", "Manufacturer": "rfsim", "PowerCapacityWatts": 750,
                "LineInputStatus": "Normal", "Status": s.status(), "Metrics": link(p + "/Metrics")}

    def psu_metrics(self):
        s = self.sensors["PSU1"]
        return {"@odata.id": self.chp + "/PowerSubsystem/PowerSupplies/PSU1/Metrics",
                "@odata.type": "#PowerSupplyMetrics.v1_0_0.PowerSupplyMetrics", "Id": "Metrics",
                "Name": "PSU1 Metrics", "Status": s.status(), "InputPowerWatts": {"Reading": num(s.reading)},
                "InputVoltage": {"Reading": 230},
                "OutputPowerWatts": {"Reading": num(self.sensors["Power Consumed"].reading)}}

    def build_routes(self):
        """path -> function returning the GET body (the fixed resources)."""
        st = {"State": "Enabled", "Health": "OK"}
        r = {
            R + "/Systems": lambda: collection(R + "/Systems", "ComputerSystemCollection",
                                               "Computer System Collection", [self.sysp]),
            self.sysp: self.system,
            self.sysp + "/LogServices": lambda: collection(self.sysp + "/LogServices",
                                                           "LogServiceCollection", "Log Services", [self.selp]),
            self.selp: lambda: {
                "@odata.id": self.selp, "@odata.type": "#LogService.v1_3_0.LogService", "Id": "SEL",
                "Name": "System Event Log", "ServiceEnabled": True, "LogEntryType": "SEL",
                "MaxNumberOfRecords": OPT.log_max, "OverWritePolicy": "WrapsWhenFull",
                "DateTime": now_iso(), "DateTimeLocalOffset": now_iso()[-6:], "Status": st,
                "Entries": link(self.selp + "/Entries"),
                "Actions": {"#LogService.ClearLog": {"target": self.selp + "/Actions/LogService.ClearLog"}}},
            R + "/Chassis": lambda: collection(R + "/Chassis", "ChassisCollection", "Chassis Collection",
                                               [self.chp]),
            self.chp: self.chassis,
            R + "/Managers": lambda: collection(R + "/Managers", "ManagerCollection", "Manager Collection",
                                                [self.mgrp]),
            self.mgrp: lambda: {
                "@odata.id": self.mgrp, "@odata.type": "#Manager.v1_10_0.Manager", "Id": self.mgr_id,
                "Name": "Manager", "ManagerType": "BMC", "FirmwareVersion": "rfsim-1.0",
                "UUID": self.uuid, "DateTime": now_iso(), "Status": st,
                "LogServices": link(self.mgrp + "/LogServices"),
                "Links": {"ManagerForServers": [link(self.sysp)], "ManagerForChassis": [link(self.chp)]}},
            self.mgrp + "/LogServices": lambda: collection(self.mgrp + "/LogServices",
                                                           "LogServiceCollection", "Log Services", []),
            R + "/SessionService": lambda: {
                "@odata.id": R + "/SessionService", "@odata.type": "#SessionService.v1_1_8.SessionService",
                "Id": "SessionService", "Name": "Session Service", "ServiceEnabled": True,
                "SessionTimeout": OPT.session_timeout, "Status": st,
                "Sessions": link(R + "/SessionService/Sessions")},
            R + "/SessionService/Sessions": lambda: collection(
                R + "/SessionService/Sessions", "SessionCollection", "Session Collection",
                ["%s/SessionService/Sessions/%s" % (R, s[0]) for s in self.sessions.values()]),
        }
        c = self.chp
        if self.style == "legacy":
            r[c + "/Thermal"], r[c + "/Power"] = self.thermal, self.power_res
            return r
        ts, ps = c + "/ThermalSubsystem", c + "/PowerSubsystem"
        fans = self.of_kind("fan")
        r[ts] = lambda: {"@odata.id": ts, "@odata.type": "#ThermalSubsystem.v1_0_0.ThermalSubsystem",
                         "Id": "ThermalSubsystem", "Name": "Thermal Subsystem", "Status": st,
                         "Fans": link(ts + "/Fans"), "ThermalMetrics": link(ts + "/ThermalMetrics")}
        r[ts + "/Fans"] = lambda: collection(ts + "/Fans", "FanCollection", "Fans",
                                             ["%s/Fans/%s" % (ts, s.name.replace(" ", "")) for s in fans])
        for s in fans:
            r["%s/Fans/%s" % (ts, s.name.replace(" ", ""))] = lambda s=s: self.fan_res(s)
        r[ts + "/ThermalMetrics"] = lambda: {
            "@odata.id": ts + "/ThermalMetrics", "@odata.type": "#ThermalMetrics.v1_0_0.ThermalMetrics",
            "Id": "ThermalMetrics", "Name": "Thermal Metrics",
            "TemperatureReadingsCelsius": [{"DataSourceUri": "%s/Sensors/%s" % (c, s.sid),
                                            "DeviceName": s.name, "Reading": num(s.reading)}
                                           for s in self.of_kind("temp")]}
        r[c + "/Sensors"] = lambda: collection(c + "/Sensors", "SensorCollection", "Sensors",
                                               ["%s/Sensors/%s" % (c, s.sid) for s in self.sub_sensors()])
        for s in self.sub_sensors():
            r["%s/Sensors/%s" % (c, s.sid)] = lambda s=s: self.sensor_res(s)
        r[ps] = lambda: {"@odata.id": ps, "@odata.type": "#PowerSubsystem.v1_1_0.PowerSubsystem",
                         "Id": "PowerSubsystem", "Name": "Power Subsystem", "CapacityWatts": 750,
                         "Status": st, "PowerSupplies": link(ps + "/PowerSupplies")}
        r[ps + "/PowerSupplies"] = lambda: collection(ps + "/PowerSupplies", "PowerSupplyCollection",
                                                      "Power Supplies", [ps + "/PowerSupplies/PSU1"])
        r[ps + "/PowerSupplies/PSU1"] = self.psu_res
        r[ps + "/PowerSupplies/PSU1/Metrics"] = self.psu_metrics
        return r

    def entries_page(self, query):
        q = dict(parse_qsl(query, keep_blank_values=True))
        try:
            top = int(q["$top"]) if "$top" in q else None
            skip = int(q.get("$skip", 0))
            if skip < 0 or (top is not None and top < 0):
                raise ValueError
        except ValueError:
            return error(400, "QueryParameterValueTypeError", "The $top or $skip value is not a "
                         "non-negative integer.")
        page = OPT.page_size if top is None else min(top, OPT.page_size)
        total = len(self.entries)
        d = {"@odata.id": self.selp + "/Entries", "@odata.type": "#LogEntryCollection.LogEntryCollection",
             "Name": "System Event Log Entries", "Members@odata.count": total,
             "Members": self.entries[skip:skip + page]}
        if skip + page < total and (top is None or page < top):
            d["Members@odata.nextLink"] = "%s/Entries?$skip=%d" % (self.selp, skip + page) + \
                ("" if top is None else "&$top=%d" % (top - page))
        return 200, d, ()

    # -- actions
    def reset(self, rt):
        self.c["resets"] += 1
        off = rt in ("ForceOff", "GracefulShutdown")
        self.power = "Off" if off else "On"
        msg = "Power command ResetType=%s: system %s" % (rt, "powered off" if off else "powered on")
        if rt == "GracefulShutdown":
            self.add_entry("OK", "OS Stop / Shutdown", "OS graceful shutdown (ResetType=GracefulShutdown): "
                           "soft-off S5", self.prefix + "OSGracefulShutdown")
        else:
            key = {"ForceOff": "PowerOff", "On": "PowerOn"}.get(rt, "PowerCycle")
            self.add_entry("OK", "Power Unit", msg, self.prefix + key)

    def login(self, body):
        try:
            d = json.loads(body or b"{}")
        except ValueError:
            return error(400, "MalformedJSON", "The request body submitted was malformed JSON.")
        if not isinstance(d, dict) or "UserName" not in d or "Password" not in d:
            return error(400, "PropertyMissing", "The properties UserName and Password are required.")
        if d["UserName"] != OPT.user or d["Password"] != OPT.password:
            self.c["login_failures"] += 1
            return error(401, "ResourceAtUriUnauthorized", "While accessing the resource at "
                         "/redfish/v1/SessionService/Sessions, the service received an authorization "
                         "error: invalid user name or password.")
        if OPT.max_sessions and len(self.sessions) >= OPT.max_sessions:
            return error(503, "SessionLimitExceeded", "The session establishment failed due to the "
                         "number of simultaneous sessions exceeding the limit of the implementation.")
        sid, tok = str(self.next_session), secrets.token_hex(16)
        self.next_session += 1
        self.sessions[tok] = [sid, time.monotonic()]
        self.c["logins"] += 1
        path = "%s/SessionService/Sessions/%s" % (R, sid)
        return 201, self.session_res(sid), (("X-Auth-Token", tok), ("Location", path))

    def session_res(self, sid):
        return {"@odata.id": "%s/SessionService/Sessions/%s" % (R, sid), "@odata.type": "#Session.v1_3_0.Session",
                "Id": sid, "Name": "User Session", "UserName": OPT.user}

    def authenticate(self, hdrs):
        tok = hdrs.get("x-auth-token")
        if tok:
            s = self.sessions.get(tok)
            if s is not None:
                t = time.monotonic()
                if not OPT.session_timeout or t - s[1] <= OPT.session_timeout:
                    s[1] = t
                    self.c["token_auth"] += 1
                    return True
                del self.sessions[tok]
        auth = hdrs.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                u, _, p = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            if u == OPT.user and p == OPT.password:
                self.c["basic_auth"] += 1
                return True
        return False

    # -- the router: (status, body or None, extra headers)
    def handle(self, method, target, hdrs, body):
        path, _, query = target.partition("?")
        path = unquote(path)
        if path.startswith("http"):               # absolute-form target
            path = "/" + path.split("/", 3)[-1]
        path = path.rstrip("/") or "/"
        get = method in ("GET", "HEAD")
        if path == "/redfish" or path == R:
            if not get:
                return 405, error(405, "GeneralError", "Method not allowed.")[1], (("Allow", "GET, HEAD"),)
            return 200, ({"v1": R + "/"} if path == "/redfish" else self.root()), ()
        sessions = R + "/SessionService/Sessions"
        if path == sessions and method == "POST":
            return self.login(body)
        if not self.authenticate(hdrs):
            return 401, error(401, "NoValidSession", "There is no valid session established with the "
                              "implementation.")[1], (("WWW-Authenticate", 'Basic realm="rfsim"'),)
        fn = self.routes.get(path)
        if fn is not None:
            if get:
                return 200, fn(), ()
            return self.not_allowed("GET, HEAD, POST" if path == sessions else "GET, HEAD")
        if path == self.selp + "/Entries":
            return self.entries_page(query) if get else self.not_allowed("GET, HEAD")
        if path.startswith(self.selp + "/Entries/"):
            n = path.rsplit("/", 1)[1]
            if n.isdigit() and self.entries and 0 <= int(n) - int(self.entries[0]["Id"]) < len(self.entries):
                return (200, self.entries[int(n) - int(self.entries[0]["Id"])], ()) if get \
                    else self.not_allowed("GET, HEAD")
        if path.startswith(sessions + "/"):
            sid = path.rsplit("/", 1)[1]
            tok = next((t for t, s in self.sessions.items() if s[0] == sid), None)
            if tok is not None:
                if get:
                    return 200, self.session_res(sid), ()
                if method == "DELETE":
                    del self.sessions[tok]
                    self.c["logouts"] += 1
                    return 204, None, ()
                return self.not_allowed("GET, HEAD, DELETE")
        actions = {self.sysp + "/Actions/ComputerSystem.Reset": self.do_reset,
                   self.selp + "/Actions/LogService.ClearLog": lambda b: (self.clear_log(), (204, None, ()))[1]}
        if path in actions:
            return actions[path](body) if method == "POST" else self.not_allowed("POST")
        self.c["not_found"] += 1
        return error(404, "ResourceMissingAtURI", "The resource at the URI %s was not found." % path)

    def not_allowed(self, allow):
        return 405, error(405, "GeneralError", "The method is not allowed for this resource.")[1], \
            (("Allow", allow),)

    def do_reset(self, body):
        try:
            rt = json.loads(body or b"{}").get("ResetType")
        except (ValueError, AttributeError):
            return error(400, "MalformedJSON", "The request body submitted was malformed JSON.")
        if rt not in RESET_TYPES:
            return error(400, "ActionParameterValueNotInList", "The value %r for the parameter ResetType "
                         "is not in the list of acceptable values." % (rt,))
        self.reset(rt)
        return 204, None, ()

    # -- listening
    async def up(self):
        if self.server is not None:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((self.addr, self.port))
            s.listen(OPT.backlog)
            s.setblocking(False)
        except OSError:
            s.close()
            raise
        self.server = await asyncio.get_running_loop().create_server(lambda: Conn(self), sock=s)

    def down(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for conn in list(self.conns):
            conn.abort()

    def stats(self):
        d = dict(self.c)
        d.update(address=self.addr, port=self.port, style=self.style, power=self.power,
                 health=self.health, sessions=len(self.sessions), log_entries=len(self.entries),
                 delay=self.delay, hang=self.hang or "off", up=self.server is not None)
        return d


# ---------------------------------------------------------------- HTTP over TLS

_date = [0, ""]


def http_date():
    t = int(time.time())
    if t != _date[0]:
        _date[0], _date[1] = t, formatdate(t, usegmt=True)
    return _date[1]


class Conn(asyncio.Protocol):
    """One TCP connection: plain at first, TLS started by hand (loop.start_tls)
    so that "hang tcp" can leave the handshake undone."""

    def __init__(self, bmc):
        self.bmc, self.raw, self.tr, self.tls = bmc, None, None, False
        self.buf, self.req, self.busy, self.timer = bytearray(), None, False, None
        self.last = time.monotonic()

    def connection_made(self, transport):
        self.raw = transport
        self.bmc.conns.add(self)
        self.bmc.c["connections"] += 1
        if self.bmc.hang != "tcp":
            self.tls = True
            # The task's first step runs before any read of this socket (and
            # start_tls pauses reading), so the ClientHello is not lost.
            asyncio.get_running_loop().create_task(self.start_tls())

    async def start_tls(self):
        try:
            self.tr = await asyncio.get_running_loop().start_tls(
                self.raw, self, SSLCTX, server_side=True, ssl_handshake_timeout=30)
        except (OSError, ssl.SSLError, asyncio.TimeoutError, ConnectionError) as e:
            self.bmc.c["tls_failures"] += 1
            if VERBOSE:
                log("%s: TLS handshake failed: %r" % (self.bmc.name, e))
            self.abort()
            return
        self.last = time.monotonic()
        self.process()

    def data_received(self, data):
        if not self.tls:                  # hang tcp: swallow the ClientHello
            return
        self.buf += data
        self.last = time.monotonic()
        if self.tr is not None and not self.busy:
            self.process()

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        self.bmc.conns.discard(self)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.busy = True

    def abort(self):
        self.bmc.conns.discard(self)
        if self.raw is not None:
            self.raw.abort()

    def fail(self, status, message):
        self.send(self.encode(*error(status, "GeneralError", message), False, False), False)
        self.busy = True

    def process(self):
        while not self.busy and not self.tr.is_closing():
            if self.req is None:
                i = self.buf.find(b"\r\n\r\n")
                if i < 0:
                    if len(self.buf) > MAX_HEAD:
                        self.fail(431, "Request header too large.")
                    return
                lines = self.buf[:i].decode("latin-1").lstrip("\r\n").split("\r\n")
                del self.buf[:i + 4]
                parts = lines[0].split(" ")
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    return self.fail(400, "Malformed request line.")
                hdrs = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                if "transfer-encoding" in hdrs:
                    return self.fail(411, "Chunked request bodies are not supported; send Content-Length.")
                try:
                    n = int(hdrs.get("content-length", "0"))
                except ValueError:
                    return self.fail(400, "Bad Content-Length.")
                if n > MAX_BODY or n < 0:
                    return self.fail(413, "Request body too large.")
                conn = hdrs.get("connection", "").lower()
                keep = "close" not in conn if parts[2] == "HTTP/1.1" else "keep-alive" in conn
                self.req = (parts[0].upper(), parts[1], hdrs, n, keep)
                if n > len(self.buf) and hdrs.get("expect", "").lower() == "100-continue":
                    self.tr.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            method, target, hdrs, n, keep = self.req
            if len(self.buf) < n:
                return
            body = bytes(self.buf[:n])
            del self.buf[:n]
            self.req = None
            self.serve(method, target, hdrs, body, keep)

    def serve(self, method, target, hdrs, body, keep):
        bmc = self.bmc
        bmc.c["requests"] += 1
        if bmc.hang:
            bmc.c["hung"] += 1
            self.busy = True            # parked for good: no answer, no more reads served
            if VERBOSE:
                log("%s %s %s -> hung" % (bmc.name, method, target))
            return
        try:
            status, obj, extra = bmc.handle(method, target, hdrs, body)
        except Exception:
            log("%s: internal error on %s %s:\n%s" % (bmc.name, method, target, traceback.format_exc()))
            status, obj, extra = error(500, "InternalError", "The request failed due to an internal error.")
        if status == 401:
            bmc.c["unauthorized"] += 1
        elif status in (400, 405, 411, 413):
            bmc.c["bad_requests"] += 1
        data = self.encode(status, obj, extra, method == "HEAD", keep)
        if VERBOSE:
            log("%s %s %s -> %d" % (bmc.name, method, target, status))
        if bmc.delay > 0:
            bmc.c["delayed"] += 1
            self.busy = True
            self.timer = asyncio.get_running_loop().call_later(bmc.delay, self.send_later, data, keep)
        else:
            self.send(data, keep)

    def send_later(self, data, keep):
        self.timer, self.busy = None, False
        if self.tr.is_closing():
            return
        self.send(data, keep)
        if keep:
            self.process()

    def send(self, data, keep):
        self.tr.write(data)
        self.last = time.monotonic()
        if not keep:
            self.tr.close()

    @staticmethod
    def encode(status, obj, extra, head_only, keep):
        h = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown")), "Date: " + http_date(),
             "Server: rfsim", "OData-Version: 4.0", "Cache-Control: no-cache"]
        body = b""
        if obj is not None:
            body = json.dumps(obj, separators=(",", ":")).encode()
            h.append("Content-Type: application/json; charset=utf-8")
        if status != 204:
            h.append("Content-Length: %d" % len(body))
        h.append("Connection: " + ("keep-alive" if keep else "close"))
        h.extend("%s: %s" % kv for kv in extra)
        return ("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else body)


# ---------------------------------------------------------------- control

class Sim:
    def __init__(self, bmcs):
        self.bmcs = {b.name: b for b in bmcs}

    def select(self, target):
        if target == "*":
            return list(self.bmcs.values())
        out = []
        for n in target.split(","):
            if n not in self.bmcs:
                raise CtlError("unknown BMC %r" % n)
            out.append(self.bmcs[n])
        return out

    async def command(self, line):
        """Run one ctl line: None (blank), ("ok", payload or None) or ("error", text)."""
        try:
            words = shlex.split(line, comments=True)
        except ValueError as e:
            return "error", str(e)
        if not words:
            return None
        try:
            if len(words) < 2:
                raise CtlError("usage: NAME COMMAND [ARGS]")
            bmcs, cmd, args = self.select(words[0]), words[1].lower(), words[2:]
            fn = getattr(self, "cmd_" + cmd, None)
            if fn is None:
                raise CtlError("unknown command %r" % cmd)
            out = fn(bmcs, args)
            if asyncio.iscoroutine(out):
                out = await out
            return "ok", out
        except CtlError as e:
            return "error", str(e)
        except OSError as e:
            return "error", "%s" % e

    @staticmethod
    def need(args, lo, hi, usage):
        if not lo <= len(args) <= hi:
            raise CtlError("usage: NAME " + usage)

    @staticmethod
    def pick(word, choices, what):
        for c in choices:
            if word.lower() == c.lower():
                return c
        raise CtlError("%s must be one of %s" % (what, "|".join(choices)))

    @staticmethod
    def number(word, what):
        try:
            return float(word)
        except ValueError:
            raise CtlError("%s must be a number, not %r" % (what, word)) from None

    def cmd_power(self, bmcs, args):
        self.need(args, 1, 1, "power On|Off")
        p = self.pick(args[0], ("On", "Off"), "power")
        for b in bmcs:
            b.power = p

    def cmd_health(self, bmcs, args):
        self.need(args, 1, 1, "health OK|Warning|Critical")
        h = self.pick(args[0], HEALTHS, "health")
        for b in bmcs:
            b.health = h

    def cmd_sensor(self, bmcs, args):
        self.need(args, 2, 2, 'sensor "SENSOR NAME" VALUE|OK|Warning|Critical')
        names = {n.lower(): n for n in bmcs[0].sensors}
        name = names.get(args[0].lower())
        if name is None:
            raise CtlError("unknown sensor %r (have %s)" % (args[0], ", ".join(bmcs[0].sensors)))
        forced = next((h for h in HEALTHS if h.lower() == args[1].lower()), None)
        value = None if forced else self.number(args[1], "sensor value")
        for b in bmcs:
            s = b.sensors[name]
            before = s.health()
            if forced:
                s.forced = forced
            else:
                s.reading, s.forced = num(value), None
            after = s.health()
            if OPT.sensor_events and after != before:
                typ = KIND[s.kind][3]
                if after == "OK":
                    b.add_entry("OK", typ, "%s: back to normal, reading %s" % (name, num(s.reading)),
                                code="Deassert", number=s.number)
                else:
                    lvl = "Critical" if after == "Critical" else "Non-critical"
                    lower = s.lnc is not None and s.reading <= s.lnc
                    edge = "Lower %s going low" % lvl if lower else "Upper %s going high" % lvl
                    b.add_entry(after, typ, "%s: %s, reading %s" % (name, edge, num(s.reading)),
                                number=s.number)

    def cmd_log(self, bmcs, args):
        self.need(args, 3, 6, "log SEVERITY SENSORTYPE MESSAGE [MESSAGEID [ENTRYCODE [SENSORNUMBER]]]")
        sev = self.pick(args[0], HEALTHS, "severity")
        mid = args[3] if len(args) > 3 and args[3] else None
        code = args[4] if len(args) > 4 else "Assert"
        number = int(self.number(args[5], "sensor number")) if len(args) > 5 else None
        for b in bmcs:
            b.add_entry(sev, args[1], args[2], mid, code, number)

    def cmd_fill(self, bmcs, args):
        self.need(args, 1, 1, "fill N")
        n = int(self.number(args[0], "N"))
        for b in bmcs:
            for _ in range(n):
                b.add_entry("OK", "System Event", "rfsim filler entry %d" % b.next_id)

    def cmd_clearlog(self, bmcs, args):
        self.need(args, 0, 1, "clearlog [marker]")
        if args and args[0].lower() != "marker":
            raise CtlError("usage: NAME clearlog [marker]")
        for b in bmcs:
            b.clear_log(bool(args))

    def cmd_delay(self, bmcs, args):
        self.need(args, 1, 1, "delay SECONDS")
        d = self.number(args[0], "delay")
        if d < 0:
            raise CtlError("delay must be >= 0")
        for b in bmcs:
            b.delay = d

    def cmd_hang(self, bmcs, args):
        self.need(args, 1, 1, "hang on|off|tcp")
        h = self.pick(args[0], ("on", "off", "tcp"), "hang")
        for b in bmcs:
            b.hang = None if h == "off" else h

    def cmd_expire(self, bmcs, args):
        self.need(args, 0, 0, "expire")
        for b in bmcs:
            b.sessions.clear()

    def cmd_down(self, bmcs, args):
        self.need(args, 0, 0, "down")
        for b in bmcs:
            b.down()

    async def cmd_up(self, bmcs, args):
        self.need(args, 0, 0, "up")
        for b in bmcs:
            try:
                await b.up()
            except OSError as e:
                raise CtlError("%s: cannot listen on %s:%d: %s" % (b.name, b.addr, b.port, e)) from None

    def cmd_stats(self, bmcs, args):
        self.need(args, 0, 0, "stats")
        return json.dumps({b.name: b.stats() for b in bmcs}, separators=(",", ":"))

    def cmd_zero(self, bmcs, args):
        self.need(args, 0, 0, "zero")
        for b in bmcs:
            b.c = dict.fromkeys(COUNTERS, 0)

    def write_stats(self):
        data = json.dumps({b.name: b.stats() for b in self.bmcs.values()}, separators=(",", ":"))
        if not OPT.stats:
            print(data, file=sys.stderr, flush=True)
            return
        tmp = OPT.stats + ".tmp"
        with open(tmp, "w") as f:
            f.write(data + "\n")
        os.replace(tmp, OPT.stats)


async def fifo_reader(sim, path):
    try:
        st = os.stat(path)
        if not stat.S_ISFIFO(st.st_mode):
            raise SystemExit("rfsim: --ctl %s exists and is not a FIFO" % path)
    except FileNotFoundError:
        os.mkfifo(path, 0o600)
    # O_RDWR: we hold a writer ourselves, so the FIFO never reports EOF when
    # the test's writers close it (equivalent to reopening on EOF).
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    loop, queue, buf = asyncio.get_running_loop(), asyncio.Queue(), bytearray()

    def readable():
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        buf.extend(data)
        while b"\n" in buf:
            i = buf.index(b"\n")
            queue.put_nowait(buf[:i].decode("utf-8", "replace"))
            del buf[:i + 1]
    loop.add_reader(fd, readable)
    while True:                          # one at a time, in order
        line = await queue.get()
        res = await sim.command(line)
        if res is None:
            continue
        if res[0] == "error":
            log("ctl: error: %s (in %r)" % (res[1], line))
        elif res[1] is not None:
            print(res[1], file=sys.stderr, flush=True)
        elif VERBOSE:
            log("ctl: ok: %s" % line)


async def ctl_client(sim, reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            res = await sim.command(line.decode("utf-8", "replace"))
            if res is None:
                continue
            kind, text = res
            writer.write(("error: %s\n" % text if kind == "error" else
                          "ok\n" if text is None else "ok %s\n" % text).encode())
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


# ---------------------------------------------------------------- start-up

def parse_bmcs(opt):
    out, names = [], set()

    def add(name, addr, port, style):
        try:
            if ipaddress.IPv4Address(addr) not in ipaddress.IPv4Network("127.0.0.0/8"):
                raise ValueError
        except ValueError:
            raise SystemExit("rfsim: %s: address %r is not an IPv4 loopback (127/8) address" % (name, addr))
        if name in names:
            raise SystemExit("rfsim: duplicate BMC name %r" % name)
        names.add(name)
        b = Bmc(name, addr, port, style, len(out) + 1)
        out.append(b)
        return b

    for spec in opt.bmc:
        name, eq, rest = spec.partition("=")
        parts = rest.split(":")
        if not eq or not name or len(parts) < 2 or not parts[1].isdigit():
            raise SystemExit("rfsim: --bmc %r: want NAME=ADDR:PORT[:style][:delay=N][:hang[=tcp]]" % spec)
        style, delay, hang = opt.style, 0.0, None
        for o in parts[2:]:
            if o in STYLE_IDS:
                style = o
            elif o.startswith("delay="):
                delay = float(o[6:])
            elif o in ("hang", "hang=on", "hang=tcp"):
                hang = "tcp" if o == "hang=tcp" else "on"
            else:
                raise SystemExit("rfsim: --bmc %r: unknown option %r" % (spec, o))
        b = add(name, parts[0], int(parts[1]), style)
        b.delay, b.hang = delay, hang
    k = 0
    for first, count, port in opt.range or ():
        try:
            ip = ipaddress.IPv4Address(first)
        except ValueError:
            raise SystemExit("rfsim: --range: bad address %r" % first)
        for _ in range(int(count)):
            while int(ip) & 0xff in (0, 255):
                ip += 1
            k += 1
            rs = opt.range_style or opt.style
            style = ("legacy" if k % 2 else "subsystem") if rs == "mixed" else rs
            add("bmc%d" % k, str(ip), int(port), style)
            ip += 1
    if not out:
        raise SystemExit("rfsim: no BMC given (--bmc or --range)")
    return out


def raise_nofile(n_bmcs):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n_bmcs * 8 + 256
    if soft >= want:
        return
    new = want if hard == resource.RLIM_INFINITY else min(hard, max(want, soft))
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < want:
        log("warning: RLIMIT_NOFILE %d is low for %d BMCs" % (new, n_bmcs))


def exception_handler(loop, ctx):
    exc = ctx.get("exception")
    if isinstance(exc, (ssl.SSLError, ConnectionError, OSError)) and not VERBOSE:
        return                           # a client going away mid-TLS: not ours to report
    loop.default_exception_handler(ctx)


async def idle_sweeper(sim):
    while True:
        await asyncio.sleep(1.0)
        if not OPT.idle_timeout:
            continue
        limit = time.monotonic() - OPT.idle_timeout
        for b in sim.bmcs.values():
            for c in list(b.conns):
                if not c.busy and c.tr is not None and c.last < limit and not c.tr.is_closing():
                    c.tr.close()


async def main():
    global SSLCTX
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(exception_handler)
    SSLCTX = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    SSLCTX.load_cert_chain(OPT.cert, OPT.key)
    if OPT.ready:
        try:
            os.unlink(OPT.ready)
        except FileNotFoundError:
            pass
    bmcs = parse_bmcs(OPT)
    raise_nofile(len(bmcs))
    sim = Sim(bmcs)
    for b in bmcs:
        try:
            await b.up()
        except OSError as e:
            raise SystemExit("rfsim: %s: cannot listen on %s:%d: %s" % (b.name, b.addr, b.port, e))
    tasks = [loop.create_task(idle_sweeper(sim))]
    ctl_port = None
    if OPT.ctl:
        tasks.append(loop.create_task(fifo_reader(sim, OPT.ctl)))
    if OPT.ctl_port is not None:
        srv = await asyncio.start_server(lambda r, w: ctl_client(sim, r, w), "127.0.0.1", OPT.ctl_port)
        ctl_port = srv.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, sim.write_stats)
    if OPT.ready:
        lines = ["pid=%d" % os.getpid(), "bmcs=%d" % len(bmcs)]
        if ctl_port is not None:
            lines.append("ctl_port=%d" % ctl_port)
        lines += ["bmc=%s %s %d %s %s" % (b.name, b.addr, b.port, b.style, b.sys_id) for b in bmcs]
        with open(OPT.ready + ".tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(OPT.ready + ".tmp", OPT.ready)
    if VERBOSE:
        log("%d BMCs listening" % len(bmcs))
    await stop.wait()
    for b in bmcs:
        b.down()
    for t in tasks:
        t.cancel()
    if OPT.stats:
        sim.write_stats()


def parse_args(argv):
    p = argparse.ArgumentParser(description="Redfish BMC simulator (see the header of this file)")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--bmc", action="append", default=[], metavar="NAME=ADDR:PORT[:OPT]")
    p.add_argument("--range", action="append", nargs=3, metavar=("FIRST_ADDR", "COUNT", "PORT"))
    p.add_argument("--style", choices=("legacy", "subsystem"), default="legacy")
    p.add_argument("--range-style", choices=("legacy", "subsystem", "mixed"))
    p.add_argument("--user", default="vigil")
    p.add_argument("--password", default="vigilpass")
    p.add_argument("--ready")
    p.add_argument("--ctl", metavar="FIFO")
    p.add_argument("--ctl-port", type=int)
    p.add_argument("--stats", metavar="FILE")
    p.add_argument("--log-entries", type=int, default=2)
    p.add_argument("--log-max", type=int, default=1000)
    p.add_argument("--page-size", type=int, default=50)
    p.add_argument("--session-timeout", type=int, default=1800)
    p.add_argument("--max-sessions", type=int, default=0)
    p.add_argument("--idle-timeout", type=float, default=60)
    p.add_argument("--sensor-events", action="store_true")
    p.add_argument("--backlog", type=int, default=128)
    p.add_argument("-v", "--verbose", action="store_true")
    o = p.parse_args(argv)
    if o.page_size < 1 or o.log_max < 1:
        p.error("--page-size and --log-max must be >= 1")
    return o


if __name__ == "__main__":
    OPT = parse_args(sys.argv[1:])
    VERBOSE = OPT.verbose
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
