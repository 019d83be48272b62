//! VoltLedger's 3DES security profile `VL3DES-1` for sensitive commands (docs/CONTROL.md
//! "Security profile"): per-meter 2-key 3DES keys diversified from a tenant master key, the
//! command block encrypted with 3DES-CBC, a 4-byte ISO 9797-1 algorithm 3 ("retail") MAC over
//! the frame's header and payload, and a counter the meter requires to grow.
//!
//! It keeps the frame shape of the cost-control form (§4.2 of the reference notes): 0x1C with
//! PA = `98`, operator code, 16 bytes of ciphertext and the MAC. Byte order inside the block
//! is this profile's own (natural order, no ESAM reversal).

// `des` 0.8 (cipher 0.4) still speaks generic-array 0.14, deprecated in favour of 1.x.
#![allow(deprecated)]

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2};

use super::{CommandError, Control, Di, Frame, RelayAction, RemoteControl, function};
use crate::Address;

/// Privilege level byte marking a ciphertext + MAC command (§2.2).
pub const PROTECTED_LEVEL: u8 = 0x98;
/// Privilege level byte marking a plaintext + MAC write (§2.2).
pub const MAC_LEVEL: u8 = 0x99;
/// Recharge of a meter-side wallet (mirrors the cost-control `070102FF`).
pub const RECHARGE: Di = Di::new(0x07, 0x01, 0x02, 0xFF);

/// A 16-byte (2-key) 3DES key: a tenant master key or a meter's own key.
#[derive(Clone, PartialEq, Eq)]
pub struct Key([u8; 16]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    pub fn bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The meter's key: `3DES(master, D) ‖ 3DES(master, ¬D)`, D = `00 00` + the address's
    /// twelve digits as printed (most significant byte first).
    pub fn for_meter(&self, address: Address) -> Key {
        let [a0, a1, a2, a3, a4, a5] = address.to_wire();
        let d = [0, 0, a5, a4, a3, a2, a1, a0];
        let [l0, l1, l2, l3, l4, l5, l6, l7] = tdes_encrypt(self, d);
        let [r0, r1, r2, r3, r4, r5, r6, r7] = tdes_encrypt(self, d.map(|b| !b));
        Key([l0, l1, l2, l3, l4, l5, l6, l7, r0, r1, r2, r3, r4, r5, r6, r7])
    }

    fn halves(&self) -> ([u8; 8], [u8; 8]) {
        let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = self.0;
        ([a0, a1, a2, a3, a4, a5, a6, a7], [b0, b1, b2, b3, b4, b5, b6, b7])
    }
}

fn tdes(key: &Key) -> TdesEde2 {
    TdesEde2::new(GenericArray::from_slice(key.bytes()))
}

fn tdes_encrypt(key: &Key, block: [u8; 8]) -> [u8; 8] {
    let mut b = GenericArray::from(block);
    tdes(key).encrypt_block(&mut b);
    b.into()
}

/// 3DES-CBC with a zero IV over whole blocks.
fn cbc_encrypt(key: &Key, plain: &[u8; 16]) -> [u8; 16] {
    let cipher = tdes(key);
    let mut out = [0u8; 16];
    let mut chain = [0u8; 8];
    for (src, dst) in plain.chunks_exact(8).zip(out.chunks_exact_mut(8)) {
        let mut b = GenericArray::from(chain);
        b.iter_mut().zip(src).for_each(|(x, s)| *x ^= s);
        cipher.encrypt_block(&mut b);
        dst.copy_from_slice(&b);
        chain.copy_from_slice(&b);
    }
    out
}

fn cbc_decrypt(key: &Key, cipher_text: &[u8; 16]) -> [u8; 16] {
    let cipher = tdes(key);
    let mut out = [0u8; 16];
    let mut chain = [0u8; 8];
    for (src, dst) in cipher_text.chunks_exact(8).zip(out.chunks_exact_mut(8)) {
        let mut b = GenericArray::clone_from_slice(src);
        cipher.decrypt_block(&mut b);
        for ((d, x), c) in dst.iter_mut().zip(b.iter()).zip(chain) {
            *d = x ^ c;
        }
        chain.copy_from_slice(src);
    }
    out
}

