"""Compare the XML infoset of a .NET binary XML body, as decoded by the independent `wcf` package (PyPI), with the
infoset of a text XML body. Usage: wcf_infoset.py BODY.bin BODY.xml

Both documents become the same event list: element starts (prefix, namespace, local name, namespace declarations,
attributes with QName values resolved), text, element ends. Typed binary text records are rendered as .NET's
XmlConvert writes them (wcf's own printing has known bugs, so its record values are used, not its text). A DateTime
is compared as (UTC instant, kind): the binary DateTime record carries no UTC offset, so a local time's offset exists
only in the text form. Exit 0 when equal, 1 with the first difference otherwise.
"""
import datetime
import logging
import struct
import sys
import xml.parsers.expat
from io import BytesIO

logging.disable(logging.CRITICAL)
from wcf.records.base import Record  # noqa: E402
from wcf.records import text, elements, attributes  # noqa: E402,F401  (importing registers the record types)

XSI = "http://www.w3.org/2001/XMLSchema-instance"
TICKS_AT_EPOCH = 621355968000000000


def dotnet_double(value, is_float=False):
    """double.ToString("R") as .NET Core writes it."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "INF" if value > 0 else "-INF"
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    if is_float:
        for precision in range(1, 10):
            candidate = "%.*e" % (precision - 1, value)
            if struct.unpack("<f", struct.pack("<f", float(candidate)))[0] == value:
                break
        mantissa, exponent = candidate.split("e")
    else:
        mantissa, exponent = ("%r" % value).lower().split("e") if "e" in repr(value) else (repr(value), "0")
    negative = mantissa.startswith("-")
    mantissa = mantissa.lstrip("-")
    integer, _, fraction = mantissa.partition(".")
    digits = (integer + fraction).lstrip("0")
    point = len(integer) + int(exponent) - (len(integer + fraction) - len((integer + fraction).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    if point > max(len(digits), 9 if is_float else 17) or point < -3:
        out = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        exp = point - 1
        out += "E" + ("-" if exp < 0 else "+") + ("%02d" % abs(exp))
    elif point <= 0:
        out = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        out = digits + "0" * (point - len(digits))
    else:
        out = digits[:point] + "." + digits[point:]
    return ("-" if negative else "") + out


def dotnet_decimal(d):
    digits = str(d.high * 2 ** 64 + d.low).rjust(d.scale + 1, "0")
    if d.scale:
        digits = digits[: -d.scale] + "." + digits[-d.scale:]
    return ("-" if d.sign and (d.high or d.low) else "") + digits


def datetime_key(ticks, kind):
    return "DateTime(%d,%s)" % (ticks, kind)


def parse_xml_datetime(value):
    """(UTC ticks or wall ticks, kind) of an xs:dateTime text, or None."""
    try:
        body, suffix = value, ""
        if value.endswith("Z"):
            body, suffix = value[:-1], "Z"
        elif len(value) > 6 and value[-6] in "+-" and value[-3] == ":":
            body, suffix = value[:-6], value[-6:]
        main, _, fraction = body.partition(".")
        moment = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S")
        if len(main) != 19 or (fraction and not fraction.isdigit()):
            return None
        ticks = (moment - datetime.datetime(1, 1, 1)) // datetime.timedelta(microseconds=1) * 10
        ticks += int((fraction + "0000000")[:7]) if fraction else 0
        if suffix == "Z":
            return datetime_key(ticks, "utc")
        if suffix:
            sign = -1 if suffix[0] == "-" else 1
            offset = sign * (int(suffix[1:3]) * 60 + int(suffix[4:6]))
            return datetime_key(ticks - offset * 600000000, "local")
        return datetime_key(ticks, "unspecified")
    except ValueError:
        return None


def canonical_text(value):
    """Text as compared: dates by instant and kind, everything else as written."""
    as_date = parse_xml_datetime(value)
    return as_date if as_date is not None else value


def record_text(record):
    name = type(record).__name__
    if name == "ZeroTextRecord":
        return "0"
    if name == "OneTextRecord":
        return "1"
    if name == "TrueTextRecord":
        return "true"
    if name == "FalseTextRecord":
        return "false"
    if name == "BoolTextRecord":
        return "true" if record.value else "false"
    if name in ("Int8TextRecord", "Int16TextRecord", "Int32TextRecord", "Int64TextRecord", "UInt64TextRecord"):
        return str(record.value)
    if name == "FloatTextRecord":
        return dotnet_double(record.value, is_float=True)
    if name == "DoubleTextRecord":
        return dotnet_double(record.value)
    if name == "DecimalTextRecord":
        return dotnet_decimal(record.value)
    if name == "DatetimeTextRecord":
        kind = {0: "unspecified", 1: "utc", 2: "local"}[record.tz & 3]
        return datetime_key(record.value, kind)
    if name in ("Chars8TextRecord", "Chars16TextRecord", "Chars32TextRecord",
                "UnicodeChars8TextRecord", "UnicodeChars16TextRecord", "UnicodeChars32TextRecord"):
        return canonical_text(record.value)
    if name == "EmptyTextRecord":
        return ""
    if name in ("UuidTextRecord", "UniqueIdTextRecord"):
        return str(record)
    if name.startswith("Bytes"):
        return str(record)
    raise ValueError("unexpected text record %s" % name)


class Scopes:
    def __init__(self):
        self.stack = [{"xml": "http://www.w3.org/XML/1998/namespace"}]

    def push(self, declarations):
        scope = dict(self.stack[-1])
        scope.update(declarations)
        self.stack.append(scope)

    def pop(self):
        self.stack.pop()

    def resolve(self, prefix):
        if prefix not in self.stack[-1]:
            raise ValueError("undeclared prefix %r" % prefix)
        return self.stack[-1][prefix]


def start_event(scopes, prefix, local, declarations, attributes):
    """declarations: [(prefix, uri)] in order; attributes: [(prefix, local, text)] in order."""
    scopes.push(dict(declarations))
    resolved = []
    for a_prefix, a_local, value in attributes:
        namespace = scopes.resolve(a_prefix) if a_prefix else ""
        if namespace == XSI and a_local == "type":
            q_prefix, _, q_local = value.rpartition(":")
            value = "{%s}%s" % (scopes.resolve(q_prefix), q_local)
        resolved.append((a_prefix, namespace, a_local, value))
    return ("start", prefix, scopes.resolve(prefix), local, tuple(declarations), tuple(resolved))


def binary_events(data):
    records = Record.parse(BytesIO(data))
    events, scopes = [], Scopes()

    def walk(record):
        kind = type(record).__name__
        if not hasattr(record, "childs"):
            events.append(("text", record_text(record)))
            return
        if "Dictionary" in kind:
            raise ValueError("dictionary record %s" % kind)
        prefix = getattr(record, "prefix", "") or ""
        declarations, plain = [], []
        for attribute in record.attributes:
            a_kind = type(attribute).__name__
            if a_kind == "ShortXmlnsAttributeRecord":
                declarations.append(("", attribute.value))
            elif a_kind == "XmlnsAttributeRecord":
                declarations.append((attribute.name, attribute.value))
            elif "Dictionary" in a_kind:
                raise ValueError("dictionary record %s" % a_kind)
            else:
                plain.append((getattr(attribute, "prefix", "") or "", attribute.name, record_text(attribute.value)))
        events.append(start_event(scopes, prefix, record.name, declarations, plain))
        for child in record.childs:
            walk(child)
        events.append(("end",))
        scopes.pop()

    for record in records:
        walk(record)
    return merge_text(events)


def xml_events(data):
    events, scopes = [], Scopes()
    parser = xml.parsers.expat.ParserCreate()  # namespace processing off: prefixes are resolved here
    parser.ordered_attributes = True

    def start(name, attrs):
        prefix, _, local = name.rpartition(":")
        declarations, plain = [], []
        for key, value in zip(attrs[0::2], attrs[1::2]):
            if key == "xmlns":
                declarations.append(("", value))
            elif key.startswith("xmlns:"):
                declarations.append((key[6:], value))
            else:
                a_prefix, _, a_local = key.rpartition(":")
                plain.append((a_prefix, a_local, canonical_text(value)))
        events.append(start_event(scopes, prefix, local, declarations, plain))

    def end(name):
        events.append(("end",))
        scopes.pop()

    def chars(data):
        events.append(("text", data))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    merged = merge_text(events)
    return [("text", canonical_text(e[1])) if e[0] == "text" else e for e in merged]


def merge_text(events):
    out = []
    for event in events:
        if event[0] == "text" and out and out[-1][0] == "text":
            out[-1] = ("text", out[-1][1] + event[1])
        elif event[0] == "text" and event[1] == "":
            continue
        else:
            out.append(event)
    return out


def main():
    binary = open(sys.argv[1], "rb").read()
    text_xml = open(sys.argv[2], "rb").read()
    left, right = binary_events(binary), xml_events(text_xml)
    for index, (a, b) in enumerate(zip(left, right)):
        if a != b:
            print("event %d differs:\n  binary (wcf): %r\n  xml:          %r" % (index, a, b))
            return 1
    if len(left) != len(right):
        print("binary has %d events, xml %d" % (len(left), len(right)))
        return 1
    starts = sum(1 for e in left if e[0] == "start")
    print("same infoset: %d events, %d elements" % (len(left), starts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
