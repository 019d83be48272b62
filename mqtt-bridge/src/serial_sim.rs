//! A simulated serial server (F9): a TCP serial server in client mode with an RS-485 bus
//! behind it — plain DL/T 645 meters and Modbus-RTU meters on one line. It connects to the
//! collector, sends its registration packet (`username:password`), then answers what comes
//! down the line like the meters would: one request, one reply, nothing unasked.
//!
//! The Modbus meter holds Acrel DDSY1352's published registers (0000H total energy and
//! 0002H–0008H the TOU split in 0.01 kWh, 000BH voltage 0.1 V, 000CH current 0.01 A, 000DH
//! active power and 0010H power factor in thousandths, signed) and a relay coil at 0000H (on =
//! open). Its frames are parsed and built here by hand, independently of `tokio-modbus`, so
//! the collector's crate is tested against a second implementation.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::FixedOffset;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::dlt645;
use crate::port::Readings;
use crate::simulator::{Published, SimHandle, SimMeter, answer, local_now};

/// A meter on the bus.
#[derive(Debug, Clone)]
pub enum BusMeter {
    /// Answers DL/T 645 (e.g. `SimMeter::standard()`).
    Dlt645(SimMeter),
    /// Answers Modbus-RTU at unit = its address (1..=247).
    Modbus(SimMeter),
}

impl BusMeter {
    fn meter(&mut self) -> &mut SimMeter {
        match self {
            BusMeter::Dlt645(m) | BusMeter::Modbus(m) => m,
        }
    }
}

const CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);

fn with_crc(mut frame: Vec<u8>) -> Vec<u8> {
    let c = CRC.checksum(&frame);
    frame.extend(c.to_le_bytes());
    frame
}

/// The DDSY1352 registers of a meter's snapshot (truncated to each register's resolution).
pub fn ddsy1352_registers(r: &Readings) -> Vec<(u16, u16)> {
    let scaled = |v: Option<Decimal>, places: u32| -> i64 {
        v.map(|v| (v * Decimal::from(10i64.pow(places))).trunc()).and_then(|v| v.to_i64()).unwrap_or(0)
    };
    let mut out = Vec::new();
    let energies = [r.energy_total, r.energy_tariffs[0], r.energy_tariffs[1], r.energy_tariffs[2], r.energy_tariffs[3]];
    for (i, e) in energies.iter().enumerate() {
        let v = scaled(*e, 2) as u32;
        let at = (i as u16) * 2;
        out.push((at, (v >> 16) as u16));
        out.push((at + 1, v as u16));
    }
    out.push((0x000B, scaled(r.voltage[0], 1) as u16));
    out.push((0x000C, scaled(r.current[0], 2) as u16));
    out.push((0x000D, scaled(r.active_power, 3) as i16 as u16));
    out.push((0x0010, scaled(r.power_factor, 3) as i16 as u16));
    out
}

/// What the registers say, as the readings the platform should store from them.
fn registers_as_readings(regs: &[(u16, u16)]) -> Readings {
    let word = |a: u16| regs.iter().find(|(r, _)| *r == a).map(|(_, v)| *v).unwrap_or(0);
    let energy = |a: u16| Some(Decimal::new(i64::from((u32::from(word(a)) << 16) | u32::from(word(a + 1))), 2));
    Readings {
        energy_total: energy(0),
        energy_tariffs: [energy(2), energy(4), energy(6), energy(8)],
        voltage: [Some(Decimal::new(i64::from(word(0x0B)), 1)), None, None],
        current: [Some(Decimal::new(i64::from(word(0x0C)), 2)), None, None],
        active_power: Some(Decimal::new(i64::from(word(0x0D) as i16), 3)),
        power_factor: Some(Decimal::new(i64::from(word(0x10) as i16), 3)),
        ..Default::default()
    }
}

/// A Modbus meter's answer to one request frame (without its CRC checked: the caller did).
fn modbus_answer(meter: &mut SimMeter, req: &[u8], now: chrono::NaiveDateTime, handle: &SimHandle) -> Option<Vec<u8>> {
    let (&unit, &f) = (req.first()?, req.get(1)?);
    let a = u16::from_be_bytes([*req.get(2)?, *req.get(3)?]);
    let n = u16::from_be_bytes([*req.get(4)?, *req.get(5)?]);
    let exception = |code: u8| Some(with_crc(vec![unit, f | 0x80, code]));
    match f {
        3 | 4 => {
            let snapshot = meter.reading_at(now);
            let regs = ddsy1352_registers(&snapshot);
            let mut data = Vec::new();
            for r in a..a.saturating_add(n) {
                let Some((_, v)) = regs.iter().find(|(at, _)| *at == r) else { return exception(2) };
                data.extend(v.to_be_bytes());
            }
            if handle.keep_log
                && n >= 2
                && a == 0
                && let Ok(mut log) = handle.log.lock()
            {
                log.push(Published { device: "bus".into(), address: meter.address, at: now, values: registers_as_readings(&regs) });
            }
            let mut out = vec![unit, f, data.len() as u8];
            out.extend(data);
            Some(with_crc(out))
        }
        1 if a == 0 && n == 1 => Some(with_crc(vec![unit, 1, 1, u8::from(meter.relay_open)])),
        5 if a == 0 => {
            match n {
                0xFF00 => meter.relay_open = true,
                0x0000 => meter.relay_open = false,
                _ => return exception(3),
            }
            Some(with_crc(req.get(..6)?.to_vec()))
        }
        1 | 5 => exception(2),
        _ => exception(1),
    }
}