/// ISO/IEC 9797-1 MAC algorithm 3 over data already padded to whole blocks: single-DES CBC
/// under the left half, then decrypt with the right half and encrypt with the left.
pub fn retail_mac_blocks(key: &Key, padded: &[u8]) -> [u8; 8] {
    let (k1, k2) = key.halves();
    let (left, right) = (Des::new(GenericArray::from_slice(&k1)), Des::new(GenericArray::from_slice(&k2)));
    let mut h = GenericArray::from([0u8; 8]);
    for block in padded.chunks(8) {
        h.iter_mut().zip(block).for_each(|(x, b)| *x ^= b);
        left.encrypt_block(&mut h);
    }
    right.decrypt_block(&mut h);
    left.encrypt_block(&mut h);
    h.into()
}

/// The profile's MAC: padding method 2 (`80` then zeros), the four leftmost bytes.
pub fn mac(key: &Key, data: &[u8]) -> [u8; 4] {
    let mut padded = data.to_vec();
    padded.push(0x80);
    while !padded.len().is_multiple_of(8) {
        padded.push(0);
    }
    let [m0, m1, m2, m3, ..] = retail_mac_blocks(key, &padded);
    [m0, m1, m2, m3]
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a protected frame was refused by the meter side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecureError {
    #[error("protected data has the wrong length {0}")]
    Length(usize),
    #[error("not a protected (PA=98) command")]
    NotProtected,
    #[error("MAC does not verify")]
    Mac,
    #[error("command block padding is wrong")]
    Padding,
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// A relay command sealed for one meter: `98 00 00 00 | C0..C3 | E(16) | MAC(4)`, where
/// E = 3DES-CBC(K, IV 0) of `N1 N2 N3..N8 | counter (4, LSB first) | 80 00 00 00` and the MAC
/// covers `address (wire order) | control code | C0..C3 | E`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedControl {
    pub operator: u32,
    pub action: RelayAction,
    pub deadline: chrono::NaiveDateTime,
    pub counter: u32,
}

impl SealedControl {
    pub fn frame(&self, address: Address, key: &Key) -> Result<Frame, CommandError> {
        let plain =
            RemoteControl { level: PROTECTED_LEVEL, password: 0, operator: self.operator, action: self.action, deadline: self.deadline };
        let header = plain.frame(address)?; // refuses broadcast and wildcard addresses
        let n: [u8; 16] = plain.to_data().try_into().map_err(|v: Vec<u8>| CommandError::Length(v.len()))?;
        let [_, _, _, _, _, _, _, _, n1, n2, n3, n4, n5, n6, n7, n8] = n;
        let [c0, c1, c2, c3] = self.counter.to_le_bytes();
        let e = cbc_encrypt(key, &[n1, n2, n3, n4, n5, n6, n7, n8, c0, c1, c2, c3, 0x80, 0, 0, 0]);
        let mut body = self.operator.to_le_bytes().to_vec();
        body.extend(e);
        let tag = mac(key, &mac_input(address, function::REMOTE_CONTROL, &body));
        let mut data = vec![PROTECTED_LEVEL, 0, 0, 0];
        data.extend(body);
        data.extend(tag);
        Ok(Frame::new(address, header.control, data))
    }

    /// The meter side: verifies the MAC, then decrypts and parses the command block.
    pub fn open(address: Address, data: &[u8], key: &Key) -> Result<Self, SecureError> {
        let bytes: [u8; 28] = data.try_into().map_err(|_| SecureError::Length(data.len()))?;
        let [level, _, _, _, o0, o1, o2, o3, e @ .., m0, m1, m2, m3] = bytes;
        if level != PROTECTED_LEVEL {
            return Err(SecureError::NotProtected);
        }
        let mut body = vec![o0, o1, o2, o3];
        body.extend(e);
        if !same(&mac(key, &mac_input(address, function::REMOTE_CONTROL, &body)), &[m0, m1, m2, m3]) {
            return Err(SecureError::Mac);
        }
        let [n1, n2, n3, n4, n5, n6, n7, n8, c0, c1, c2, c3, p0, p1, p2, p3] = cbc_decrypt(key, &e);
        if [p0, p1, p2, p3] != [0x80, 0, 0, 0] {
            return Err(SecureError::Padding);
        }
        let plain = [PROTECTED_LEVEL, 0, 0, 0, o0, o1, o2, o3, n1, n2, n3, n4, n5, n6, n7, n8];
        let rc = RemoteControl::from_data(&plain)?;
        let counter = u32::from_le_bytes([c0, c1, c2, c3]);
        Ok(Self { operator: rc.operator, action: rc.action, deadline: rc.deadline, counter })
    }
}

fn mac_input(address: Address, function: u8, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(7 + body.len());
    m.extend(address.to_wire());
    m.push(Control::request(function).to_byte());
    m.extend(body);
    m
}

/// A wallet recharge for a meter-side prepaid meter (0x03, DI `070102FF`):
/// `DI | C0..C3 | amount in fen (4, LSB first) | purchase count (4, LSB first) | MAC(4)`,
/// the MAC over `address | control code | DI | C0..C3 | amount | count`. The meter accepts a
/// count exactly one above the last it accepted (§2.3 "recharge count error" otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletRecharge {
    pub operator: u32,
    pub amount_fen: u32,
    pub count: u32,
}

