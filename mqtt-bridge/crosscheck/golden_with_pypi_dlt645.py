"""Cross-checks our golden frames with an independent decoder: PyPI `dlt645` 3.2.0.

For every frame in testdata/golden.txt: the independent decoder must accept it, agree on
address, control code and de-offset data, and decode every numeric item to the value in our
expected JSON. Run by .ci/run in a throw-away virtualenv:

    python3 -m venv /tmp/v && /tmp/v/bin/pip install dlt645==3.2.0
    /tmp/v/bin/python mqtt-bridge/crosscheck/golden_with_pypi_dlt645.py
"""
import json
import pathlib
import sys
from decimal import Decimal

from dlt645.common.transform import bcd_to_float
from dlt645.protocol.protocol import DLT645Protocol

# (bytes, format) of the numeric identifiers in the golden file; bcd_to_float handles the sign bit.
FORMATS = {
    "00010000": (4, "XXXXXX.XX"),
    "02010100": (2, "XXX.X"),
    "02010200": (2, "XXX.X"),
    "02010300": (2, "XXX.X"),
    "02020100": (3, "XXX.XXX"),
    "00900200": (4, "XXXXXX.XX"),
    "01010000": (3, "XX.XXXX"),
}


def main() -> int:
    golden = pathlib.Path(__file__).resolve().parent.parent / "testdata" / "golden.txt"
    blocks = [b for b in golden.read_text().split("\n\n") if b.strip() and not b.startswith("#")]
    checked = 0
    for block in blocks:
        lines = [l for l in block.splitlines() if not l.startswith("#")]
        raw = bytes.fromhex(lines[0].replace(" ", ""))
        want = json.loads(lines[1])
        frame = DLT645Protocol.deserialize(raw)
        address = bytes(frame.addr)[::-1].hex().upper()
        assert address == want["address"], (address, want["address"])
        ctrl = frame.ctrl_code
        assert f"{ctrl & 0x1F:02X}" == want["control"]["function"], (hex(ctrl), want["control"])
        assert bool(ctrl & 0x80) == (want["control"]["direction"] == "reply")
        assert bool(ctrl & 0x40) == want["control"]["abnormal"]
        data = bytes(frame.data)
        offset = 4  # after the DI
        for item in want["items"]:
            if item["di"] not in FORMATS or item["value"] is None:
                continue
            size, fmt = FORMATS[item["di"]]
            value = bcd_to_float(data[offset:offset + size], fmt, endian="little")
            assert Decimal(str(value)) == Decimal(str(item["value"])), (item, value)
            offset += size
            checked += 1
    print(f"independent decoder agrees on {len(blocks)} frames and {checked} numeric items")
    return 0 if checked >= 7 else 1


if __name__ == "__main__":
    sys.exit(main())