/// Connects to the collector as a serial server and answers its bus until the connection
/// ends (the collector closed it, or the task was aborted).
pub async fn run_bus(
    collector: SocketAddr,
    registration: &str,
    mut meters: Vec<BusMeter>,
    handle: SimHandle,
    clock_offset: FixedOffset,
) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(collector).await?;
    stream.set_nodelay(true)?;
    stream.write_all(format!("{registration}\n").as_bytes()).await?;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let mut chunk = [0u8; 512];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        let now = local_now(clock_offset);
        for m in meters.iter_mut() {
            let meter = m.meter();
            if let Some(f) = handle.meters.lock().ok().and_then(|x| x.get(&meter.address).copied()) {
                meter.faults = f;
            }
        }
        // A Modbus request is eight bytes with a valid CRC; anything else is DL/T 645.
        let modbus = buf.len() >= 8 && buf.get(..8).is_some_and(|f| CRC.checksum(f) == 0);
        let mut out = Vec::new();
        if modbus {
            let req: Vec<u8> = buf.drain(..8).collect();
            let unit = req.first().copied().unwrap_or(0);
            for m in meters.iter_mut() {
                if let BusMeter::Modbus(meter) = m
                    && meter.address.as_u64() == Some(u64::from(unit))
                    && !meter.faults.silent
                    && let Some(reply) = modbus_answer(meter, &req, now, &handle)
                {
                    out.extend(reply);
                }
            }
        } else {
            let scan = dlt645::scan(&buf);
            for frame in &scan.frames {
                for m in meters.iter_mut() {
                    if let BusMeter::Dlt645(meter) = m
                        && let Some(reply) = answer(meter, frame, now)
                    {
                        let _ = reply.write(&mut out);
                    }
                }
            }
            if !scan.frames.is_empty() || buf.len() > 1024 {
                buf.drain(..scan.consumed.min(buf.len()));
                if scan.frames.is_empty() {
                    buf.clear();
                }
            }
        }
        for m in meters.iter_mut() {
            let meter = m.meter();
            if let Ok(mut r) = handle.relays.lock() {
                r.insert(meter.address, (meter.relay_open, meter.hold_power));
            }
        }
        if !out.is_empty() {
            // 9600 baud: a reply takes a few milliseconds on the line.
            tokio::time::sleep(Duration::from_millis(5)).await;
            stream.write_all(&out).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::dlt645::Address;

    #[test]
    fn the_modbus_meter_answers_its_registers_its_coil_and_exceptions() {
        let handle = SimHandle::default();
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let mut m = SimMeter::new(Address::from_u64(7).unwrap(), false);
        // The textbook frame: unit 7, read holding 0000H, two registers.
        let req = with_crc(vec![7, 3, 0, 0, 0, 2]);
        assert_eq!(CRC.checksum(&req), 0, "a frame with its CRC checks to zero");
        let reply = modbus_answer(&mut m, &req, now, &handle).unwrap();
        assert_eq!((reply[0], reply[1], reply[2]), (7, 3, 4));
        let total = u32::from_be_bytes([reply[3], reply[4], reply[5], reply[6]]);
        assert_eq!(Some(Decimal::new(i64::from(total), 2)), m.reading_at(now).energy_total);
        let missing = modbus_answer(&mut m, &with_crc(vec![7, 3, 0, 0x0E, 0, 1]), now, &handle).unwrap();
        assert_eq!(&missing[..3], &[7, 0x83, 2]);
        let trip = modbus_answer(&mut m, &with_crc(vec![7, 5, 0, 0, 0xFF, 0]), now, &handle).unwrap();
        assert_eq!(&trip[..6], &[7, 5, 0, 0, 0xFF, 0]);
        assert!(m.relay_open);
        let coil = modbus_answer(&mut m, &with_crc(vec![7, 1, 0, 0, 0, 1]), now, &handle).unwrap();
        assert_eq!(&coil[..4], &[7, 1, 1, 1]);
        assert_eq!(&modbus_answer(&mut m, &with_crc(vec![7, 6, 0, 0, 0, 1]), now, &handle).unwrap()[..3], &[7, 0x86, 1]);
    }
}