impl WalletRecharge {
    pub fn frame(&self, address: Address, key: &Key) -> Result<Frame, CommandError> {
        if address.is_broadcast() || address.has_wildcard() {
            return Err(CommandError::Address);
        }
        let mut data = RECHARGE.to_wire().to_vec();
        data.extend(self.operator.to_le_bytes());
        data.extend(self.amount_fen.to_le_bytes());
        data.extend(self.count.to_le_bytes());
        let tag = mac(key, &mac_input(address, function::SECURITY, &data));
        data.extend(tag);
        Ok(Frame::new(address, Control::request(function::SECURITY), data))
    }

    pub fn open(address: Address, data: &[u8], key: &Key) -> Result<Self, SecureError> {
        let bytes: [u8; 20] = data.try_into().map_err(|_| SecureError::Length(data.len()))?;
        let [d0, d1, d2, d3, o0, o1, o2, o3, a0, a1, a2, a3, c0, c1, c2, c3, m0, m1, m2, m3] = bytes;
        if [d0, d1, d2, d3] != RECHARGE.to_wire() {
            return Err(SecureError::NotProtected);
        }
        let body = [d0, d1, d2, d3, o0, o1, o2, o3, a0, a1, a2, a3, c0, c1, c2, c3];
        if !same(&mac(key, &mac_input(address, function::SECURITY, &body)), &[m0, m1, m2, m3]) {
            return Err(SecureError::Mac);
        }
        Ok(Self {
            operator: u32::from_le_bytes([o0, o1, o2, o3]),
            amount_fen: u32::from_le_bytes([a0, a1, a2, a3]),
            count: u32::from_le_bytes([c0, c1, c2, c3]),
        })
    }
}

/// A parameter write (0x14) in plaintext under a MAC (PA = `99`):
/// `99 00 00 00 | C0..C3 | DI | value | counter (4, LSB first) | MAC (4)`, the MAC over
/// `address | control code | C0..C3 | DI | value | counter`. `item` is the DI followed by the
/// value as the codec encodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedWrite {
    pub operator: u32,
    pub item: Vec<u8>,
    pub counter: u32,
}

impl SealedWrite {
    pub fn frame(&self, address: Address, key: &Key) -> Result<Frame, CommandError> {
        if address.is_broadcast() || address.has_wildcard() {
            return Err(CommandError::Address);
        }
        let mut body = self.operator.to_le_bytes().to_vec();
        body.extend(&self.item);
        body.extend(self.counter.to_le_bytes());
        let tag = mac(key, &mac_input(address, function::WRITE, &body));
        let mut data = vec![MAC_LEVEL, 0, 0, 0];
        data.extend(body);
        data.extend(tag);
        Ok(Frame::new(address, Control::request(function::WRITE), data))
    }

