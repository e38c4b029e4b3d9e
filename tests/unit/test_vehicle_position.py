"""Where a vehicle is: NMEA and gpsd parsing, each kind of --gps source, and the on-disk spool."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecc.ingest.vehicle.gps import (
    FixedPosition,
    Gpsd,
    GpsSource,
    NmeaFile,
    NmeaSerial,
    open_gps,
    tpv_fix,
)
from ecc.ingest.vehicle.nmea import Assembler, Fix, checksum_ok, rmc, with_checksum
from ecc.ingest.vehicle.spool import Spool, SpoolBusy

# Sentences as a u-blox receiver (GP talker) and a BeiDou/GPS one (GN) send them.
RMC = with_checksum("GPRMC,083559.00,A,2954.0720,N,12150.7120,E,10.5,45.0,120726,,,A")
GGA = with_checksum("GPGGA,083559.00,2954.0720,N,12150.7120,E,1,09,0.9,12.0,M,,M,,")
GST = with_checksum("GNGST,083559.00,1.2,,,,2.0,3.0,4.0")
NEXT = with_checksum("GPRMC,083600.00,A,2954.0800,N,12150.7200,E,10.5,45.0,120726,,,A")


def test_checksums_are_checked() -> None:
    assert checksum_ok(RMC)
    assert checksum_ok("$GPRMC,083559.00,A,2954.0720,N,12150.7120,E,10.5,45.0,120726,,,A*55")
    assert not checksum_ok(RMC.replace("2954", "2955"))
    assert not checksum_ok(RMC.partition("*")[0])


def test_a_fix_is_assembled_per_epoch_with_its_accuracy() -> None:
    assembler = Assembler()
    assert assembler.feed(RMC) == []
    assert assembler.feed(GGA) == []
    # The next epoch completes the first: RMC's position and motion, GGA's HDOP as accuracy.
    [fix] = assembler.feed(NEXT)
    assert fix.ts == datetime(2026, 7, 12, 8, 35, 59, tzinfo=UTC).timestamp()
    assert fix.lat == pytest.approx(29 + 54.072 / 60)
    assert fix.lon == pytest.approx(121 + 50.712 / 60)
    assert fix.speed == pytest.approx(10.5 * 0.514444, abs=0.01) and fix.heading == 45.0
    assert fix.accuracy == pytest.approx(4.5)  # HDOP 0.9 x 5 m
    [last] = assembler.flush()
    assert last.ts == fix.ts + 1 and last.accuracy is None
    # GST, when sent, is the receiver's own error estimate.
    assembler.feed(RMC)
    assembler.feed(GGA)
    assembler.feed(GST)
    [fix] = assembler.flush()
    assert fix.accuracy == pytest.approx(3.6, abs=0.05)


def test_southern_and_western_void_and_broken_sentences() -> None:
    south = Fix(1_783_843_200.5, -33.8568, -151.2153, speed=None, heading=None)
    assembler = Assembler()
    assembler.feed(rmc(south))
    [fix] = assembler.flush()
    assert fix.lat == pytest.approx(south.lat, abs=2e-6)
    assert fix.lon == pytest.approx(south.lon, abs=2e-6)
    assert fix.ts == south.ts and fix.speed is None and fix.heading is None
    void = with_checksum("GPRMC,083559.00,V,,,,,,,120726,,,N")
    garbage = ["", "hello", "$GPRMC,1*00", with_checksum("GPRMC,xx,A,2954.0,N")]
    for line in [void, *garbage]:
        assert assembler.feed(line) == []
    assert assembler.flush() == []


def test_gpsd_reports() -> None:
    tpv = (
        b'{"class":"TPV","mode":3,"time":"2026-07-12T08:35:59.000Z","lat":29.9012,'
        b'"lon":121.8452,"speed":8.5,"track":90.0,"eph":6.2}'
    )
    fix = tpv_fix(tpv)
    assert fix == Fix(
        datetime(2026, 7, 12, 8, 35, 59, tzinfo=UTC).timestamp(), 29.9012, 121.8452, 8.5, 90.0, 6.2
    )
    assert tpv_fix(b'{"class":"TPV","mode":1}') is None  # no fix
    assert tpv_fix(b'{"class":"SKY","satellites":[]}') is None
    assert tpv_fix(b"not json") is None
    fix = tpv_fix(b'{"class":"TPV","mode":2,"lat":1.5,"lon":2.5,"epx":3.0,"epy":4.0}')
    assert fix is not None and fix.accuracy == 4.0 and fix.speed is None


def test_gps_sources_by_name(tmp_path: Path) -> None:
    assert isinstance(open_gps("fixed:29.9,121.8"), FixedPosition)
    assert isinstance(open_gps("29.9,121.8"), FixedPosition)
    gpsd = open_gps("gpsd://10.0.0.5:3000")
    assert isinstance(gpsd, Gpsd) and (gpsd.host, gpsd.port) == ("10.0.0.5", 3000)
    assert isinstance(open_gps("gpsd"), Gpsd)
    serial = open_gps("serial:/dev/ttyACM0?baud=9600")
    assert isinstance(serial, NmeaSerial) and (serial.device, serial.baud) == ("/dev/ttyACM0", 9600)
    assert isinstance(open_gps("/dev/ttyUSB0"), NmeaSerial)
    track = tmp_path / "t.nmea"
    track.write_text("", encoding="ascii")
    assert isinstance(open_gps(str(track)), NmeaFile)
    for bad in ("fixed:91,0", "fixed:x,y", "/nowhere/track.nmea", "serial:/dev/ttyS0?baud=1234"):
        with pytest.raises(ValueError):
            open_gps(bad)


async def first(source: GpsSource, n: int) -> list[Fix]:
    out: list[Fix] = []
    async with contextlib.aclosing(source.fixes()) as fixes:
        async for fix in fixes:
            out.append(fix)
            if len(out) == n:
                break
    return out


async def test_an_nmea_file_is_replayed_at_its_pace_in_the_present(tmp_path: Path) -> None:
    t0 = 1_783_843_200.0
    fixes = [Fix(t0 + i * 0.05, 29.9 + i * 1e-4, 121.8, speed=5.0) for i in range(4)]
    track = tmp_path / "drive.nmea"
    track.write_text("\n".join(rmc(f) for f in fixes) + "\n", encoding="ascii")
    loop = asyncio.get_running_loop()
    started = loop.time()
    replayed = await asyncio.wait_for(first(NmeaFile(track), 4), 5)
    assert [round(f.lat, 6) for f in replayed] == [round(f.lat, 6) for f in fixes]
    assert loop.time() - started >= 0.14  # three gaps of 50 ms
    # Timed now, not when the file was recorded: a replayed drive is a drive happening now.
    assert all(abs(f.ts - replayed[0].ts) < 5 for f in replayed)
    assert replayed[0].ts > t0


async def test_an_nmea_serial_port_read_with_termios(tmp_path: Path) -> None:
    """A pseudo-terminal stands in for the USB receiver: the same tty calls, a real device."""
    master, slave = os.openpty()
    tty.setraw(master)
    try:
        source = NmeaSerial(os.ttyname(slave), 9600)
        # Written before the port is opened: the terminal holds it, as a receiver's UART would.
        os.write(master, f"{RMC}\r\n{GGA}\r\n{NEXT}\r\n".encode())
        [fix] = await asyncio.wait_for(first(source, 1), 5)
        assert fix.accuracy == pytest.approx(4.5) and fix.heading == 45.0
    finally:
        os.close(master)
        os.close(slave)


async def test_gpsd_over_its_json_protocol() -> None:
    watched, gone = asyncio.Event(), asyncio.Event()

    async def gpsd(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(b'{"class":"VERSION","release":"3.25"}\n')
            line = await reader.readline()
            assert line.startswith(b"?WATCH=") and b'"enable":true' in line
            watched.set()
            writer.write(b'{"class":"TPV","mode":1}\n')
            writer.write(b'{"class":"TPV","mode":3,"lat":29.9,"lon":121.8,"track":10.0}\n')
            await writer.drain()
            await reader.read()  # until the client goes
        finally:
            writer.close()
            await writer.wait_closed()
            gone.set()

    server = await asyncio.start_server(gpsd, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        [fix] = await asyncio.wait_for(first(Gpsd("127.0.0.1", port), 1), 5)
        await asyncio.wait_for(gone.wait(), 5)
    assert watched.is_set()
    assert (fix.lat, fix.lon, fix.heading) == (29.9, 121.8, 10.0)


async def test_fixed_coordinates() -> None:
    fixes = await asyncio.wait_for(first(FixedPosition(29.9, 121.8), 1), 2)
    assert (fixes[0].lat, fixes[0].lon, fixes[0].speed) == (29.9, 121.8, 0.0)


def test_the_spool_keeps_positions_until_removed_and_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "positions.db"
    spool = Spool(path)
    fixes = [Fix(100.0 + i, 29.9, 121.8 + i, 3.0, 90.0, 5.0) for i in range(5)]
    assert all(spool.put(f) for f in reversed(fixes))
    assert not spool.put(Fix(100.0004, 1.0, 2.0))  # the same millisecond: kept once
    assert spool.count == 5
    assert spool.peek(2) == fixes[:2]
    spool.remove([f.ts for f in fixes[:2]])
    spool.remove([fixes[0].ts])  # an answer for it came twice
    assert spool.count == 3
    with pytest.raises(SpoolBusy):
        Spool(path)  # a second agent on the same vehicle's spool
    spool.close()
    again = Spool(path)
    assert again.count == 3 and again.peek(10) == fixes[2:]
    again.close()


def test_a_full_spool_drops_the_oldest(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "positions.db", max_positions=3)
    for i in range(5):
        spool.put(Fix(float(i), 0.0, 0.0))
    assert [f.ts for f in spool.peek(10)] == [2.0, 3.0, 4.0]
    assert spool.count == 3 and spool.dropped == 2
    spool.close()