    pub fn open(address: Address, data: &[u8], key: &Key) -> Result<Self, SecureError> {
        // level (4) + operator (4) + DI (4) + at least one value byte + counter (4) + MAC (4)
        if data.len() < 21 {
            return Err(SecureError::Length(data.len()));
        }
        let (head, rest) = data.split_at(4);
        if head.first() != Some(&MAC_LEVEL) {
            return Err(SecureError::NotProtected);
        }
        let (body, tag) = rest.split_at(rest.len() - 4);
        if !same(&mac(key, &mac_input(address, function::WRITE, body)), tag) {
            return Err(SecureError::Mac);
        }
        let (operator, rest) = body.split_at(4);
        let (item, counter) = rest.split_at(rest.len() - 4);
        let word = |b: &[u8]| -> Result<u32, SecureError> {
            let a: [u8; 4] = b.try_into().map_err(|_| SecureError::Length(data.len()))?;
            Ok(u32::from_le_bytes(a))
        };
        Ok(Self { operator: word(operator)?, item: item.to_vec(), counter: word(counter)? })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn key(hex: &str) -> Key {
        Key::from_bytes(hex::decode(hex).unwrap().try_into().unwrap())
    }

    #[test]
    fn retail_mac_matches_the_iso_9797_1_annex_values() {
        let k = key("0123456789ABCDEFFEDCBA9876543210");
        assert_eq!(hex::encode_upper(retail_mac_blocks(&k, b"Now is the time for all ")), "A1C72E74EA3FA9B6");
        let mut short = b"Now is the time for it".to_vec();
        short.resize(24, 0);
        assert_eq!(hex::encode_upper(retail_mac_blocks(&k, &short)), "2E2B1428CC78254F");
    }

    fn deadline() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(12, 5, 0).unwrap()
    }

    #[test]
    fn a_sealed_command_opens_with_the_meters_key_only() {
        let master = key("00112233445566778899AABBCCDDEEFF");
        let address = Address::from_u64(123_456_789_012).unwrap();
        let k = master.for_meter(address);
        assert_ne!(k, master.for_meter(Address::from_u64(123_456_789_013).unwrap()));
        let c = SealedControl { operator: 7, action: RelayAction::Trip, deadline: deadline(), counter: 41 };
        let f = c.frame(address, &k).unwrap();
        assert_eq!((f.control.to_byte(), f.data.len(), f.data[0]), (0x1C, 28, 0x98));
        assert_eq!(SealedControl::open(address, &f.data, &k).unwrap(), c);
        // Another meter's key, another address, or any flipped bit fails the MAC.
        assert_eq!(SealedControl::open(address, &f.data, &master), Err(SecureError::Mac));
        assert_eq!(SealedControl::open(Address::from_u64(9).unwrap(), &f.data, &k), Err(SecureError::Mac));
        for i in 4..28 {
            let mut bad = f.data.clone();
            bad[i] ^= 0x01;
            assert_eq!(SealedControl::open(address, &bad, &k), Err(SecureError::Mac), "byte {i}");
        }
        // The plain action byte is nowhere in the frame.
        assert!(!f.data[8..24].windows(2).any(|w| w == [0x1A, 0x00]));
        assert!(SealedControl::open(address, &f.data[..27], &k).is_err());
        assert!(c.frame(Address::BROADCAST, &k).is_err());
    }

    #[test]
    fn a_sealed_write_carries_its_item_and_counter_under_the_mac() {
        let address = Address::from_u64(6).unwrap();
        let k = key("00112233445566778899AABBCCDDEEFF").for_meter(address);
        let item =
            crate::items::encode_items(crate::Di(0x0400_1001), &[crate::Value::Number(rust_decimal::Decimal::new(5000, 2))]).unwrap();
        let w = SealedWrite { operator: 3, item: item.clone(), counter: 12 };
        let f = w.frame(address, &k).unwrap();
        assert_eq!((f.control.to_byte(), f.data[0]), (0x14, 0x99));
        assert_eq!(SealedWrite::open(address, &f.data, &k).unwrap(), w);
        let mut bad = f.data.clone();
        bad[12] ^= 1; // the value
        assert_eq!(SealedWrite::open(address, &bad, &k), Err(SecureError::Mac));
        assert!(SealedWrite::open(address, &f.data[..10], &k).is_err());
    }

    #[test]
    fn a_recharge_carries_amount_and_count_under_the_mac() {
        let k = key("00112233445566778899AABBCCDDEEFF").for_meter(Address::from_u64(5).unwrap());
        let address = Address::from_u64(5).unwrap();
        let r = WalletRecharge { operator: 1, amount_fen: 12_345, count: 3 };
        let f = r.frame(address, &k).unwrap();
        assert_eq!(WalletRecharge::open(address, &f.data, &k).unwrap(), r);
        let mut more = f.data.clone();
        more[8] = 0xFF; // a larger amount
        assert_eq!(WalletRecharge::open(address, &more, &k), Err(SecureError::Mac));
    }
}
